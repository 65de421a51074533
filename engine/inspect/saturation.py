"""Gate saturation (Karpathy, Johnson and Fei-Fei, 2015): how often each of Mercutio's gate units is nearly
shut (below 0.1: left-saturated) or nearly open (above 0.9: right-saturated) over a text."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.context import device_of, encode_text
from shakes_tui.engine.models import CharModel
from shakes_tui.engine.models.lstm import GATE_NAMES

SIGMOID_GATES = ("f", "i", "o")  # the candidate g is a tanh in (-1, 1): "shut" and "open" do not apply
LOW, HIGH = 0.1, 0.9


@dataclass
class Saturation:
    chars: int  # characters the shares are over
    left: dict[str, np.ndarray]  # gate -> (n_layer, n_hidden): share of characters with the unit below 0.1
    right: dict[str, np.ndarray]  # gate -> (n_layer, n_hidden): share above 0.9

    def to_json(self) -> dict:
        """gates[name]["left"][l][u]; 'layers' names the layers as the app does (from 1)."""
        layers = next(iter(self.left.values())).shape[0] if self.left else 0
        return {"chars": self.chars, "layers": list(range(1, layers + 1)), "gates": {
            GATE_NAMES[g]: {"left": np.round(self.left[g], 4).tolist(), "right": np.round(self.right[g], 4).tolist()}
            for g in self.left}}


def saturation(model: CharModel, vocab: Vocab, text: str) -> Saturation:
    if not model.has_gates:
        raise ShakesError(f"{model.family} has no gates to measure (an LSTM such as Mercutio has)")
    ids, _ = encode_text(vocab, text, at_least=1)
    trace = model.trace(ids.to(device_of(model)))  # gate -> (T, n_layer, n_hidden)
    return Saturation(ids.numel(), {g: (trace[g] < LOW).mean(axis=0) for g in SIGMOID_GATES},
                      {g: (trace[g] > HIGH).mean(axis=0) for g in SIGMOID_GATES})
