"""Train and validation loss against steps, every model overlaid in its own colour (textual-plot)."""

from __future__ import annotations

from collections import defaultdict

from textual_plot import HiResMode, LegendLocation, PlotWidget

from engine.runs import Eval, Event, Start, Train
from tui.bank import colour


class LossChart(PlotWidget):
    DEFAULT_CSS = """
    LossChart { width: 1fr; height: 1fr; min-height: 8; border: round $panel; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_pan_and_zoom=False, **kwargs)
        self.train_points: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.val_points: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._dirty = False

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "loss (nats/char) · line = train, dots = validation"
        self.set_xlabel("step")
        self.set_ylabel("loss")
        self.show_legend(LegendLocation.TOPRIGHT)
        self.set_interval(0.5, self._redraw_if_dirty)  # many events, one redraw per half second

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

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self.redraw()

    def redraw(self) -> None:
        self.clear()
        for model in sorted(set(self.train_points) | set(self.val_points)):
            tint = colour(model)
            if self.train_points[model]:
                steps, losses = zip(*self.train_points[model], strict=True)
                self.plot(steps, losses, line_style=tint, hires_mode=HiResMode.BRAILLE,
                          label=f"{model} train")
            if self.val_points[model]:
                steps, losses = zip(*self.val_points[model], strict=True)
                self.scatter(steps, losses, marker="●", marker_style=f"bold {tint}", label=f"{model} val")
        self.refresh()
