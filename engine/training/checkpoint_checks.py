"""Checking a loaded checkpoint before anything is built from it.

torch.load(weights_only=True) runs no code, but what it returns is still a stranger's: every field
the trainer reads is checked here for presence, type and range (the model's config and tensors as
strictly as a weights file's), so a bad checkpoint is one clear line, never a KeyError deep inside.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import family_names, get_family
from shakes_tui.engine.weights import check_tensor_table, checked_config, expected_shapes

FIELDS = {  # what Trainer.checkpoint writes, and the type each must have
    "model": dict, "optimizer": dict, "step": int, "elapsed": float, "best_val": float, "train_config": dict,
    "model_config": dict, "batches": dict, "torch_rng": torch.Tensor, "cuda_rng": torch.Tensor,
}


def check_checkpoint(ckpt, where, train_keys: Iterable[str]) -> None:
    """Raise one ShakesError naming ``where`` unless ``ckpt`` is a checkpoint the trainer can resume."""
    try:
        _check(ckpt, set(train_keys))
    except ShakesError as exc:
        raise ShakesError(f"{where}: not a checkpoint this program can resume: {exc}") from None


def _check(ckpt, train_keys: set[str]) -> None:
    if not isinstance(ckpt, dict):
        raise ShakesError(f"it holds a {type(ckpt).__name__}, not a checkpoint")
    missing = [key for key in FIELDS if key not in ckpt]
    if missing:
        raise ShakesError(f"it lacks {', '.join(missing)}")
    for key, kind in FIELDS.items():
        value = ckpt[key]
        ok = isinstance(value, int | float) and not isinstance(value, bool) if kind is float else \
            isinstance(value, kind) and not isinstance(value, bool)
        if not ok:
            raise ShakesError(f"its {key} is a {type(value).__name__}, not a {kind.__name__}")
    if ckpt["step"] < 0 or not math.isfinite(ckpt["elapsed"]) or ckpt["elapsed"] < 0:
        raise ShakesError(f"its step ({ckpt['step']}) or elapsed time ({ckpt['elapsed']}) is out of range")
    unknown = set(ckpt["train_config"]) - train_keys
    if unknown:
        raise ShakesError(f"its training config has unknown settings {', '.join(sorted(map(str, unknown)))}")
    family = ckpt["train_config"].get("model")
    if family not in family_names():
        raise ShakesError(f"its model {family!r} is not one of {', '.join(family_names())}")
    config = checked_config(family, ckpt["model_config"])
    tensors = ckpt["model"]
    if not all(isinstance(t, torch.Tensor) for t in tensors.values()):
        raise ShakesError("its model holds something other than tensors")
    table = {name: {"shape": list(t.shape), "dtype": "F32" if t.is_floating_point() else "int"}
             for name, t in tensors.items()}
    check_tensor_table(table, expected_shapes(family, config), get_family(family).model_cls.optional_tensors)
    for name, t in tensors.items():
        if not torch.isfinite(t).all():
            raise ShakesError(f"its tensor {name} holds NaN or infinite values")
