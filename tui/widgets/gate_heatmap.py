"""Mercutio's gates as a heatmap: characters along x, units along y, one gate and layer at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text
from shakes_tui.engine import figures
from shakes_tui.engine.colours import MEANINGS
from shakes_tui.engine.inspect.cells import FEATURES
from shakes_tui.engine.models import display_name
from shakes_tui.engine.models.lstm import GATE_NAMES
from shakes_tui.tui.palette import cell_colour, shown, text_colour
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

GATE_ORDER = ("f", "i", "g", "o", "c", "h")
UNIT_MODES = {  # how the units are ordered: the title's words, and what they mean (for the help screen)
    "active": ("most active first", "mean |value| over the text"),
    "saturated": ("most saturated first", "share of characters near the gate's limits"),
    "variable": ("most variable first", "standard deviation over the text"),
    "index": ("by index", "unit 0 at the top"),
}
LABEL_WIDTH = 6


def display_scale(gate: str, values: np.ndarray) -> np.ndarray:
    """Per-unit divisor: 1 for gates and h (already in -1..1); C, unbounded, by its largest |value| here."""
    if gate != "c" or values.size == 0:
        return np.ones(values.shape[-1])
    return np.maximum(np.abs(values).max(axis=0), 1e-6)


LEGEND_CELLS = 9


def legend(gate: str, unit_scale: float) -> str:
    """The colour scale of a gate with its range, as console markup (for a border subtitle).
    C is drawn per unit against its own largest |value|, so its range is the cursor unit's."""
    lo = 0.0 if gate in MEANINGS else -1.0
    cells = "".join(f"[on {cell_colour(gate, lo + (1 - lo) * k / (LEGEND_CELLS - 1)).name}] [/]"
                    for k in range(LEGEND_CELLS))
    if gate in MEANINGS:
        low, high = MEANINGS[gate]
        return f" 0 {low} {cells} 1 {high} "
    span = unit_scale if gate == "c" else 1.0
    note = " (this unit's range)" if gate == "c" else ""
    return f" {-span:+.2f} {cells} {span:+.2f}{note} "


def rank_units(values: np.ndarray, gate: str, mode: str) -> np.ndarray:
    """Order the units of a (T, units) array by the chosen mode, most interesting first."""
    if mode == "index" or values.size == 0:
        return np.arange(values.shape[1])
    if mode == "active":
        score = np.abs(values).mean(axis=0)
    elif mode == "saturated":
        if gate in ("f", "i", "o"):
            score = ((values < 0.1) | (values > 0.9)).mean(axis=0)
        else:
            squashed = np.tanh(values) if gate == "c" else values
            score = (np.abs(squashed) > 0.9).mean(axis=0)
    else:
        score = values.std(axis=0)
    return np.argsort(-score, kind="stable")


FEATURE_ORDER = list(FEATURES)  # c cycles these (engine/inspect/cells.py)


