"""The loss over every character of a split: each character scored once, with the context the model can use.

Recurrent models read the split in order with their state carried from start to end (from the learned initial
state). A model with a bounded context (Romeo) reads sliding windows of its block: windows start every ``stride``
characters (a quarter of the block by default) and each scores only the characters no window scored before, so
every character but the first block's is predicted from at least block - stride characters. With stride = block
the windows are consecutive and the j-th character of each sees only j before it (128 on average for a block of
256): the figure nanoGPT's estimate gives, kept as ``windows=True``.
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


def default_stride(block: int) -> int:
    return max(block // 4, 1)


@torch.inference_mode()
def split_loss(model: CharModel, ids: torch.Tensor, batch_windows: int = 32, progress: Progress | None = None,
               stride: int | None = None, windows: bool = False) -> float:
    """Mean cross-entropy (nats per character) of predicting ids[1:] from what came before; progress,
    if given, is told how far it has got after each forward call.

    A windowed model slides its window by ``stride`` (default: a quarter of its block); ``windows=True`` reads
    consecutive windows instead (stride = block). A recurrent model ignores both: its state carries throughout.
    """
    progress = progress or _silent
    model.eval()
    device = next(model.parameters()).device
    if model.is_recurrent:
        total, count = _recurrent_sum(model, ids, device, progress)
    else:
        block = model.max_context() or RECURRENT_CHUNK
        step = block if windows else min(stride or default_stride(block), block)
        total, count = _sliding_sum(model, ids, device, block, step, batch_windows, progress)
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


def _sliding_sum(model: CharModel, ids: torch.Tensor, device: torch.device, block: int, stride: int,
                 batch_windows: int, progress: Progress) -> tuple[float, int]:
    """Windows of ``block`` starting every ``stride`` characters, each scoring the targets after the last one
    scored: the first window all of its own, each later full window its last ``stride``, and one shorter window at
    the end (starting on the stride's grid) the rest. With stride = block: consecutive windows, the last shorter."""
    n_targets = ids.numel() - 1
    full = list(range(0, n_targets - block + 1, stride))  # windows that fit whole
    total, scored = 0.0, 0
    for i in range(0, len(full), batch_windows):
        group = torch.tensor(full[i:i + batch_windows])
        window = ids[(group[:, None] + torch.arange(block + 1)).to(ids.device)].to(device, torch.long)
        losses = _position_losses(model, window[:, :-1], window[:, 1:])  # (b, block)
        first = block - stride  # a later window's new targets
        total += losses[:, first:].sum().item() + (losses[0, :first].sum().item() if i == 0 else 0.0)
        scored = int(group[-1]) + block
        progress(scored, n_targets)
    if scored < n_targets:  # the end: one window from the next start on the grid, scoring what is left
        start = full[-1] + stride if full else 0
        rest = ids[start:].to(device, torch.long)[None]
        total += _position_losses(model, rest[:, :-1], rest[:, 1:])[0, scored - start:].sum().item()
        progress(n_targets, n_targets)
    return total, n_targets


def _position_losses(model: CharModel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = model(x)[0]
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), y.reshape(-1), reduction="none").view(y.shape)


def _summed_loss(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), reduction="sum").item()
