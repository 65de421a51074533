"""Start, stop and resume training; the live loss chart; the latest figures of every run."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Select, Static, Switch

from engine.runs import Checkpoint, Eval, Event, Failed, Finished, RunDir, Start, Train
from tui import workers
from tui.messages import LeftRunning, TrainingEnded, TrainingEvents
from tui.training import TrainingController, TrainingSettings, wait_all
from tui.widgets.loss_chart import LossChart

COLUMNS = ("model", "status", "step", "loss", "val", "chars/s", "elapsed")


class TrainingPane(Widget):
    """Owns the training controller: its buttons start, stop and resume child processes, and thread
    workers follow their run directories (or any run given to ``watch``)."""

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
    class NewWeights(Message):
        """A run wrote a checkpoint and live weights are on: show this model's new weights."""

        model: str
        path: Path
        step: int

    def __init__(self, names: tuple[str, ...], settings: TrainingSettings) -> None:
        super().__init__()
        self.names, self.controller = names, TrainingController(settings)

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
        find = functools.partial(workers.find_left_running, self.post_message, self.controller.settings.runs_dir)
        self.app.run_worker(find, thread=True, group="left-running", exit_on_error=False)

    @on(LeftRunning)
    def offer_left_running(self, event: LeftRunning) -> None:
        for process in (adopted := self.controller.adopt(event.runs)):
            self.set_row_status(process.model, "left running")
        if adopted:
            self.set_status(f"left running with nothing training them: {', '.join(p.run.path.name for p in adopted)}"
                            " (pick the model and press Resume)")

    # ---- commands --------------------------------------------------------------------------
    @on(Button.Pressed)
    def command(self, event: Button.Pressed) -> None:
        event.stop()
        model = self.query_one("#model-select", Select).value
        if event.button.id == "stop":
            self.set_status(self.controller.stop(model))
            return
        try:
            minutes = float(self.query_one("#minutes", Input).value)
            if minutes <= 0:
                raise ValueError
        except ValueError:
            self.set_status("minutes must be a positive number")
            return
        status, process = self.controller.start(model, minutes, resume=event.button.id == "resume")
        self.set_status(status)
        if process is not None:
            self.set_row_status(model, "starting")
            self._follow(model, process.run.path, process, group=f"follow-{model}")

    def follow_run_dir(self, run_dir: Path) -> None:
        """Follow a run started elsewhere, named by its start event (else by its folder)."""
        starts = [e for e in RunDir(run_dir).events() if isinstance(e, Start)]
        self.set_status(f"watching {run_dir}")
        self._follow(starts[0].model if starts else run_dir.name, run_dir, None, group=f"watch-{run_dir}")

    def _follow(self, model: str, run_dir: Path, process, group: str) -> None:
        """Posts come back to this pane; the app runs the worker, so its failures reach the app's handler."""
        work = functools.partial(workers.follow_run, self.post_message, model, run_dir, process)
        self.app.run_worker(work, thread=True, group=group, exclusive=True, exit_on_error=False)

    async def stop_all(self) -> None:
        """Stop every running child with a checkpoint, and wait for them (off the event loop)."""
        running = self.controller.stop_all()
        if running:
            self.notify("Stopping training: writing checkpoints…")
            await self.run_worker(functools.partial(wait_all, running), thread=True).wait()

    def on_unmount(self) -> None:
        """However the app ends, no training child is left running without being told to stop."""
        self.controller.stop_all()

    # ---- what the runs report ----------------------------------------------------------------
    @on(TrainingEvents)
    def show_training(self, event: TrainingEvents) -> None:
        self.show_events(event.model, event.events)
        if event.warning:
            self.notify(event.warning, title=event.model.capitalize(), severity="warning")
        checkpoints = [e for e in event.events if isinstance(e, Checkpoint)]
        if checkpoints and self.query_one("#follow-checkpoints", Switch).value and event.model in self.names:
            self.post_message(self.NewWeights(event.model, Path(checkpoints[-1].path), checkpoints[-1].step))

    @on(TrainingEnded)
    def training_ended(self, event: TrainingEnded) -> None:
        if event.returncode not in (0, None):
            self.set_row_status(event.model, "error")
            self.set_status(f"{event.model} stopped with an error: {event.error or 'see stderr.log'}")
        else:
            self.set_status(f"{event.model}: stopped with a checkpoint; Resume continues it")

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
        for column, value in row_values(e).items():
            self.query_one(DataTable).update_cell(model, column, str(value))


def row_values(e: Event) -> dict:
    """The table cells an event changes."""
    if isinstance(e, Train):
        return {"step": e.step, "loss": f"{e.loss:.3f}", "chars/s": f"{e.chars_per_s:,.0f}",
                "elapsed": _duration(e.elapsed), "status": "training"}
    if isinstance(e, Eval):
        return {"val": f"{e.val_loss:.3f}"}
    if isinstance(e, Failed):
        return {"status": "failed"}
    if isinstance(e, Finished):
        return {"status": f"stopped ({e.reason})"}
    return {}


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
