"""Start, stop and resume training; the live loss chart; the latest figures of every run."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from shakes_tui.engine.models import display_name
from shakes_tui.engine.numbers import BadNumber, positive
from shakes_tui.engine.runs import Checkpoint, Eval, Event, Failed, Finished, Train
from shakes_tui.tui import workers
from shakes_tui.tui.export import EXPORT
from shakes_tui.tui.messages import Resumable, TrainingEnded, TrainingEvents
from shakes_tui.tui.training import TrainingController, TrainingSettings, clock, default_minutes, wait_all
from shakes_tui.tui.widgets.loss_chart import LossChart
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static

COLUMNS = ("model", "step", "train", "val", "ch/s", "time", "status")  # a long status is cut last, at the edge
HEADERS = {"train": "train est.", "val": "val est."}  # both from the same evaluation, by the same method
NARROW = 110  # columns below which the chart goes above the table instead of beside it
SHORT = 20  # rows below which the validation sample is left out
MINUTES = positive(float)


class TrainingPane(Widget):
    """Owns the training controller: its buttons start, stop and resume child processes, and thread
    workers follow their run directories (or any run given to ``watch``). Its layout: training_pane.tcss."""

    BINDINGS = [EXPORT]

    @dataclass
    class NewWeights(Message):
        """A run wrote a checkpoint and live weights are on: show this model's new weights."""

        model: str
        path: Path
        step: int
        val_loss: float | None  # the run's latest validation loss, if it has one yet
        val_step: int | None = None  # the step it was measured at (evaluations are not at every checkpoint)

    def __init__(self, names: tuple[str, ...], settings: TrainingSettings) -> None:
        super().__init__()
        self.names, self.controller = names, TrainingController(settings)
        self.last_val: dict[str, tuple[int, float]] = {}  # each run's latest (step, validation loss)
        self.endings: dict[str, str] = {}  # each model's last Finished reason, until its process is seen to end

    def compose(self) -> ComposeResult:
        with Horizontal(id="controls"):
            yield Select([(display_name(n), n) for n in self.names], value=self.names[0], allow_blank=False,
                         id="model-select", compact=True)
            yield Label("minutes")
            yield Input(f"{default_minutes(self.controller.settings.preset):g}", id="minutes", compact=True)
            yield Button("Start", id="start", variant="success", compact=True)
            yield Button("Stop", id="stop", variant="error", compact=True)
            yield Button("Resume", id="resume", compact=True, tooltip="continue the stopped run where it stopped, "
                         "on its own schedule (the minutes it was given)")
            yield Button("+ time", id="more-time", compact=True, tooltip="train the last run on for the minutes "
                         "set: a longer schedule, whose learning rate rises again before it decays")
        with Horizontal(id="second-row"):
            yield Tick("live weights", True, id="follow-checkpoints", compact=True,
                       tooltip="at each checkpoint, the model in the Generate tab becomes the one training")
            yield Tick("from shipped", False, id="from-shipped", compact=True,
                       tooltip="Start fine-tunes the shipped weights (shakes-train --init, with the full size's "
                               "settings) instead of random ones")
            yield Static("Pick a model and press Start: it trains in a child process.", id="status")
        with Horizontal(id="body"):
            yield LossChart(id="chart")
            with Vertical(id="figures"):
                yield RunsTable(id="runs", cursor_type="row", zebra_stripes=True)
                yield Static("", id="sample")

    def on_mount(self) -> None:
        self.query_one("#sample", Static).border_title = "latest validation sample"
        find = functools.partial(workers.find_resumable, self.post_message, self.controller.settings.runs_dir)
        self.app.run_worker(find, thread=True, group="resumable", exit_on_error=False)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        self.set_class(event.size.height < SHORT, "-short")

    @on(Resumable)
    def offer_resumable(self, event: Resumable) -> None:
        """Runs that stopped before their budget (Stop, Ctrl+Q, a crash): Resume continues each after a restart."""
        endings = {path: ended for _, path, ended in event.runs}
        adopted = self.controller.adopt(event.runs)
        for process in adopted:
            self.set_row_status(process.model, endings[process.run.path])
        if adopted:
            runs = ", ".join(f"{p.run.path.name} ({endings[p.run.path]})" for p in adopted)
            self.set_status(f"to resume (pick the model, press Resume): {runs}")

    # ---- commands --------------------------------------------------------------------------
    @on(Button.Pressed)
    def command(self, event: Button.Pressed) -> None:
        event.stop()
        self.request(event.button.id, self.query_one("#model-select", Select).value)

    def request(self, action: str, model: str) -> None:
        """Start, stop, resume or fine-tune a model (the buttons, or the command palette)."""
        self.query_one("#model-select", Select).value = model
        if action == "stop":
            self.set_status(self.controller.stop(model))
            return
        if action == "fine-tune":
            self.query_one("#from-shipped", Checkbox).value, action = True, "start"
        try:
            minutes = MINUTES.parse(self.query_one("#minutes", Input).value.strip(), "minutes")
        except BadNumber as exc:
            self.set_status(str(exc))
            return
        status, process = self.controller.start(model, minutes, resume=action == "resume",
                                                fine_tune=self.query_one("#from-shipped", Checkbox).value,
                                                more_time=action == "more-time")
        self.set_status(status)
        if process is not None and action in ("resume", "more-time"):  # the schedule, in full where it is cut
            self.notify(status.split(": ", 1)[1], title=f"{model.capitalize()}: the schedule", timeout=8,
                        markup=False)
        if process is not None:
            new_run = action not in ("resume", "more-time")
            if new_run:  # none of the last run's figures
                self.last_val.pop(model, None)
            self.query_one(RunsTable).starting(model, new_run=new_run)
            self._follow(model, process.run.path, process, group=f"follow-{model}")

    def follow_run_dir(self, run_dir: Path) -> None:
        """Follow a run started elsewhere (its worker names it by its start event, else by its folder)."""
        self.set_status(f"watching {run_dir}")
        self._follow(None, run_dir, None, group=f"watch-{run_dir}")

    def _follow(self, model: str | None, run_dir: Path, process, group: str) -> None:
        """Posts come back to this pane; the app runs the worker, so its failures reach the app's handler."""
        work = functools.partial(workers.follow_run, self.post_message, model, run_dir, process)
        self.app.run_worker(work, thread=True, group=group, exclusive=True, exit_on_error=False)

    async def stop_all(self) -> None:
        """Stop every running child with a checkpoint, and wait for them (off the event loop)."""
        running = self.controller.stop_all()
        if running:
            self.query_one(RunsTable).update_rows(models := [p.model for p in running], {"status": "stopping"})
            self.set_status(said := stopping_words(models))
            self.notify(said, title="Quitting")
            await self.run_worker(functools.partial(wait_all, running), thread=True).wait()

    def on_unmount(self) -> None:
        """However the app ends, no training child is left running without being told to stop."""
        self.controller.stop_all()

    # ---- what the runs report ----------------------------------------------------------------
    @on(TrainingEvents)
    def show_training(self, event: TrainingEvents) -> None:
        self.show_events(event.model, event.events)
        if event.warning:
            self.notify(event.warning, title=display_name(event.model), severity="warning", markup=False)
        checkpoints = [e for e in event.events if isinstance(e, Checkpoint)]
        if checkpoints and self.query_one("#follow-checkpoints", Checkbox).value and event.model in self.names:
            val_step, val = self.last_val.get(event.model, (None, None))
            self.post_message(self.NewWeights(event.model, Path(checkpoints[-1].path), checkpoints[-1].step,
                                              val, val_step))

    @on(TrainingEnded)
    def training_ended(self, event: TrainingEnded) -> None:
        ending = self.endings.pop(event.model, "stopped")
        if event.returncode not in (0, None):
            self.set_row_status(event.model, "error")
            self.set_status(f"{event.model} stopped with an error: {event.error or 'see stderr.log'}")
        elif ending in ENDINGS:
            self.set_status(f"{event.model}: {ENDINGS[ending]}")
        else:
            self.set_status(f"{event.model}: stopped with a checkpoint; Resume continues it")

    def set_status(self, text: str) -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))  # it may name a run's model, path or error: no markup
        status.tooltip = Text(text)  # the whole line, where a narrow terminal cuts it

    def show_events(self, model: str, events: list[Event]) -> None:
        """A batch of a run's events (a long history comes in batches of thousands): the table's row is
        updated once, with the latest of each figure, and the sample shown is the latest."""
        self.query_one(LossChart).add_events(model, events)
        latest = {type(e): (i, e) for i, e in enumerate(events)}  # the last event of each kind, and where
        row = {}
        for _, event in sorted(latest.values(), key=lambda pair: pair[0]):  # in order: the last status wins
            row.update(row_values(event))
        if Finished in latest:
            self.endings[model] = latest[Finished][1].reason
        last_eval = latest.get(Eval, (0, None))[1]
        if row:
            self.query_one(RunsTable).update_row(model, row)
        if last_eval is not None:
            self.last_val[model] = (last_eval.step, last_eval.val_loss)
            sample = self.query_one("#sample", Static)
            sample.border_title = Text(f"{model} · step {last_eval.step} sample")
            sample.update(Text(last_eval.sample))  # text from a file, shown as it is (never as markup)

    def set_row_status(self, model: str, status: str) -> None:
        self.query_one(RunsTable).update_row(model, {"status": status})


