"""Colour scales shared by the Insight views."""

from __future__ import annotations

from rich.color import Color

SURPRISE_TOP = 6.0  # nats: this surprise and above get the brightest colour


def heat(share: float) -> Color:
    """0 -> near black, 1 -> bright amber, through deep red."""
    v = min(max(share, 0.0), 1.0)
    return Color.from_rgb(25 + 230 * v, 25 + 190 * v * v, 30 + 20 * v)


def surprise_colour(nats: float) -> Color:
    return heat(nats / SURPRISE_TOP)


def shown(ch: str) -> str:
    """A character as one visible cell: a newline as ⏎, a space as a middle dot where it must show."""
    return {"\n": "⏎", "\t": "→"}.get(ch, ch)
