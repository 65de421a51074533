"""Gate saturation, as in Karpathy, Johnson and Fei-Fei (2015): one dot per unit, x the share of characters on
which it is shut (< 0.1), y the share on which it is open (> 0.9); a panel per gate, a colour per layer."""

from __future__ import annotations

from rich.text import Text
from shakes_tui.engine import figures
from shakes_tui.engine.inspect.saturation import Saturation
from shakes_tui.engine.models import display_name
from shakes_tui.engine.models.lstm import GATE_NAMES
from shakes_tui.tui.palette import layer_colour
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual_plot import PlotWidget


class GateScatter(PlotWidget):
    DEFAULT_CSS = """
    GateScatter { width: 1fr; height: 1fr; min-height: 6; border: round $panel; }
    """

    def __init__(self, gate: str, **kwargs) -> None:
        super().__init__(allow_pan_and_zoom=False, **kwargs)
        self.gate = gate

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = f"{GATE_NAMES[self.gate]} gate"
        self.set_xlabel("share < 0.1")
        self.set_ylabel("share > 0.9")

    def draw(self, sat: Saturation) -> None:
        self.clear()
        for layer, (left, right) in enumerate(zip(sat.left[self.gate], sat.right[self.gate], strict=True)):
            self.scatter(left, right, marker="•", marker_style=layer_colour(layer))
        self.set_xlimits(0, 1)
        self.set_ylimits(0, 1)
        self.set_xticks([0, 0.5, 1])
        self.set_yticks([0, 0.5, 1])
        self.refresh()


class SaturationView(Vertical):
    SHOWS = "gates"
    DEFAULT_CSS = """
    SaturationView { height: 1fr; }
    SaturationView #saturation-info { height: auto; padding: 0 1; }
    SaturationView Horizontal { height: 1fr; }
    """

    def __init__(self, model: str | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = model  # whose gates are measured (None: no model has gates)
        self.unavailable = False  # it said its model had no weights
        self.shown: tuple[Saturation, str] | None = None  # the shares drawn, and whose weights they are from

    def compose(self) -> ComposeResult:
        waiting = f"waiting for {display_name(self.model)}…" if self.model else "no model has gates"
        yield Static(waiting, id="saturation-info")
        with Horizontal():
            for gate in ("f", "i", "o"):
                yield GateScatter(gate, id=f"scatter-{gate}")

    def figure(self) -> figures.Figure | None:
        """What x exports: the dots drawn."""
        if self.shown is None:
            return None
        sat, source = self.shown
        return figures.saturation(sat, f"{display_name(self.model)} ({source})")

    def show_unavailable(self, why: str) -> None:
        """Why there is nothing to draw; "" once the model has weights again (the view then waits for them)."""
        if not why and not self.unavailable:
            return  # new weights for a model that had some: keep the dots until the new ones come
        self.unavailable = bool(why)
        self.shown = None
        info = why or f"waiting for {display_name(self.model)}…"
        self.query_one("#saturation-info", Static).update(Text(info))  # a path may hold [brackets]: no markup
        for scatter in self.query(GateScatter):
            scatter.clear()

    def show(self, sat: Saturation | None, source: str = "", error: str | None = None) -> None:
        info = self.query_one("#saturation-info", Static)
        if sat is None:
            info.update(error or "")
            return
        self.shown = (sat, source or "shipped")
        layers = " ".join(f"[{layer_colour(i)}]• layer {i + 1}[/]" for i in range(sat.left["f"].shape[0]))
        info.update(f"{display_name(self.model)} ({source or 'shipped'}) · {sat.chars} chars · a dot per unit: "
                    f"right = often shut, top = often open · {layers}")
        for scatter in self.query(GateScatter):
            scatter.draw(sat)
