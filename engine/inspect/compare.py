"""Two texts compared, the memory experiment: two texts that differ in one place, and along the ending they share
after it, how much each model's prediction still moves (the KL divergence between its two predictions at each
character) and what each character costs it after either text. The span view's influence curve, on one text of
a person's own: an RNN's difference dies within a few characters, an LSTM's lasts, a Transformer's lasts as long
as its window."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.context import encode_text, next_log_probs
from shakes_tui.engine.models import CharModel

FAR = 32  # characters after the difference: where the summaries compare the models
PAIRS = [("king", "queen"), ("lord", "lady"), ("he", "she"), ("his", "her"), ("father", "mother"), ("son", "daughter"),
         ("romeo", "juliet"), ("julius", "marcus"), ("caesar", "brutus"), ("man", "maid"), ("love", "hate")]
SWAPS = {a: b for pair in PAIRS for a, b in (pair, pair[::-1])}


@dataclass
class Comparison:
    """Entry j of each array is the prediction made after reading ``shared[:j + 1]``, j + 1 characters after the
    difference, of the character ``shared[j + 1]``."""

    text_a: str  # the two texts as the model read them (characters outside its vocabulary dropped)
    text_b: str
    shared: str  # the ending the two texts share after their last difference (all of it, for equal texts)
    kl: np.ndarray  # (len(shared) - 1,) KL(p_a || p_b) nats
    loss_a: np.ndarray  # (len(shared) - 1,) -log p(shared[j + 1]) after text a's beginning
    loss_b: np.ndarray

    @property
    def distance(self) -> np.ndarray:
        """How many characters after the difference each entry's prediction is made (1, 2, ...)."""
        return np.arange(1, len(self.kl) + 1)

    def kl_at(self, distance: int) -> float | None:
        """The KL that many characters after the difference (None: the shared ending is shorter)."""
        return float(self.kl[distance - 1]) if 0 < distance <= len(self.kl) else None

    def to_json(self) -> dict:
        far = self.kl_at(FAR)
        return {"text_a": self.text_a, "text_b": self.text_b, "shared": self.shared,
                "differ_at_a": len(self.text_a) - len(self.shared), "differ_at_b": len(self.text_b) - len(self.shared),
                "kl": _rounded(self.kl), "loss_a": _rounded(self.loss_a), "loss_b": _rounded(self.loss_b),
                "mean_kl": round(float(self.kl.mean()), 6), f"kl_at_{FAR}": None if far is None else round(far, 6)}


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def shared_ending(a: torch.Tensor, b: torch.Tensor) -> int:
    """How many characters the two id sequences share at their ends, keeping at least one character of each before
    it (equal texts: all but the first)."""
    shared = 0
    while shared < min(a.numel(), b.numel()) - 1 and a[-1 - shared] == b[-1 - shared]:
        shared += 1
    return shared


def compare(model: CharModel, vocab: Vocab, text_a: str, text_b: str) -> Comparison:
    """What the model predicts along the texts' shared ending, after one beginning and after the other."""
    a, kept_a = encode_text(vocab, text_a)
    b, kept_b = encode_text(vocab, text_b)
    shared = shared_ending(a, b)
    if shared < 2:
        raise ShakesError("the two texts share too little after their difference: they must end alike, with at "
                          "least two characters after the last place they differ")
    # next_log_probs' entry i is the prediction made having read character i; the shared ending starts at len - shared
    pa = next_log_probs(model, a)[a.numel() - shared:]
    pb = next_log_probs(model, b)[b.numel() - shared:]
    target = a[a.numel() - shared + 1:]
    kl = F.kl_div(pb, pa, log_target=True, reduction="none").sum(-1).clamp_min(0.0)  # >= 0: below is rounding
    loss_a = -pa.gather(1, target[:, None])[:, 0]
    loss_b = -pb.gather(1, target[:, None])[:, 0]
    return Comparison(kept_a, kept_b, kept_a[len(kept_a) - shared:], kl.numpy(), loss_a.numpy(), loss_b.numpy())


def one_word_replaced(text: str) -> str:
    """text with one early word replaced: the first that has a partner in SWAPS (king -> queen, he -> she, ...),
    else the first word of three letters or more (its letters reversed, or with an 's' for a palindrome)."""
    words = list(re.finditer(r"[A-Za-z]+", text))
    for m in words:
        partner = SWAPS.get(m.group().lower())
        if partner is not None:
            return text[:m.start()] + _same_case(partner, m.group()) + text[m.end():]
    for m in words:
        word = m.group()
        if len(word) >= 3:
            other = word[::-1] if word[::-1] != word else word + "s"
            return text[:m.start()] + _same_case(other.lower(), word) + text[m.end():]
    raise ShakesError("no word of three letters or more to replace: give the second text yourself")


def _same_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word.capitalize() if like[0].isupper() else word
