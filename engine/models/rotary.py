"""Rotary positions (RoPE, Su et al. 2021): each query and key is turned by an angle that grows with its
position, so a query-key product depends on how far apart two characters are, not on where they are.
Nothing is learned, and a model reads position from its first step instead of learning it."""

from __future__ import annotations

import torch


def rotary_table(block_size: int, hs: int, base: float = 10000.0) -> torch.Tensor:
    """(2, block_size, hs/2): cos and sin of position p times base^(-2i/hs)."""
    angles = torch.arange(block_size, dtype=torch.float32)[:, None] * base ** (-torch.arange(0, hs, 2) / hs)
    return torch.stack([angles.cos(), angles.sin()])


def rotate(x: torch.Tensor, table: torch.Tensor | None) -> torch.Tensor:
    """Queries or keys (..., T, hs) turned by the angles of their positions: rows of ``table`` (2, T, hs/2),
    halves as in GPT-NeoX. Attention then depends on how far apart two characters are, not where they are."""
    if table is None:
        return x
    cos, sin = table
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