class Tick(Checkbox):
    """A checkbox that shows a tick when on and nothing when off (Textual's shows an X either way, in two colours)."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 (Textual reads this class attribute's name)
        return "✓" if self.value else " "


class RunsTable(DataTable):
    """One row per model: the latest figures of its run."""

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(HEADERS.get(column, column), key=column)  # estimates: see the help

    def update_row(self, model: str, values: dict) -> None:
        """Cells are Text: a model's name comes from a run's file, and DataTable reads a str as markup."""
        if model not in self.rows:
            self.add_row(cell(model), *[cell("")] * (len(COLUMNS) - 1), key=model)
        for column, value in values.items():
            self.update_cell(model, column, cell(value), update_width=True)  # "val" must widen for "2.143"

    def starting(self, model: str, new_run: bool) -> None:
        """A run starts (its figures cleared) or resumes (its figures kept until new ones come)."""
        self.update_row(model, {**(dict.fromkeys(COLUMNS[1:], "") if new_run else {}), "status": "starting"})

    def update_rows(self, models: list[str], values: dict) -> None:
        for model in models:
            self.update_row(model, values)


def cell(value) -> Text:
    """A table cell's text as it is, as DataTable draws a str it does not read as markup."""
    return Text(str(value), end="")


def row_values(e: Event) -> dict:
    """The table cells an event changes."""
    if isinstance(e, Train):
        return {"step": e.step, "ch/s": f"{e.chars_per_s:,.0f}", "time": clock(e.elapsed), "status": "training"}
    if isinstance(e, Eval):  # train and validation measured alike: a gap between them is overfitting
        return {"train": f"{e.train_loss:.3f}", "val": f"{e.val_loss:.3f}"}
    if isinstance(e, Failed):
        return {"status": "failed"}
    if isinstance(e, Finished):
        return {"status": finished_words(e.reason)}
    return {}


ENDINGS = {"done": "done", "max_steps": "its steps are done",  # the rest were stopped
           "max_seconds": "its minutes are up; + time trains it on for the minutes set"}


def finished_words(reason: str) -> str:
    """A run's ending in the table: 'done' when it spent its budget, 'stopped' when it was stopped."""
    return "done" if reason in ENDINGS else "stopped"


def stopping_words(models: list[str]) -> str:
    """What the app says while it waits for training to stop: 'stopping Mercutio, writing checkpoint…'."""
    names = " and ".join(display_name(model) for model in models)
    return f"stopping {names}, writing checkpoint{'s' if len(models) > 1 else ''}…"


