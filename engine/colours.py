"""The colour scales the app and the exported figures share, as plain (r, g, b) values 0-255: defined once here,
wrapped as Rich colours in tui/palette.py and sampled into matplotlib colour maps in figures.py."""

from __future__ import annotations

import numpy as np
from shakes_tui.engine.models import family_names

RGB = tuple[float, float, float]
SURPRISE_TOP = 6.0  # nats: this surprise and above get the brightest colour
LAYER_COLOURS = ("#61afef", "#98c379", "#e5c07b", "#c678dd", "#e06c75")
FAMILY_COLOURS = ("#e5c07b", "#61afef", "#e06c75", "#98c379", "#c678dd")  # in registry order, then round again
SIGMOID_GATES = ("f", "i", "o")  # drawn 0..1; the candidate g and the states c and h are signed
MEANINGS = {"f": ("forget", "keep"), "i": ("ignore", "write"), "o": ("hide", "show")}  # a gate's 0 and 1


def heat(share: float) -> RGB:
    """0 -> near black, 1 -> bright amber, through deep red."""
    v = min(max(share, 0.0), 1.0)
    return 25 + 230 * v, 25 + 190 * v * v, 30 + 20 * v


def weight_heat(w: float) -> RGB:
    """An attention weight (0..1), on its square root: small weights stay visible next to a dominant one."""
    return heat(float(np.sqrt(max(w, 0.0))))


def cell(gate: str, value: float) -> RGB:
    """Sigmoid gates (0..1): black to amber. g, h and scaled C (signed): blue, black, red."""
    if gate in SIGMOID_GATES:
        v = float(np.clip(value, 0.0, 1.0))
        return 20 + 235 * v, 20 + 180 * v, 20 + 40 * v
    v = float(np.clip(value, -1.0, 1.0))
    if v >= 0:
        return 20 + 235 * v, 20 + 50 * v, 20 + 50 * v
    return 20 + 60 * -v, 20 + 110 * -v, 20 + 235 * -v


def family_colour(name: str) -> str:
    """A family's colour, by its place in the registry (a name not registered: the next place's)."""
    names = family_names()
    place = names.index(name) if name in names else len(names)
    return FAMILY_COLOURS[place % len(FAMILY_COLOURS)]


def layer_colour(layer: int) -> str:
    return LAYER_COLOURS[layer % len(LAYER_COLOURS)]
