"""What every model shares: the loss, parameter counting, and helpers for recurrent state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

State = Any  # a tensor, or nested tuples/lists of tensors, or a model-specific object


def map_state(fn: Callable[[torch.Tensor], torch.Tensor], state: State) -> State:
    """Apply ``fn`` to every tensor of a nested tuple/list state."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return fn(state)
    return type(state)(map_state(fn, s) for s in state)


def zip_state(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], a: State, b: State) -> State:
    """Apply ``fn`` to the matching tensors of two states of the same structure."""
    if isinstance(a, torch.Tensor):
        return fn(a, b)
    return type(a)(zip_state(fn, x, y) for x, y in zip(a, b, strict=True))


class CharModel(nn.Module):
    """One interface for all three families: forward(idx, targets, state) -> (logits, loss, state)."""

    family: str = ""
    is_recurrent: bool = False  # True: state carries across calls and is worth keeping between batches
    autocast_ok: bool = False  # True: train under bf16 autocast on CUDA (recurrent cuDNN kernels stay fp32)
    has_gates: bool = False  # True: ``trace(idx)`` returns per-character gates and states (see lstm.py)
    inference_only: bool = False  # set on loaded models that nothing trains (engine/weights.py)
    has_attention: bool = False  # True: ``attention_maps(idx)`` returns each block's attention (transformer.py)
    optional_tensors: tuple[str, ...] = ()  # tensors older files may lack (they load with a default)

    def __init__(self, config) -> None:
        super().__init__()
        self.config = config

    @staticmethod
    def loss_of(logits: torch.Tensor, targets: torch.Tensor | None) -> torch.Tensor | None:
        if targets is None:
            return None
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))

    def prefill(self, idx: torch.Tensor):
        """Read a seed ``idx`` (B, T): the logits (B, V) for the character after it and the state to go on from."""
        logits, _, state = self(idx)
        return logits[:, -1], state

    def initial_state(self, batch: int) -> State:
        """The state a text starts from (None: the model starts from nothing, as a windowed one does)."""
        return None

    def max_context(self) -> int | None:
        """The longest sequence the model reads at once, or None when it carries state without limit."""
        return None

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops_per_char(self) -> float:
        """Training FLOPs per character, the usual 6 x parameters estimate (models may refine it)."""
        return 6.0 * self.num_params()
