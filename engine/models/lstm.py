"""Mercutio: the LSTM, and ``trace`` which shows its gates character by character.

    f_t = sigmoid(W_f [x_t, h_{t-1}] + b_f)   forget gate: how much of the old cell to keep
    i_t = sigmoid(W_i [x_t, h_{t-1}] + b_i)   input gate: how much of the candidate to write
    g_t = tanh(W_g [x_t, h_{t-1}] + b_g)      candidate: what could be written
    o_t = sigmoid(W_o [x_t, h_{t-1}] + b_o)   output gate: how much of the cell to show
    C_t = f_t * C_{t-1} + i_t * g_t           cell state: the memory that tanh never squashes
    h_t = o_t * tanh(C_t)                     hidden state: what the next layer and the head see
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.models.recurrent import RecurrentCharModel, RecurrentConfig

GATES = ("f", "i", "g", "o", "c", "h")
GATE_NAMES = {"f": "forget", "i": "input", "g": "candidate", "o": "output", "c": "cell", "h": "hidden"}


@dataclass
class MercutioConfig(RecurrentConfig):
    n_hidden: int = 512
    n_layer: int = 3
    dropout: float = 0.5  # 5.4 M parameters on 1 M characters overfit fast: 0.5 beat 0.3 and 0.45


class Mercutio(RecurrentCharModel):
    family = "mercutio"
    module_type = nn.LSTM
    has_gates = True

    def step(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        hs, cs = [], []
        for i in range(self.config.n_layer):
            w, b = self.fused_step_weights(i)
            i_, f, g, o = torch.addmm(b, torch.cat([x, state[0][i]], dim=1), w).chunk(4, dim=1)
            c = torch.sigmoid(f) * state[1][i] + torch.sigmoid(i_) * torch.tanh(g)
            x = torch.sigmoid(o) * torch.tanh(c)
            hs.append(x)
            cs.append(c)
        return x, (torch.stack(hs), torch.stack(cs))

    @torch.no_grad()
    def trace(self, idx: torch.Tensor) -> dict[str, np.ndarray]:
        """Gates and states for a sequence of character ids ``idx`` (T,), from a zero state.

        Returns arrays of shape (T, n_layer, n_hidden) under the keys f, i, g, o, c, h.
        Per layer: the fused LSTM runs once to give every h; all gates are then recomputed in
        one batched product from x_t and h_{t-1}; C comes from a parallel prefix scan.
        """
        was_training = self.training
        self.eval()
        x = self.embed(idx.reshape(1, -1))  # (1, T, E)
        per_layer = {k: [] for k in GATES}
        for i in range(self.config.n_layer):
            h_fused, _ = self.layer_view(i)(x)  # (1, T, H)
            gates = lstm_gates(self.layer_params(i), x[0], h_fused[0])
            gates["c"] = linear_scan(gates["f"], gates["i"] * gates["g"])
            gates["h"] = gates["o"] * torch.tanh(gates["c"])
            for k in GATES:
                per_layer[k].append(gates[k])
            x = h_fused
        self.train(was_training)
        return {k: torch.stack(v, dim=1).numpy() for k, v in per_layer.items()}


def lstm_gates(p: dict[str, torch.Tensor], x: torch.Tensor, h: torch.Tensor) -> dict[str, torch.Tensor]:
    """All four gates of one LSTM layer (parameters p) for inputs x (T, E) and its outputs h (T, H)."""
    h_prev = torch.cat([h.new_zeros(1, h.size(1)), h[:-1]])  # (T, H): h_{t-1}, zero at t=0
    pre = x @ p["weight_ih_l0"].T + h_prev @ p["weight_hh_l0"].T + p["bias_ih_l0"] + p["bias_hh_l0"]
    i, f, g, o = pre.chunk(4, dim=-1)  # PyTorch's gate order
    return {"i": torch.sigmoid(i), "f": torch.sigmoid(f), "g": torch.tanh(g), "o": torch.sigmoid(o)}


def linear_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """c_t = a_t * c_{t-1} + b_t with c_{-1} = 0, along dim 0, in log2(T) vectorised steps.

    Hillis-Steele prefix scan: after the step of size s every position holds the composition
    of the 2s maps ending there. Products of forget gates only shrink, so nothing overflows.
    """
    step = 1
    while step < a.size(0):
        b = torch.cat([b[:step], b[step:] + a[step:] * b[:-step]])
        a = torch.cat([a[:step], a[step:] * a[:-step]])
        step *= 2
    return b
