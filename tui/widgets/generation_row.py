"""The three generation panes side by side, and the one clock their streams are drawn by."""

from __future__ import annotations

from collections.abc import Callable

from shakes_tui.tui.messages import GenerationProgress
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from shakes_tui.tui.workers import FRAME_SECONDS
from textual.app import ComposeResult
from textual.containers import Horizontal


class GenerationRow(Horizontal):
    """Streams post their text as it grows; the row keeps each one's latest and draws them all in one screen
    update a frame (not one update per stream per frame). A stream's last text is drawn at once."""

    def __init__(self, names: tuple[str, ...], current: Callable[[GenerationProgress], bool]) -> None:
        super().__init__(id="generations")
        self.names, self.current = names, current
        self.latest: dict[str, GenerationProgress] = {}

    def compose(self) -> ComposeResult:
        for name in self.names:
            yield GenerationPane(name)

    def on_mount(self) -> None:
        self.set_interval(FRAME_SECONDS, self.draw_latest)

    def show(self, event: GenerationProgress) -> None:
        if not event.done:
            self.latest[event.model] = event
            return
        self.latest.pop(event.model, None)
        self.pane(event.model).update_text(event.text, event.chars_per_s, done=True)

    def draw_latest(self) -> None:
        if not self.latest:
            return
        with self.app.batch_update():
            for model, event in self.latest.items():
                if self.current(event):
                    self.pane(model).update_text(event.text, event.chars_per_s, done=False)
        self.latest.clear()

    def pane(self, model: str) -> GenerationPane:
        return self.query_one(f"#gen-{model}", GenerationPane)
