"""Choosing where tensors live: CUDA, Apple's MPS, or the CPU."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable

import torch
from shakes_tui.engine.errors import ShakesError


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


def compile_unavailable(device: torch.device) -> str | None:
    """Why torch.compile cannot be used on this device, or None when it can (CUDA with Triton and a C compiler)."""
    if device.type != "cuda":
        return f"--compile is for CUDA; training runs eagerly on {device.type}"
    if importlib.util.find_spec("triton") is None:
        return "--compile needs Triton (it comes with CUDA builds of PyTorch); training runs eagerly"
    if not any(shutil.which(cc) for cc in (os.environ.get("CC", ""), "cc", "gcc", "clang") if cc):
        return "--compile needs a C compiler (cc, gcc or clang); training runs eagerly"
    return None


def compiled(model: torch.nn.Module, device: torch.device, wanted: bool) -> tuple[Callable, str | None]:
    """The callable to train with: torch.compile(model) where it can run, else the model itself and why not.

    The model keeps its own parameters and state_dict either way, so checkpoints and weights do not change.
    A graph the compiler fails on falls back to eager execution (dynamo's suppress_errors) rather than stopping.
    """
    if not wanted:
        return model, None
    reason = compile_unavailable(device)
    if reason is not None:
        return model, reason
    import torch._dynamo

    torch._dynamo.config.suppress_errors = True
    return torch.compile(model), None
