"""Surprise: how many nats each character costs a model, and what it expected instead."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.inspect.context import encode_text, next_log_probs
from shakes_tui.engine.models import CharModel


@dataclass
class Surprise:
    """Character j+1 of ``text`` cost ``loss[j]`` nats; ``top[j]`` is what the model expected there."""

    text: str  # the text as the model read it (characters outside its vocabulary dropped)
    loss: np.ndarray  # (len(text) - 1,) -log p(text[j+1] | text[:j+1])
    top: list[list[tuple[str, float]]]  # per scored character: the likeliest guesses with their probabilities

    @property
    def mean(self) -> float:
        return float(self.loss.mean())

    def to_json(self) -> dict:
        return {"text": self.text, "loss": [round(float(x), 4) for x in self.loss],
                "top5": [[[c, round(p, 4)] for c, p in row] for row in self.top], "mean": round(self.mean, 4)}


def surprise(model: CharModel, vocab: Vocab, text: str, k: int = 5) -> Surprise:
    ids, kept = encode_text(vocab, text)
    logp = next_log_probs(model, ids)  # (T-1, V)
    loss = -logp.gather(1, ids[1:, None])[:, 0]
    probs, guesses = torch.topk(logp.exp(), min(k, logp.size(1)), dim=1)
    top = [[(vocab.chars[g], float(p)) for g, p in zip(gs, ps, strict=True)]
           for gs, ps in zip(guesses.tolist(), probs.tolist(), strict=True)]
    return Surprise(kept, loss.numpy(), top)
