"""Choosing where tensors live: CUDA, Apple's MPS, or the CPU."""

from __future__ import annotations

import torch

from engine.errors import ShakesError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ShakesError(f"unknown device {name!r}: use auto, cpu, cuda or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ShakesError("--device cuda was asked for, but no CUDA GPU is available")
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ShakesError("--device mps was asked for, but MPS is not available")
    return device