class GateHeatmap(Widget, can_focus=True):
    DEFAULT_CSS = """
    GateHeatmap { height: 1fr; border: round $panel; }
    GateHeatmap:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("g", "next_gate", "gate"),
        Binding("G", "previous_gate", "gate back", show=False),
        Binding("l", "next_layer", "layer", show=False),
        Binding("s", "next_mode", "units", show=False),  # the line above names it; the footer keeps ? Help at 60
        Binding("c", "next_feature", "cells"),
        Binding("left", "move(-1, 0)", "←", show=False),
        Binding("right", "move(1, 0)", "→", show=False),
        Binding("up", "move(0, -1)", "↑", show=False),
        Binding("down", "move(0, 1)", "↓", show=False),
        Binding("home", "move(-100000, 0)", show=False),
        Binding("end", "move(100000, 0)", show=False),
    ]

    gate = reactive("f")
    layer_no = reactive(0)
    mode = reactive("active")
    cursor_t = reactive(0)
    cursor_row = reactive(0)

    @dataclass
    class FeatureChosen(Message):
        """c was pressed: show the unit that best follows this feature of the text."""

        feature: str

    @dataclass
    class CursorMoved(Message):
        t: int
        unit: int
        value: float
        gate: str
        layer: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.text = ""
        self.arrays: dict[str, np.ndarray] = {}
        self.units = np.arange(0)
        self.unavailable: tuple[str, str] | None = None  # (model, why) when there is nothing to trace
        self.feature = FEATURE_ORDER[-1]  # the feature c showed last (the first press shows the first)

    # ---- data and selection ------------------------------------------------------------------
    def set_trace(self, text: str, arrays: dict[str, np.ndarray]) -> None:
        self.text, self.arrays, self.unavailable = text, arrays, None
        self.layer_no = min(self.layer_no, self.n_layers - 1) if self.n_layers else 0
        self.cursor_t = min(self.cursor_t, max(len(text) - 1, 0))
        self._rank()

    @property
    def n_layers(self) -> int:
        return self.arrays["f"].shape[1] if self.arrays else 0

    def values(self) -> np.ndarray:
        """(T, units) values of the current gate and layer."""
        return self.arrays[self.gate][:, self.layer_no, :] if self.arrays else np.zeros((0, 0))

    def _rank(self) -> None:
        """Order the units afresh; the cursor stays on the unit it was on."""
        unit = self.cursor_unit if len(self.units) else None
        self.units = rank_units(self.values(), self.gate, self.mode)
        rows = np.flatnonzero(self.units == unit)
        self.cursor_row = int(rows[0]) if len(rows) else 0
        self._label()
        self._announce()
        self.refresh()

    def _label(self) -> None:
        if not self.arrays:
            return
        kind = "state" if self.gate in ("c", "h") else "gate"
        self.border_title = (f"{GATE_NAMES[self.gate]} {kind} · layer {self.layer_no + 1}/{self.n_layers}"
                             f" · {UNIT_MODES[self.mode][0]}")
        scale = display_scale(self.gate, self.values())
        self.border_subtitle = legend(self.gate, float(scale[self.cursor_unit]) if len(scale) else 1.0)

    def watch_gate(self) -> None:
        self._rank()

    watch_layer_no = watch_mode = watch_gate

    @property
    def cursor_unit(self) -> int:
        return int(self.units[self.cursor_row]) if len(self.units) else 0

    def _announce(self) -> None:
        if self.arrays and len(self.text):
            value = float(self.values()[self.cursor_t, self.cursor_unit])
            self.post_message(self.CursorMoved(self.cursor_t, self.cursor_unit, value, self.gate, self.layer_no))

    def figure(self, label: str) -> figures.Figure | None:
        """What x exports: the gate and layer shown, every unit in the order shown, over the whole text."""
        if not self.arrays:
            return None
        values = self.values()
        return figures.gates(self.text, self.gate, self.layer_no, self.n_layers, values,
                             display_scale(self.gate, values), self.units, UNIT_MODES[self.mode][0], label)

    # ---- keys -----------------------------------------------------------------------------------
    def action_next_gate(self) -> None:
        self.gate = GATE_ORDER[(GATE_ORDER.index(self.gate) + 1) % len(GATE_ORDER)]

    def action_previous_gate(self) -> None:
        self.gate = GATE_ORDER[(GATE_ORDER.index(self.gate) - 1) % len(GATE_ORDER)]

    def action_next_layer(self) -> None:
        if self.n_layers:
            self.layer_no = (self.layer_no + 1) % self.n_layers

    def action_next_mode(self) -> None:
        modes = list(UNIT_MODES)
        self.mode = modes[(modes.index(self.mode) + 1) % len(modes)]

    def action_next_feature(self) -> None:
        if self.arrays:
            self.feature = FEATURE_ORDER[(FEATURE_ORDER.index(self.feature) + 1) % len(FEATURE_ORDER)]
            self.post_message(self.FeatureChosen(self.feature))

    def show_unit(self, gate: str, layer: int, unit: int) -> None:
        """Put the cursor on one unit (from 0) of one state or gate and layer, wherever the order has it."""
        self.gate, self.layer_no = gate, layer  # each re-ranks, keeping the cursor's unit
        rows = np.flatnonzero(self.units == unit)
        self.cursor_row = int(rows[0]) if len(rows) else 0
        self._label()
        self._announce()
        self.refresh()

    def action_move(self, dt: int, drow: int) -> None:
        if not self.arrays:
            return
        self.cursor_t = int(np.clip(self.cursor_t + dt, 0, len(self.text) - 1))
        self.cursor_row = int(np.clip(self.cursor_row + drow, 0, len(self.units) - 1))
        if self.gate == "c":
            self._label()  # C's range is the cursor unit's own
        self._announce()
        self.refresh()

    def on_click(self, event) -> None:
        """Click a cell to put the cursor there."""
        t0, row0 = self._window()
        col, row = event.x - LABEL_WIDTH - 1, event.y - 2
        if self.arrays and col >= 0 and row >= 0:
            self.action_move(t0 + col - self.cursor_t, row0 + row - self.cursor_row)

    # ---- drawing ------------------------------------------------------------------------------
    def _window(self) -> tuple[int, int]:
        """First visible character and first visible unit row, keeping the cursor in view."""
        cols = max(self.content_size.width - LABEL_WIDTH, 1)
        rows = max(self.content_size.height - 1, 1)
        t0 = max(0, min(self.cursor_t - cols // 2, len(self.text) - cols))
        row0 = max(0, min(self.cursor_row - rows // 2, len(self.units) - rows))
        return t0, row0

    def set_unavailable(self, model: str, reason: str) -> None:
        """No model to trace (its weights are missing or damaged): say so instead of waiting for a seed."""
        self.unavailable = (display_name(model), reason)
        self.refresh()

    def render(self) -> Text:
        if not self.arrays:
            return placeholder(self.unavailable)
        t0, row0 = self._window()
        cols = max(self.content_size.width - LABEL_WIDTH, 1)
        rows = max(self.content_size.height - 1, 1)
        visible_t = range(t0, min(t0 + cols, len(self.text)))
        return draw(self.text, self.gate, self.values(), self.units[row0:row0 + rows], visible_t,
                    (self.cursor_t, self.cursor_unit))


def placeholder(unavailable: tuple[str, str] | None) -> Text:
    """What the heatmap says before there is a trace: why not, when the model has no weights."""
    if unavailable:
        model, reason = unavailable
        return Text(f"No {model} weights, so no gates to show: {reason}\n"
                    f"Train {model} in the Train tab (F2); live weights bring it here.", style="italic")
    return Text("Type a seed in the Generate tab: Mercutio's gates appear here.", style="italic dim")


def draw(text: str, gate: str, values: np.ndarray, units: np.ndarray, visible_t: range,
         cursor: tuple[int, int]) -> Text:
    """The characters on top, then one row per unit (labelled) of cells coloured by value; the
    cursor, (character, unit), reversed on the labels and marked ▣ in its cell."""
    out = Text(" " * LABEL_WIDTH)
    for t in visible_t:
        out.append(shown(text[t], space=True), style="reverse bold" if t == cursor[0] else "bold")
    scale = display_scale(gate, values)
    for unit in map(int, units):
        out.append("\n")
        out.append(f"{unit + 1:>5} ", style="reverse" if unit == cursor[1] else "dim")  # 1-based, as everywhere
        for t in visible_t:
            bg = cell_colour(gate, values[t, unit] / scale[unit])
            out.append("▣" if (t, unit) == cursor else " ", style=Style(bgcolor=bg, color=text_colour(bg)))
    return out
