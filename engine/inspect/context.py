"""What the measurements share: how far a model sees, and its predictions with all the context it can use."""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import CharModel, family_names, get_family


def first_family_with(capability: str, names: tuple[str, ...] | None = None) -> str | None:
    """The first registered family (of ``names``) whose models have a capability: has_gates, has_attention."""
    return next((n for n in (names or family_names()) if getattr(get_family(n).model_cls, capability)), None)


def device_of(model: CharModel) -> torch.device:
    return next(model.parameters()).device


@contextlib.contextmanager
def evaluating(model: CharModel):
    """Eval mode (no dropout) and no autograd for the duration; the model's mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def encode_text(vocab: Vocab, text: str, at_least: int = 2) -> tuple[torch.Tensor, str]:
    """The ids of the characters the vocabulary knows, and the text they spell (others are dropped)."""
    ids, _ = vocab.encode_lenient(text)
    if len(ids) < at_least:
        raise ShakesError(f"the text needs at least {at_least} characters the model knows (it has {len(ids)})")
    return torch.tensor(ids, dtype=torch.long), vocab.decode(ids)


def next_log_probs(model: CharModel, ids: torch.Tensor) -> torch.Tensor:
    """(T-1, V) log-probabilities of each next character of ``ids`` (T,) given all that precedes it.

    A recurrent model reads the text once from its initial state. A windowed model reads it in one window
    when it fits; otherwise in windows of its full context sliding by half of one, each character
    scored where it has at least half a window of context.
    """
    x = ids[:-1].to(device_of(model))
    limit = model.max_context()
    with evaluating(model):
        logits = _sliding_logits(model, x, limit or x.numel())
    return F.log_softmax(logits.float(), dim=-1).cpu()


def _sliding_logits(model: CharModel, x: torch.Tensor, window: int) -> torch.Tensor:
    """Logits (T, V) for x (T,): one window when it fits, else windows sliding by half a window."""
    parts, done, stride = [model(x[None, :window])[0][0]], window, max(1, window // 2)
    while done < x.numel():
        end = min(done + stride, x.numel())
        start = end - window
        parts.append(model(x[None, start:end])[0][0, done - start:])
        done = end
    return torch.cat(parts)
