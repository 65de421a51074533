"""Benvolio: the vanilla RNN, h_t = tanh(W_xh x_t + W_hh h_{t-1} + b).

Every step squashes the past through tanh and mixes it with the new character, so what
the model read long ago fades: the contrast Mercutio's gates are there to show.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from shakes_tui.engine.models.recurrent import RecurrentCharModel, RecurrentConfig
from torch import nn


@dataclass
class BenvolioConfig(RecurrentConfig):
    n_hidden: int = 280  # three layers of 280 with a 64-wide embedding: about 0.43 M parameters
    n_layer: int = 3  # deeper beat wider at this size (1.513 vs 1.538 validation loss, see weights/README.md)
    dropout: float = 0.05


class Benvolio(RecurrentCharModel):
    family = "benvolio"
    module_type = nn.RNN
    module_kwargs = {"nonlinearity": "tanh"}

    def step(self, x: torch.Tensor, state: torch.Tensor):
        hs = []
        for i in range(self.config.n_layer):
            w, b = self.fused_step_weights(i)
            x = torch.tanh(torch.addmm(b, torch.cat([x, state[i]], dim=1), w))  # (B, H)
            hs.append(x)
        return x, torch.stack(hs)
