"""Mercutio's gates as a heatmap: characters along x, units along y, one gate and layer at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from engine.models.lstm import GATE_NAMES

GATE_ORDER = ("f", "i", "g", "o", "c", "h")
UNIT_MODES = {
    "active": "most active (mean |value|)",
    "saturated": "most saturated (share near its limits)",
    "variable": "most variable (std over the text)",
    "index": "by index",
}
LABEL_WIDTH = 6


def display_scale(gate: str, values: np.ndarray) -> np.ndarray:
    """Per-unit divisor: 1 for gates and h (already in -1..1); C, unbounded, by its largest |value| here."""
    if gate != "c" or values.size == 0:
        return np.ones(values.shape[-1])
    return np.maximum(np.abs(values).max(axis=0), 1e-6)


def cell_colour(gate: str, value: float) -> Color:
    """Sigmoid gates (0..1): black to amber. g, h and scaled C (signed): blue, black, red."""
    if gate in ("f", "i", "o"):
        v = float(np.clip(value, 0.0, 1.0))
        return Color.from_rgb(20 + 235 * v, 20 + 180 * v, 20 + 40 * v)
    v = float(np.clip(value, -1.0, 1.0))
    if v >= 0:
        return Color.from_rgb(20 + 235 * v, 20 + 50 * v, 20 + 50 * v)
    return Color.from_rgb(20 + 60 * -v, 20 + 110 * -v, 20 + 235 * -v)


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


def shown_char(ch: str) -> str:
    return {"\n": "⏎", " ": "·", "\t": "⇥"}.get(ch, ch)


class GateHeatmap(Widget, can_focus=True):
    DEFAULT_CSS = """
    GateHeatmap { height: 1fr; border: round $panel; }
    GateHeatmap:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("g", "next_gate", "gate"),
        Binding("G", "previous_gate", "gate back", show=False),
        Binding("l", "next_layer", "layer"),
        Binding("s", "next_mode", "units"),
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

    # ---- data and selection ------------------------------------------------------------------
    def set_trace(self, text: str, arrays: dict[str, np.ndarray]) -> None:
        self.text, self.arrays = text, arrays
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
        self.units = rank_units(self.values(), self.gate, self.mode)
        if self.arrays:
            kind = "state" if self.gate in ("c", "h") else "gate"
            self.border_title = f"{GATE_NAMES[self.gate]} {kind} · layer {self.layer_no + 1}/{self.n_layers}"
            self.border_subtitle = UNIT_MODES[self.mode]
        self.cursor_row = min(self.cursor_row, max(len(self.units) - 1, 0))
        self._announce()
        self.refresh()

    def watch_gate(self) -> None:
        self._rank()

    def watch_layer_no(self) -> None:
        self._rank()

    def watch_mode(self) -> None:
        self._rank()

    @property
    def cursor_unit(self) -> int:
        return int(self.units[self.cursor_row]) if len(self.units) else 0

    def _announce(self) -> None:
        if self.arrays and len(self.text):
            value = float(self.values()[self.cursor_t, self.cursor_unit])
            self.post_message(self.CursorMoved(self.cursor_t, self.cursor_unit, value, self.gate, self.layer_no))

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

    def action_move(self, dt: int, drow: int) -> None:
        if not self.arrays:
            return
        self.cursor_t = int(np.clip(self.cursor_t + dt, 0, len(self.text) - 1))
        self.cursor_row = int(np.clip(self.cursor_row + drow, 0, len(self.units) - 1))
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

    def render(self) -> Text:
        if not self.arrays:
            return Text("Type a seed in the Generate tab: Mercutio's gates appear here.", style="italic dim")
        t0, row0 = self._window()
        cols = max(self.content_size.width - LABEL_WIDTH, 1)
        rows = max(self.content_size.height - 1, 1)
        visible_t = range(t0, min(t0 + cols, len(self.text)))
        out = Text(" " * LABEL_WIDTH)
        for t in visible_t:
            style = "reverse bold" if t == self.cursor_t else "bold"
            out.append(shown_char(self.text[t]), style=style)
        values = self.values()
        scale = display_scale(self.gate, values)
        for row in range(row0, min(row0 + rows, len(self.units))):
            unit = int(self.units[row])
            label_style = "reverse" if row == self.cursor_row else "dim"
            out.append("\n")
            out.append(f"{unit:>5} ", style=label_style)
            for t in visible_t:
                cursor = t == self.cursor_t and row == self.cursor_row
                bg = cell_colour(self.gate, values[t, unit] / scale[unit])
                out.append("▣" if cursor else " ", style=Style(bgcolor=bg, color="white"))
        return out
