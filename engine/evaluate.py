"""Validation loss over every character of a split, the way published numbers are measured.

Recurrent models read the split in order with their state carried from start to end.
Romeo reads consecutive, non-overlapping windows of its block size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.models import CharModel

RECURRENT_CHUNK = 4096  # characters per forward call; the state carries across chunks


@torch.inference_mode()
def split_loss(model: CharModel, ids: torch.Tensor, batch_windows: int = 32) -> float:
    """Mean cross-entropy (nats per character) of predicting ids[1:] from what came before."""
    model.eval()
    device = next(model.parameters()).device
    ids = ids.to(device)
    if model.is_recurrent:
        total, count = _recurrent_sum(model, ids)
    else:
        total, count = _windowed_sum(model, ids, model.config.block_size, batch_windows)
    return total / count


def _recurrent_sum(model: CharModel, ids: torch.Tensor) -> tuple[float, int]:
    total, count, state = 0.0, 0, None
    for start in range(0, ids.numel() - 1, RECURRENT_CHUNK):
        x = ids[start:start + RECURRENT_CHUNK][None]
        y = ids[start + 1:start + 1 + RECURRENT_CHUNK][None]
        x = x[:, :y.size(1)]
        logits, _, state = model(x, state=state)
        total += F.cross_entropy(logits[0].float(), y[0], reduction="sum").item()
        count += y.numel()
    return total, count


def _windowed_sum(model: CharModel, ids: torch.Tensor, block: int, batch_windows: int) -> tuple[float, int]:
    n_targets = ids.numel() - 1
    starts = list(range(0, n_targets, block))
    total = 0.0
    for i in range(0, len(starts), batch_windows):
        group = starts[i:i + batch_windows]
        full = [s for s in group if s + block <= n_targets]
        for xs, ys in _window_batches(ids, full, block) + _window_batches(ids, sorted(set(group) - set(full)), None):
            logits, _, _ = model(xs, targets=ys)
            total += F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), ys.reshape(-1),
                                     reduction="sum").item()
    return total, n_targets


def _window_batches(ids: torch.Tensor, starts: list[int], block: int | None):
    """Full windows stacked into one batch; the last, shorter window (block=None) on its own."""
    if not starts:
        return []
    if block is None:
        s = starts[0]
        return [(ids[s:-1][None], ids[s + 1:][None])]
    xs = torch.stack([ids[s:s + block] for s in starts])
    ys = torch.stack([ids[s + 1:s + 1 + block] for s in starts])
    return [(xs, ys)]
