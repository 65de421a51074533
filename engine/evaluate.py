"""Validation loss over every character of a split, the way published numbers are measured.

Recurrent models read the split in order with their state carried from start to end.
A model with a bounded context (Romeo) reads consecutive, non-overlapping windows of that length.
The ids may be memory-mapped (uint8/uint16, any length): each chunk is cast and moved to the model's
device as it is read.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from shakes_tui.engine.models import CharModel

RECURRENT_CHUNK = 4096  # characters per forward call; the state carries across chunks
Progress = Callable[[int, int], object]  # (characters predicted so far, characters to predict)


def _silent(done: int, total: int) -> None:
    pass


@torch.inference_mode()
def split_loss(model: CharModel, ids: torch.Tensor, batch_windows: int = 32,
               progress: Progress | None = None) -> float:
    """Mean cross-entropy (nats per character) of predicting ids[1:] from what came before; progress,
    if given, is told how far it has got after each forward call."""
    progress = progress or _silent
    model.eval()
    device = next(model.parameters()).device
    if model.is_recurrent:
        total, count = _recurrent_sum(model, ids, device, progress)
    else:
        total, count = _windowed_sum(model, ids, device, model.max_context() or RECURRENT_CHUNK, batch_windows,
                                     progress)
    return total / count


def _recurrent_sum(model: CharModel, ids: torch.Tensor, device: torch.device,
                   progress: Progress) -> tuple[float, int]:
    total, state, n_targets = 0.0, None, ids.numel() - 1
    for start in range(0, n_targets, RECURRENT_CHUNK):
        chunk = ids[start:start + RECURRENT_CHUNK + 1].to(device, torch.long)
        x, y = chunk[None, :-1], chunk[None, 1:]
        logits, _, state = model(x, state=state)
        total += _summed_loss(logits, y)
        progress(start + y.size(1), n_targets)
    return total, n_targets


def _windowed_sum(model: CharModel, ids: torch.Tensor, device: torch.device, block: int, batch_windows: int,
                  progress: Progress) -> tuple[float, int]:
    """Every full window, batch_windows at a time, then the one shorter window at the end."""
    n_targets = ids.numel() - 1
    full = list(range(0, n_targets - block + 1, block))
    total = 0.0
    for i in range(0, len(full), batch_windows):
        group = full[i:i + batch_windows]
        span = ids[group[0]:group[-1] + block + 1].to(device, torch.long)  # the group's windows, back to back
        xs, ys = span[:-1].view(len(group), block), span[1:].view(len(group), block)
        total += _summed_loss(model(xs, targets=ys)[0], ys)
        progress((i + len(group)) * block, n_targets)
    tail = len(full) * block
    if tail < n_targets:
        rest = ids[tail:].to(device, torch.long)
        total += _summed_loss(model(rest[None, :-1], targets=rest[None, 1:])[0], rest[None, 1:])
        progress(n_targets, n_targets)
    return total, n_targets


def _summed_loss(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), reduction="sum").item()
