"""Train and validation loss against steps, every model overlaid in its own colour (textual-plot).

textual-plot maps the ends of the data range onto the axis lines, where they are drawn over (the
step-0 validation dot, the highest point, never showed). So the chart sets its own limits, one cell
wider than the data on each side, and its own ticks, as many as fit without running together.
"""

from __future__ import annotations

import math
from collections import defaultdict

from rich.markup import escape
from shakes_tui.engine import figures
from shakes_tui.engine.models import display_name
from shakes_tui.engine.runs import Eval, Event, Start, Train
from shakes_tui.tui.palette import colour
from textual.binding import Binding
from textual.reactive import reactive
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import NumericAxisFormatter

MOST_POINTS = 2000  # a curve drawn through more is thinned to these (braille draws two dots a column)
TITLE = "loss (nats/char) · ⠒ train · ● validation · ◆ best"


def nice_ticks(lo: float, hi: float, most: int) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) within [lo, hi]: the finest spacing that
    gives at most `most` of them; where that would leave only one, the first and last of the finer."""
    if hi <= lo:
        return [lo]
    finer: list[float] = []
    step = 10 ** math.floor(math.log10((hi - lo) / max(most, 1)))
    while True:
        for factor in (1, 2, 5):
            size = step * factor
            ticks = [round(k * size, 10) for k in range(math.ceil(lo / size), math.floor(hi / size) + 1)]
            if len(ticks) <= most:
                return [finer[0], finer[-1]] if len(ticks) < 2 and len(finer) >= 2 else ticks or [lo]
            finer = ticks
        step *= 10


def spaced_ticks(lo: float, hi: float, cols: int) -> list[float]:
    """Round steps whose labels, centred on their ticks, keep at least two blanks between them."""
    most = max(cols // 3, 1)
    while True:
        ticks = nice_ticks(lo, hi, most)
        room = cols / len(ticks) if len(ticks) > 1 else cols
        if most == 1 or room >= max(len(step_label(t)) for t in ticks) + 2:
            return ticks
        most -= 1


def step_label(step: float) -> str:
    """Steps as 0, 500, 2k, 12.5k: short enough to leave room between ticks."""
    if abs(step) < 1000:
        return f"{step:g}"
    return f"{step / 1000:g}k"


def thinned(points: list, most: int) -> list:
    """At most ``most`` of the points, evenly spaced, the first and last among them (a long history's
    200,000 points took 2 s to draw, on the event loop, for a chart a few hundred dots wide; 2,000 take 20 ms)."""
    if len(points) <= most:
        return points
    stride = (len(points) - 1) / (most - 1)
    return [points[round(k * stride)] for k in range(most)]


class StepFormatter(NumericAxisFormatter):
    def get_labels_for_ticks(self, ticks) -> list[str]:
        return [step_label(t) for t in ticks]


class LossChart(PlotWidget, inherit_bindings=False):
    DEFAULT_CSS = """
    LossChart { width: 1fr; height: 1fr; min-height: 8; border: round $panel; }
    LossChart:focus { border: round $accent; }
    """
    BINDINGS = [Binding("z", "toggle_zoom", "zoom to recent")]

    zoomed = reactive(False)  # the y axis spans only the latest half of the steps

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_pan_and_zoom=False, **kwargs)
        self.train_points: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.val_points: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._dirty = False

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = TITLE
        self.margin_top, self.margin_bottom, self.margin_left = 0, 1, 7
        self.set_x_formatter(StepFormatter())
        self.show_legend(is_visible=False)  # a legend box hides curves; the subtitle names the colours
        self.set_interval(0.5, self._redraw_if_dirty)  # many events, one redraw per half second

    def on_resize(self) -> None:
        self._dirty = True  # ticks and legend depend on the size

    def add_events(self, model: str, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, Start) and e.step == 0:  # a fresh (not resumed) run starts a fresh curve
                self.train_points[model].clear()
                self.val_points[model].clear()
            elif isinstance(e, Train):
                self.train_points[model].append((e.step, e.loss))
            elif isinstance(e, Eval):
                self.val_points[model].append((e.step, e.val_loss))
        self._dirty = True

    def figure(self) -> figures.Figure | None:
        """What x exports: every model's points (all steps, whatever the zoom)."""
        if not any(self.train_points.values()) and not any(self.val_points.values()):
            return None
        models = set(self.train_points) | set(self.val_points)
        return figures.loss(dict(self.train_points), dict(self.val_points), {m: display_name(m) for m in models})

    def action_toggle_zoom(self) -> None:
        self.zoomed = not self.zoomed

    def watch_zoomed(self) -> None:
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self.redraw()

    def best_validation(self, model: str) -> tuple[int, float] | None:
        points = self.val_points.get(model)
        return min(points, key=lambda p: p[1]) if points else None

    def redraw(self) -> None:
        self.clear()
        models = sorted(m for m in set(self.train_points) | set(self.val_points)
                        if self.train_points[m] or self.val_points[m])
        drawn = [p for model in models for p in self._draw_model(model, colour(model))]
        self._fit_axes(drawn)
        self.border_subtitle = self.key_text(models)
        self.refresh()

    def key_text(self, models: list[str]) -> str:
        """Each model in its colour with its best validation loss, then what z does (console markup)."""
        parts = []
        for model in models:
            best = self.best_validation(model)
            found = f" ◆ {best[1]:.3f} @{int(best[0]):,}" if best else ""  # a step, not a tick: 1,088 (not 1.088k)
            parts.append(f"[{colour(model)}]{escape(model)}[/]{found}")  # a name from a run's file: never markup
        zoom = "z: all steps" if self.zoomed else "z: zoom to the latest half"
        return " · ".join([*parts, zoom])

    def _draw_model(self, model: str, tint: str) -> list[tuple[int, float]]:
        """Draw a model's curves; the points drawn."""
        train, val = thinned(self.train_points[model], MOST_POINTS), thinned(self.val_points[model], MOST_POINTS)
        if train:
            steps, losses = zip(*train, strict=True)
            self.plot(steps, losses, line_style=tint, hires_mode=HiResMode.BRAILLE, label=f"{model} train")
        if val:
            steps, losses = zip(*val, strict=True)
            self.scatter(steps, losses, marker="●", marker_style=f"bold {tint}", label=f"{model} val")
            step, loss = best = self.best_validation(model)
            self.scatter([step], [loss], marker="◆", marker_style=f"bold {tint} reverse")
            val = [*val, best]  # drawn whether or not thinning kept it
        return train + val

    def _fit_axes(self, points: list[tuple[int, float]]) -> None:
        """Limits one cell beyond the data (so no point lands on an axis line); ticks that fit."""
        if not points:
            self.set_xlimits(0, 1)
            self.set_ylimits(0, 1)
            self.set_xticks([])
            self.set_yticks([])
            return
        cols = max(self.content_size.width - self.margin_left - 2, 4)
        rows = max(self.content_size.height - self.margin_top - self.margin_bottom - 2, 2)
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        recent = [p[1] for p in points if p[0] >= (x0 + x1) / 2] if self.zoomed else []
        ys = recent or [p[1] for p in points]
        y0, y1 = min(ys), max(ys)
        if x1 == x0:
            x0, x1 = x0 - 1, x1 + 1
        if y1 - y0 < 0.01:  # one point, or a flat line: show a small band around it
            y0, y1 = y0 - 0.05, y1 + 0.05
        x_pad, y_pad = (x1 - x0) / (cols - 2), (y1 - y0) / (rows - 1)
        self.set_xlimits(x0 - x_pad, x1 + x_pad)
        self.set_ylimits(y0 - y_pad, y1 + y_pad)
        self.set_xticks(spaced_ticks(max(x0, 0), x1, cols))
        y_ticks = nice_ticks(y0, y1, max(2, rows // 3))
        self.set_yticks(y_ticks)
        margin = max(len(label) for label in self._y_formatter.get_labels_for_ticks(y_ticks)) + 2
        if margin != self.margin_left:  # the plot canvas changes size: lay out, then draw again
            self.margin_left = margin
            self.refresh(layout=True)
            self._dirty = True
