"""The guided tour: a panel under the tabs that walks through the lesson a step at a time (n next, p back, Esc
leaves). Each step opens the view that proves its point on its own text, and its words quote figures measured on
the weights the app holds at that moment, in a worker (engine/inspect/lesson.py reads the steps and measures)."""

from __future__ import annotations

from dataclasses import dataclass

from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.lesson import CELL_FEATURES, Step, measure, render
from shakes_tui.tui.insight.attention_view import AttentionMap
from shakes_tui.tui.insight.pane import VIEWS, InsightPane
from shakes_tui.tui.insight.surprise_view import SurpriseView
from shakes_tui.tui.widgets.gate_heatmap import GateHeatmap
from shakes_tui.tui.widgets.gates_pane import GatesPane
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Static, TabbedContent

SHORT_SCREEN = 20  # rows: below this the tour's panel is kept short ...
SHORT_PANEL = 5  # ... to this many rows, borders included


@dataclass
class TourFigures(Message):
    """The figures of one opening of a step (``opening`` tells a late answer from a stale one)."""

    opening: int
    figures: dict[str, float]


class TourPanel(VerticalScroll):
    """The step's words: its title and place, the paragraph with its figures, what to look at, the keys."""

    DEFAULT_CSS = """
    TourPanel { dock: bottom; height: auto; max-height: 45%; border: round $accent; padding: 0 1;
                background: $surface; }
    TourPanel #tour-words { width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        self.words = Static(id="tour-words")
        super().__init__(self.words, **kwargs)

    def fit(self, screen_height: int) -> None:
        """Under SHORT_SCREEN rows the panel keeps to three lines of words (it scrolls), so the view stays in sight."""
        self.styles.max_height = SHORT_PANEL if screen_height < SHORT_SCREEN else "45%"

    def show(self, number: int, total: int, step: Step, figures: dict[str, float] | None) -> None:
        words, held = render(step, figures or {})
        self.border_title = f"Tour {number}/{total} · {step.title}"
        self.border_subtitle = "n next · p back · Esc leaves"
        measuring = "  (measuring on the weights in use…)" if figures is None and step.figures() else ""
        parts = [Content(words + measuring)]
        if step.look:
            parts.append(Content.from_markup("[b]Look:[/b] $look", look=step.look))
        self.words.update(Content("\n").join(parts))
        self.scroll_home(animate=False)


class Tour:
    """The tour the app is on: its steps, where it is, and opening a step's view (the app holds one)."""

    def __init__(self, app, steps: list[Step]) -> None:
        self.app, self.steps = app, steps
        self.index, self.opening = 0, 0
        self.panel: TourPanel | None = None

    @property
    def is_open(self) -> bool:
        return self.panel is not None

    def open(self, index: int = 0) -> None:
        if self.panel is None:
            self.panel = TourPanel(id="tour")
            self.panel.fit(self.app.size.height)
            self.app.screen.mount(self.panel)
        self.go(index)

    def fit(self, screen_height: int) -> None:
        if self.panel is not None:
            self.panel.fit(screen_height)

    def close(self) -> None:
        if self.panel is not None:
            self.panel.remove()
            self.panel = None

    def move(self, by: int) -> None:
        if self.is_open:
            self.go(min(max(self.index + by, 0), len(self.steps) - 1))

    def go(self, index: int) -> None:
        self.index, self.opening = index, self.opening + 1
        step = self.steps[index]
        self.panel.show(index + 1, len(self.steps), step, None)
        self.open_view(step)
        if step.figures():
            self.app.run_in_thread(measure_step, self.opening, step, self.app.bank, self.app.names,
                                   self.app.query_one(InsightPane).corpus, group="tour")

    def figures_ready(self, event: TourFigures) -> None:
        if self.is_open and event.opening == self.opening:
            self.panel.show(self.index + 1, len(self.steps), self.steps[self.index], event.figures)

    def open_view(self, step: Step) -> None:
        app = self.app
        seed = app.query_one("#seed", Input)
        seed.value = step.text.replace("\n", "\\n")
        app.query_one(TabbedContent).active = step.tab
        if step.tab == "generate":
            app.query_one("Button#generate", Button).press()
            app.call_after_refresh(self.panel.focus)  # after the tab's own focus: n and p are the tour's
        elif step.tab == "gates":
            heatmap = app.query_one(GateHeatmap)
            heatmap.gate, heatmap.layer_no, heatmap.cursor_t = "f", step.layer - 1, step.cursor
            app.query_one(GatesPane).find_after_trace(CELL_FEATURES[step.feature] if step.feature else None)
            app.retrace(step.text)
            app.call_after_refresh(heatmap.focus)
        elif step.tab == "insight":
            pane = app.query_one(InsightPane)
            app.query_one(SurpriseView).cursor = max(step.cursor, 1)  # kept when the measure arrives
            app.query_one(AttentionMap).cursor = step.cursor
            pane.set_seed(step.text)
            if step.text_b:
                pane.measure_compare((step.text, step.text_b))
            if step.view in VIEWS:
                pane.action_view(step.view)
            app.call_after_refresh(pane.focus)
        else:
            app.call_after_refresh(self.panel.focus)


def measure_step(post, opening: int, step: Step, bank, names: tuple[str, ...], corpus) -> None:
    """In a worker: the step's figures on the models the bank holds now."""
    models = {name: bank.get(name).loaded for name in names if bank.get(name).loaded is not None}
    try:
        splits = corpus.split() if step.needs_splits() else None
    except ShakesError:
        splits = None
    post(TourFigures(opening, measure(step, models, splits)))
