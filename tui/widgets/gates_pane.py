"""The Gates tab: the heatmap, the value under the cursor, and the text coloured by one unit."""

from __future__ import annotations

import functools

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from engine.models.lstm import GATE_NAMES
from tui import workers
from tui.bank import Slot
from tui.messages import TraceReady
from tui.widgets.gate_heatmap import GateHeatmap, cell_colour, display_scale, shown_char

MAX_TRACE_CHARS = 1000  # the gate view is read character by character; 5,000 would cost 700 MB and 2 s
HELP = "g gate · l layer · s unit order · arrows or click: cursor"


class UnitText(Static):
    """Each character of the text on the colour of one unit's value there (the LSTMVis view)."""

    DEFAULT_CSS = """
    UnitText { height: auto; max-height: 10; border: round $panel; padding: 0 1; }
    """

    def show(self, text: str, values: np.ndarray, gate: str, unit: int, layer: int, cursor_t: int) -> None:
        self.border_title = f"text coloured by unit {unit} ({GATE_NAMES[gate]}, layer {layer + 1})"
        out = Text()
        scale = float(display_scale(gate, values[:, None])[0])
        for t, ch in enumerate(text):
            style = Style(bgcolor=cell_colour(gate, values[t] / scale), color="white", underline=t == cursor_t)
            out.append(ch if ch != "\n" else "⏎\n", style=style)
        self.update(out)


class GatesPane(Widget):
    DEFAULT_CSS = """
    GatesPane { layout: vertical; }
    GatesPane #gate-info { height: 1; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(HELP, id="gate-info")
        yield GateHeatmap(id="heatmap")
        yield UnitText(id="unit-text")

    def __init__(self) -> None:
        super().__init__()
        self._timer = None  # a debounced trace of the seed being typed

    def trace(self, slot: Slot, text: str, delay: float = 0.0) -> None:
        """Trace the model's gates over text (its first MAX_TRACE_CHARS) in a thread worker, after
        ``delay`` seconds; a later request replaces any pending or running one."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(delay, lambda: self.trace(slot, text)) if delay else None
        if not delay:
            work = functools.partial(workers.trace, self.post_message, slot, text[:MAX_TRACE_CHARS])
            self.app.run_worker(work, thread=True, group="trace", exclusive=True, exit_on_error=False)

    @on(TraceReady)
    def set_trace(self, event: TraceReady) -> None:
        self.query_one(GateHeatmap).set_trace(event.text, event.arrays)

    @on(GateHeatmap.CursorMoved)
    def show_cursor(self, event: GateHeatmap.CursorMoved) -> None:
        heatmap = self.query_one(GateHeatmap)
        ch = shown_char(heatmap.text[event.t])
        self.query_one("#gate-info", Static).update(
            f"{GATE_NAMES[event.gate]}[layer {event.layer + 1}, unit {event.unit}] at char {event.t} "
            f"'{ch}' = {event.value:+.3f}   ·   {HELP}")
        values = heatmap.arrays[event.gate][:, event.layer, event.unit]
        self.query_one(UnitText).show(heatmap.text, values, event.gate, event.unit, event.layer, event.t)
