"""The Gates tab: the heatmap, the value under the cursor, and the text coloured by one unit."""

from __future__ import annotations

import functools

import numpy as np
from rich.text import Text
from shakes_tui.engine.inspect.cells import STATE_NAMES
from shakes_tui.engine.models import display_name
from shakes_tui.engine.models.lstm import GATE_NAMES
from shakes_tui.tui import workers
from shakes_tui.tui.bank import Slot
from shakes_tui.tui.export import EXPORT
from shakes_tui.tui.messages import CellFound, TraceReady
from shakes_tui.tui.palette import append_on, cell_colour, shown
from shakes_tui.tui.widgets.gate_heatmap import GateHeatmap, display_scale
from textual import on
from textual.app import ComposeResult
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Static

MAX_TRACE_CHARS = 1000  # the gate view is read character by character; 5,000 would cost 700 MB and 2 s
HELP = "g gate · l layer · s unit order · c cells that track something · arrows or click: cursor"


class UnitText(Static):
    """Each character of the text on the colour of one unit's value there (the LSTMVis view)."""

    DEFAULT_CSS = """
    UnitText { height: auto; max-height: 10; border: round $panel; padding: 0 1; }
    """

    def show(self, text: str, values: np.ndarray, gate: str, unit: int, layer: int, cursor_t: int) -> None:
        self.border_title = f"text coloured by unit {unit + 1} ({GATE_NAMES[gate]}, layer {layer + 1})"
        out = Text()
        scale = float(display_scale(gate, values[:, None])[0])
        for t, ch in enumerate(text):
            bg = cell_colour(gate, values[t] / scale)
            append_on(out, ch, bg, underline=t == cursor_t)
        self.update(out)


