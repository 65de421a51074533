"""The shared body of Benvolio and Mercutio: embedding -> stacked recurrent layers -> linear head.

Each layer is its own fused ``torch.nn`` module so that every layer's hidden states can be
read (the gate trace needs them); between layers sits dropout, as in ``nn.LSTM(dropout=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.models.base import CharModel, State


@dataclass
class RecurrentConfig:
    vocab_size: int = 65  # set from the corpus
    n_embd: int = 64  # width of the character embedding
    n_hidden: int = 384  # width of each recurrent layer
    n_layer: int = 2  # stacked recurrent layers
    dropout: float = 0.0  # between layers and before the head, training only


class RecurrentCharModel(CharModel):
    is_recurrent = True

    def __init__(self, config: RecurrentConfig) -> None:
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        widths = [config.n_embd] + [config.n_hidden] * (config.n_layer - 1)
        self.layers = nn.ModuleList(self.make_layer(w, config.n_hidden) for w in widths)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.n_hidden, config.vocab_size)
        self._step_cache: dict[int, tuple] = {}  # per layer: (weights' identity, [W_ih | W_hh]^T, b)

    def make_layer(self, n_in: int, n_hidden: int) -> nn.Module:
        raise NotImplementedError

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, state: State = None):
        x = self.embed(idx)  # (B, T, E)
        states = state if state is not None else [None] * len(self.layers)
        new_states = []
        one_step = idx.size(1) == 1 and not torch.is_grad_enabled() and state is not None
        for i, (layer, s) in enumerate(zip(self.layers, states, strict=True)):
            if i > 0:
                x = self.drop(x)
            x, s = self.step_layer(i, layer, x, s) if one_step else layer(x, s)  # (B, T, H)
            new_states.append(s)
        logits = self.head(self.drop(x))  # (B, T, V)
        return logits, self.loss_of(logits, targets), new_states

    def fused_step_weights(self, i: int, layer: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """[W_ih | W_hh]^T and b_ih + b_hh of layer i, rebuilt whenever the weights change."""
        key = tuple((p.data_ptr(), p._version) for p in layer.parameters())
        cached = self._step_cache.get(i)
        if cached is None or cached[0] != key:
            w = torch.cat([layer.weight_ih_l0, layer.weight_hh_l0], dim=1).T.contiguous()
            cached = (key, w, (layer.bias_ih_l0 + layer.bias_hh_l0)[None])
            self._step_cache[i] = cached
        return cached[1], cached[2]

    def step_layer(self, i: int, layer: nn.Module, x: torch.Tensor, state):
        """One time step of layer i with plain matrix products (generation's hot path).

        The same arithmetic as the fused module; on CPU it avoids oneDNN's per-call setup,
        which costs milliseconds for a single character.
        """
        raise NotImplementedError

    def flops_per_char(self) -> float:
        # the embedding is a lookup, not a product: leave it out of the 6N count
        return 6.0 * (self.num_params() - self.embed.weight.numel())
