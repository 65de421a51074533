"""Attention (Romeo's): for each layer and head, how much each character looks at each earlier one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.context import device_of, encode_text, evaluating
from shakes_tui.engine.models import CharModel


@dataclass
class Attention:
    text: str  # the characters attended over (the last window's worth of the text)
    weights: np.ndarray  # (n_layer, n_head, T, T): row q is where character q looks; each row sums to 1

    def to_json(self) -> dict:
        """weights[l][h][q][k]; 'layers' and 'heads' name them as the app and --layer/--head do (from 1)."""
        layers, heads = self.weights.shape[:2]
        return {"text": self.text, "layers": list(range(1, layers + 1)), "heads": list(range(1, heads + 1)),
                "weights": np.round(self.weights, 5).tolist()}


def attention(model: CharModel, vocab: Vocab, text: str) -> Attention:
    """The weights each block's attention gives, softmax(QK^T / sqrt(d)) under the causal mask (the model's own
    ``attention_maps``), over the last window's worth of the text."""
    if not model.has_attention:
        raise ShakesError(f"{model.family} has no attention to show (a Transformer such as Romeo has)")
    ids, _ = encode_text(vocab, text, at_least=1)
    window = model.max_context()
    ids = (ids if window is None else ids[-window:]).to(device_of(model))
    with evaluating(model):
        maps = model.attention_maps(ids)
    return Attention(vocab.decode(ids.tolist()), maps.float().cpu().numpy())
