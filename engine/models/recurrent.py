"""The shared body of Benvolio and Mercutio: embedding -> one fused multi-layer recurrent module -> head.

Every text starts from a learned initial state (``init_h``, and ``init_c`` for the LSTM), trained by resetting
streams to it at random places (engine/data/batches.py), so a model that starts on a seed has met where it starts.
Files written before the learned state existed have none: they load with zeros, the state they were trained from.

The fused ``torch.nn.RNN``/``nn.LSTM`` over all layers is the fastest way to train (one call,
dropout between layers inside it). Where one layer must be seen on its own (the gate trace),
``layer_view`` gives a one-layer module sharing that layer's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from shakes_tui.engine.models.base import CharModel, State
from torch import nn

LAYER_PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass
class RecurrentConfig:
    vocab_size: int = 65  # set from the corpus
    n_embd: int = 64  # width of the character embedding
    n_hidden: int = 384  # width of each recurrent layer
    n_layer: int = 2  # stacked recurrent layers
    dropout: float = 0.0  # between layers and before the head, training only


class RecurrentCharModel(CharModel):
    is_recurrent = True
    module_type: type[nn.RNNBase] = nn.RNN
    module_kwargs: dict = {}
    optional_tensors: tuple[str, ...] = ("init_h",)  # absent from older files: loaded as zeros

    def __init__(self, config: RecurrentConfig) -> None:
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.rnn = self.module_type(config.n_embd, config.n_hidden, config.n_layer, batch_first=True,
                                    dropout=config.dropout if config.n_layer > 1 else 0.0, **self.module_kwargs)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.n_hidden, config.vocab_size)
        self.init_h = nn.Parameter(torch.zeros(config.n_layer, 1, config.n_hidden))  # the learned start
        self._step_cache: dict[int, tuple] = {}  # per layer: (weights' identity, [W_ih | W_hh]^T, b)

    def initial_state(self, batch: int) -> State:
        """The learned state every text starts from, for ``batch`` rows (torch.nn's layout)."""
        return self.init_h.expand(-1, batch, -1).contiguous()

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """As nn.Module's, but a file from before the learned initial state loads with a zero one."""
        state_dict = dict(state_dict)
        for name in self.optional_tensors:
            if name not in state_dict:
                state_dict[name] = torch.zeros_like(getattr(self, name), device="cpu")
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, state: State = None):
        """state: the torch.nn format, h (n_layer, B, H) for the RNN, (h, C) for the LSTM."""
        x = self.embed(idx)  # (B, T, E)
        if state is None:
            state = self.initial_state(idx.size(0))
        if idx.size(1) == 1 and state is not None and not torch.is_grad_enabled():
            x, state = self.step(x[:, 0], state)  # generation's hot path
            x = x[:, None]
        else:
            x, state = self.rnn(x, state)  # (B, T, H)
        logits = self.head(self.drop(x))  # (B, T, V)
        return logits, self.loss_of(logits, targets), state

    def layer_params(self, i: int) -> dict[str, torch.Tensor]:
        return {f"{name}_l0": getattr(self.rnn, f"{name}_l{i}") for name in LAYER_PARAMS}

    def layer_view(self, i: int) -> nn.RNNBase:
        """A one-layer module computing layer i with the model's own parameters (shared, not copied)."""
        n_in = self.config.n_embd if i == 0 else self.config.n_hidden
        # on the meta device: no random initialisation of weights that are replaced at once
        view = self.module_type(n_in, self.config.n_hidden, batch_first=True, device="meta", **self.module_kwargs)
        for name, param in self.layer_params(i).items():
            setattr(view, name, param)  # RNNBase keeps its flat weight list in step
        return view.to(self.embed.weight.device)

    @torch.inference_mode()
    def hidden_states(self, idx: torch.Tensor) -> np.ndarray:
        """Each layer's hidden state h after every character of ``idx`` (T,), from the learned initial state:
        (T, n_layer, n_hidden), what a unit of each layer holds as the text is read."""
        was_training = self.training
        self.eval()
        x, start, out = self.embed(idx.reshape(1, -1)), self.initial_state(1), []
        for layer in range(self.config.n_layer):
            state = tuple(s[layer:layer + 1] for s in start) if isinstance(start, tuple) else start[layer:layer + 1]
            x = self.layer_view(layer)(x, state)[0]
            out.append(x[0])
        self.train(was_training)
        return torch.stack(out, dim=1).numpy(force=True)

    def fused_step_weights(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """[W_ih | W_hh]^T and b_ih + b_hh of layer i, rebuilt whenever the weights change."""
        p = self.layer_params(i)
        key = tuple((t.data_ptr(), t._version) for t in p.values())
        cached = self._step_cache.get(i)
        if cached is None or cached[0] != key:
            w = torch.cat([p["weight_ih_l0"], p["weight_hh_l0"]], dim=1).T.contiguous()
            cached = (key, w, (p["bias_ih_l0"] + p["bias_hh_l0"])[None])
            self._step_cache[i] = cached
        return cached[1], cached[2]

    def step(self, x: torch.Tensor, state: State):
        """One time step through every layer with plain matrix products: x (B, E) -> (B, H).

        The same arithmetic as the fused module; on CPU it avoids oneDNN's per-call setup,
        which costs milliseconds for a single character.
        """
        raise NotImplementedError

    def flops_per_char(self) -> float:
        # the embedding is a lookup, not a product: leave it out of the 6N count
        return 6.0 * (self.num_params() - self.embed.weight.numel())
