"""Memory span: each model's loss when it may see only the last k characters, and how much the character k back
still moves its prediction; k on a log scale, the three models in one chart each."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from shakes_tui.engine import figures
from shakes_tui.engine.inspect.span import FAR, GONE, SpanResult
from shakes_tui.engine.models import display_name
from shakes_tui.tui.insight.messages import SpanReady
from shakes_tui.tui.palette import colour
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import AxisFormatter


class PowerFormatter(AxisFormatter):
    """An axis drawn in log_base units, labelled with the plain values (1, 4, 16, ... or 1, 0.1, 0.01)."""

    def __init__(self, base: float, step: int = 1) -> None:
        self.base, self.step = base, step

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        ticks = list(range(math.ceil(min_), math.floor(max_) + 1))
        step = max(self.step, math.ceil(len(ticks) / max_ticks))
        return [float(t) for t in ticks if t % step == 0]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [f"{self.base ** t:g}" for t in ticks]


MARKED = 24  # points: a curve with more is drawn as a line only (the dots would hide it)


class SpanChart(PlotWidget):
    DEFAULT_CSS = """
    SpanChart { width: 1fr; height: 1fr; min-height: 6; border: round $panel; }
    """

    def __init__(self, title: str, y_label: str, log_y: bool, x_label: str = "k (characters back)",
                 **kwargs) -> None:
        super().__init__(allow_pan_and_zoom=False, **kwargs)
        self.title, self.y_label, self.log_y, self.x_label = title, y_label, log_y, x_label

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = self.title
        self.set_xlabel(self.x_label)
        self.set_ylabel(self.y_label)
        self.set_x_formatter(PowerFormatter(2, step=2))
        if self.log_y:
            self.set_y_formatter(PowerFormatter(10))

    def draw(self, curves: dict[str, tuple[list[int], np.ndarray]]) -> None:
        self.clear()
        for name, (k, y) in curves.items():
            y = np.log10(np.maximum(y, 1e-6)) if self.log_y else y
            self.plot(np.log2(k), y, line_style=colour(name), hires_mode=HiResMode.BRAILLE)
            if len(k) <= MARKED:
                self.scatter(np.log2(k), y, marker="•", marker_style=colour(name))
        self.refresh()


class SpanView(Vertical):
    DEFAULT_CSS = """
    SpanView { height: 1fr; }
    SpanView #span-charts { height: 1fr; }
    SpanView #span-summary { height: auto; padding: 0 1; }
    """

    def __init__(self, names: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.names = names
        self.results: dict[str, SpanResult] = {}
        self.status: dict[str, str] = {name: "waiting" for name in names}

    def compose(self) -> ComposeResult:
        with Horizontal(id="span-charts"):
            yield SpanChart("loss when only the last k characters are seen", "nats/char", False, id="span-loss")
            yield SpanChart("influence of the character k back (KL, log)", "KL", True, id="span-influence")
        yield Static("", id="span-summary")

    def on_resize(self) -> None:
        self.redraw()  # the summary's form depends on the width

    def show(self, ready: SpanReady) -> None:
        """A worker's answer for one model: its curves, or why there are none."""
        if ready.result is None:
            self.set_status(ready.model, ready.error or "failed")
        else:
            self.set_result(ready.model, ready.result)

    def figure(self, sources: dict[str, str]) -> figures.Figure | None:
        """What x exports: the curves of every model measured so far."""
        if not self.results:
            return None
        return figures.span(self.results, {m: f"{display_name(m)} ({sources.get(m, 'shipped')})" for m in self.results})

    def set_status(self, name: str, status: str) -> None:
        self.status[name] = status
        self.results.pop(name, None)
        self.redraw()

    def set_result(self, name: str, result: SpanResult) -> None:
        self.results[name] = result
        self.status[name] = "done"
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#span-loss", SpanChart).draw({n: (r.context, r.loss) for n, r in self.results.items()})
        self.query_one("#span-influence", SpanChart).draw(
            {n: (r.context, r.influence) for n, r in self.results.items()})
        self.query_one("#span-summary", Static).update("\n".join(self.summary(n) for n in self.names))

    def summary(self, name: str) -> str:
        r = self.results.get(name)
        width = max(len(display_name(n)) for n in self.names) + 1
        label = f"[bold {colour(name)}]{display_name(name).ljust(width)}[/]"
        if r is None:
            return f"{label} {self.status[name]}"
        gone = f"k={r.influence_gone_at}" if r.influence_gone_at else f"not within {r.context[-1]}"
        far = f"{r.influence_at(FAR):.1e}"
        if self.size.width < 70:
            return f"{label} span {r.span or '>256'} · KL {FAR} back {far} · <{GONE:g} from {gone}"
        if self.size.width < 100:  # one line per model on a small terminal
            return (f"{label} span {r.span or '>256'} · loss {r.unlimited:.3f} · KL {FAR} back {far} · "
                    f"<{GONE:g} from {gone}")
        return (f"{label} span {r.span or '>256'} · unlimited {r.unlimited:.3f} · gain beyond 16 "
                f"{r.gain_beyond(16):+.3f} · influence {FAR} back {far} · below {GONE:g} nats from {gone}")
