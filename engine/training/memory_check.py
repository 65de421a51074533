"""Will a training batch fit? A rough lower bound on its memory, checked before anything is allocated.

The estimate counts what a step must hold at once per character of the batch: the ids, the logits
(with their softmax and gradient) and each layer's activations for the backward pass. It is a lower
bound, so a refusal is certain; a batch that passes may still fail to allocate, which the trainer
reports as a failed run.
"""

from __future__ import annotations

import os

import torch
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import CharModel

FLOAT_BYTES = 4


def batch_bytes(model: CharModel, batch_size: int, seq_len: int) -> int:
    c = model.config
    width = getattr(c, "n_hidden", c.n_embd)
    gates = 4 if model.has_gates else 1  # an LSTM keeps four gates per unit
    per_char = 2 * 8 + FLOAT_BYTES * (3 * c.vocab_size + c.n_layer * width * gates)
    if hasattr(c, "n_head"):  # attention weights: one row of seq_len per head and layer
        per_char += FLOAT_BYTES * c.n_layer * c.n_head * seq_len
    return batch_size * seq_len * per_char


def available_bytes(device: torch.device) -> int | None:
    """Free memory on the device, or None where it cannot be told."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type == "cpu":
        try:
            with open("/proc/meminfo") as f:
                info = dict(line.split(":", 1) for line in f)
            return int(info["MemAvailable"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            try:
                return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            except (ValueError, OSError, AttributeError):
                return None
    return None


def check_batch_fits(model: CharModel, batch_size: int, seq_len: int, device: torch.device) -> None:
    need, free = batch_bytes(model, batch_size, seq_len), available_bytes(device)
    if free is not None and need > free:
        raise ShakesError(f"--batch-size {batch_size} with --seq-len {seq_len} needs at least {need / 2**30:,.1f} GiB "
                          f"and {device.type} has {free / 2**30:,.1f} GiB free: use a smaller --batch-size")
