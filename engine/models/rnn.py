"""Benvolio: the vanilla RNN, h_t = tanh(W_xh x_t + W_hh h_{t-1} + b).

Every step squashes the past through tanh and mixes it with the new character, so what
the model read long ago fades: the contrast Mercutio's gates are there to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from engine.models.recurrent import RecurrentCharModel, RecurrentConfig


@dataclass
class BenvolioConfig(RecurrentConfig):
    n_hidden: int = 360  # two layers of 360 with a 64-wide embedding: about 0.44 M parameters
    dropout: float = 0.1


class Benvolio(RecurrentCharModel):
    family = "benvolio"

    def make_layer(self, n_in: int, n_hidden: int) -> nn.Module:
        return nn.RNN(n_in, n_hidden, nonlinearity="tanh", batch_first=True)