class GatesPane(Widget):
    BINDINGS = [EXPORT]
    DEFAULT_CSS = """
    GatesPane { layout: vertical; }
    GatesPane #gate-info { height: 1; padding: 0 1; }
    GatesPane #gate-source { height: 1; padding: 0 1; color: $warning; display: none; }
    GatesPane GateHeatmap { min-height: 4; }
    """

    def compose(self) -> ComposeResult:
        yield Static(HELP, id="gate-info")
        yield Static("", id="gate-source")
        yield GateHeatmap(id="heatmap")
        yield UnitText(id="unit-text")

    def __init__(self) -> None:
        super().__init__()
        self._timer = None  # a debounced trace of the seed being typed
        self._full_length = 0  # characters of the text last sent to the trace, before the cut
        self._traced: Slot | None = None  # the model (and its weights' source) last sent to the trace
        self.found: tuple[tuple[str, int, int], str] | None = None  # the unit c found and its words, until left
        self.pending_feature: str | None = None  # a feature to find as soon as the next trace arrives

    def trace(self, slot: Slot, text: str, delay: float = 0.0) -> None:
        """Trace the model's gates over text (its first MAX_TRACE_CHARS) in a thread worker, after
        ``delay`` seconds; a later request replaces any pending or running one."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(delay, lambda: self.trace(slot, text)) if delay else None
        if not delay:
            self._full_length, self._traced = len(text), slot
            work = functools.partial(workers.trace, self.post_message, slot, text[:MAX_TRACE_CHARS])
            self.app.run_worker(work, thread=True, group="trace", exclusive=True, exit_on_error=False)

    def on_resize(self, event: Resize) -> None:
        """The coloured text takes at most a third of the tab; the heatmap, the main view, the rest."""
        self.query_one(UnitText).styles.max_height = max(3, event.size.height // 3)

    @on(TraceReady)
    def set_trace(self, event: TraceReady) -> None:
        """Show a trace; when the text was cut to MAX_TRACE_CHARS, say so."""
        heatmap = self.query_one(GateHeatmap)
        if event.text != heatmap.text:
            self.found = None  # a new text: c ranks again (the same text traced again keeps what c found)
        heatmap.set_trace(event.text, event.arrays)
        if self.pending_feature is not None:  # the tour's cell step: open on the unit that follows it
            heatmap.feature, self.pending_feature = self.pending_feature, None
            self.find_cell(heatmap.feature)
        cut = self._full_length > MAX_TRACE_CHARS  # not a seed's characters outside the vocabulary, left out
        self.query_one(UnitText).border_subtitle = (
            f"traced the first {MAX_TRACE_CHARS:,} of {self._full_length:,} characters" if cut else "")
        self.show_source(self._traced)

    def show_source(self, slot: Slot | None) -> None:
        """Weights other than the shipped ones (a live run's) are said, with the way back to the shipped ones."""
        live = slot is not None and slot.source != "shipped"
        source = self.query_one("#gate-source", Static)
        source.display = live
        if live:
            way_back = "b in Generate: back to shipped"
            source.update(f"{slot.name.capitalize()}: live weights · {way_back} · {slot.source}")

    def set_unavailable(self, model: str, reason: str) -> None:
        """The gated model has no weights (missing or damaged): say so instead of waiting for a seed."""
        self.query_one(GateHeatmap).set_unavailable(model, reason)
        self.query_one("#gate-info", Static).update(f"{display_name(model)} has no weights")

    def find_after_trace(self, feature: str | None) -> None:
        """Once the next trace arrives, put the cursor on the unit that best follows feature (None: do not)."""
        self.pending_feature = feature

    @on(GateHeatmap.FeatureChosen)
    def feature_chosen(self, event: GateHeatmap.FeatureChosen) -> None:
        self.find_cell(event.feature)

    def find_cell(self, feature: str) -> None:
        """Rank the traced units against the feature in a worker; CellFound puts the cursor on the best."""
        heatmap = self.query_one(GateHeatmap)
        states = {k: heatmap.arrays[k] for k in ("c", "h")}
        work = functools.partial(workers.find_cell, self.post_message, feature, states, heatmap.text)
        self.app.run_worker(work, thread=True, group="cells", exclusive=True, exit_on_error=False)

    @on(CellFound)
    def show_cell(self, event: CellFound) -> None:
        heatmap = self.query_one(GateHeatmap)
        if event.text != heatmap.text or event.feature != heatmap.feature:
            return  # a newer trace or feature since
        if event.cell is None:
            self.found = None
            self.query_one("#gate-info", Static).update(f"cells: {event.feature}: {event.why} · c next feature")
            return
        c = event.cell
        self.found = ((c.state, c.layer - 1, c.unit - 1), f"cells: {event.feature} → {STATE_NAMES[c.state]} · "
                      f"layer {c.layer} · unit {c.unit} · r = {c.correlation:+.2f}")
        heatmap.show_unit(*self.found[0])
    def figure(self):
        """The heatmap as a figure for slides, titled with the model and its weights."""
        slot = self._traced
        label = f"{display_name(slot.name)} ({slot.source or 'shipped'})" if slot else ""
        return self.query_one(GateHeatmap).figure(label)

    @on(GateHeatmap.CursorMoved)
    def show_cursor(self, event: GateHeatmap.CursorMoved) -> None:
        heatmap = self.query_one(GateHeatmap)
        ch = shown(heatmap.text[event.t], space=True)
        if self.found is not None and self.found[0] == (event.gate, event.layer, event.unit):
            line = f"{self.found[1]} · char {event.t} '{ch}' = {event.value:+.3f} · c next feature"
        else:
            line = (f"{GATE_NAMES[event.gate]} · layer {event.layer + 1} · unit {event.unit + 1} · char {event.t} "
                    f"'{ch}' = {event.value:+.3f}   ·   {HELP}")
        self.query_one("#gate-info", Static).update(line)
        values = heatmap.arrays[event.gate][:, event.layer, event.unit]
        self.query_one(UnitText).show(heatmap.text, values, event.gate, event.unit, event.layer, event.t)
