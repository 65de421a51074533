"""Start, stop and resume training; the live loss chart; the latest figures of every run."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Select, Static, Switch

from engine.runs import Eval, Event, Failed, Finished, Train
from tui.widgets.loss_chart import LossChart

COLUMNS = ("model", "status", "step", "loss", "val", "chars/s", "elapsed")


class TrainingPane(Widget):
    DEFAULT_CSS = """
    TrainingPane { layout: vertical; }
    TrainingPane #controls { height: auto; }
    TrainingPane #controls Label { padding: 1 0 0 1; }
    TrainingPane #controls Button { min-width: 8; width: auto; }
    TrainingPane #model-select { width: 16; }
    TrainingPane #minutes { width: 9; }
    TrainingPane #body { height: 1fr; }
    TrainingPane #figures { width: 52; height: 1fr; }
    TrainingPane DataTable { height: auto; max-height: 8; }
    TrainingPane #status { height: auto; color: $text-muted; padding: 0 1; }
    TrainingPane #sample { height: 1fr; border: round $panel; padding: 0 1; }
    """

    @dataclass
    class Command(Message):
        action: str  # start, stop or resume
        model: str
        minutes: float

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Horizontal(id="controls"):
            yield Select([(n.capitalize(), n) for n in self.names], value=self.names[0], allow_blank=False,
                         id="model-select")
            yield Label("minutes")
            yield Input("10", id="minutes")
            yield Button("Start", id="start", variant="success")
            yield Button("Stop", id="stop", variant="error")
            yield Button("Resume", id="resume")
            yield Label("live weights")
            yield Switch(True, id="follow-checkpoints", tooltip="reload a model's generations at each checkpoint")
        yield Static("Pick a model and press Start: it trains in a child process.", id="status")
        with Horizontal(id="body"):
            yield LossChart(id="chart")
            with Vertical(id="figures"):
                yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
                yield Static("", id="sample")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.query_one("#sample", Static).border_title = "latest validation sample"

    @property
    def follow_checkpoints(self) -> bool:
        return self.query_one("#follow-checkpoints", Switch).value

    @on(Button.Pressed)
    def command(self, event: Button.Pressed) -> None:
        event.stop()
        try:
            minutes = float(self.query_one("#minutes", Input).value)
            if minutes <= 0:
                raise ValueError
        except ValueError:
            self.set_status("minutes must be a positive number")
            return
        model = self.query_one("#model-select", Select).value
        self.post_message(self.Command(event.button.id, model, minutes))

    def set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    def show_events(self, model: str, events: list[Event]) -> None:
        self.query_one(LossChart).add_events(model, events)
        for event in events:
            self._update_row(model, event)
            if isinstance(event, Eval):
                sample = self.query_one("#sample", Static)
                sample.border_title = f"{model} · step {event.step} sample"
                sample.update(event.sample)

    def set_row_status(self, model: str, status: str) -> None:
        self._ensure_row(model)
        self.query_one(DataTable).update_cell(model, "status", status)

    def _ensure_row(self, model: str) -> None:
        table = self.query_one(DataTable)
        if model not in table.rows:
            table.add_row(model, *[""] * (len(COLUMNS) - 1), key=model)

    def _update_row(self, model: str, e: Event) -> None:
        self._ensure_row(model)
        table = self.query_one(DataTable)
        if isinstance(e, Train):
            values = {"step": e.step, "loss": f"{e.loss:.3f}", "chars/s": f"{e.chars_per_s:,.0f}",
                      "elapsed": _duration(e.elapsed), "status": "training"}
        elif isinstance(e, Eval):
            values = {"val": f"{e.val_loss:.3f}"}
        elif isinstance(e, Failed):
            values = {"status": "failed"}
        elif isinstance(e, Finished):
            values = {"status": f"stopped ({e.reason})"}
        else:
            return
        for column, value in values.items():
            table.update_cell(model, column, str(value))


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
