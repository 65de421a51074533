"""Progress bars for the command line (rich), drawn on stderr and only when it is a terminal (stdout
stays for results: shakes-eval's table or JSON)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text
from shakes_tui.engine.runs import Eval, Event, Start, Train


def download_progress():
    """A callback for shakes_tui.engine.data.corpus downloads, or None when stderr is not a terminal."""
    return _bytes_progress("downloading corpus")


def encode_progress():
    """A callback for engine.data.tokens while a large text is encoded to its token file, or None off a terminal."""
    return _bytes_progress("encoding corpus")


def _bytes_progress(label: str):
    """A (done, total) callback drawing a transient bar on stderr, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    bar = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(), Remaining(),
                   transient=True, console=_stderr())
    task = None

    def update(done: int, total: int | None) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done)
        if total is not None and done >= total:
            bar.stop()

    return update


def _stderr() -> Console:
    return Console(stderr=True)


class Remaining(TimeRemainingColumn):
    """The time left, or nothing until there is a rate to estimate it from (not -:--:--)."""

    def render(self, task) -> Text:
        return Text("") if task.time_remaining is None else super().render(task)


def opening_words(step: int) -> str:
    """What the bar says before the first training step: a fresh run first measures its validation loss."""
    return "measuring the validation loss at step 0…" if step == 0 else f"resuming at step {step}…"


class Bars:
    """A rich Progress (``self.bar``) shown for the length of a ``with`` block."""

    bar: Progress

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc):
        self.bar.stop()
        return False


class TrainProgress(Bars):
    """A rich progress bar fed by a Trainer's events: step, loss, val loss, chars/s."""

    def __init__(self, trainer) -> None:
        self.budget = trainer.budget
        done, total = self.budget.measure(trainer.step, trainer.elapsed)
        self.bar = Progress(TextColumn(f"[bold]{trainer.cfg.model}"), BarColumn(), TextColumn("{task.fields[info]}"),
                            Remaining(), transient=False, console=_stderr())
        self.task = self.bar.add_task("train", total=total, completed=done, info=opening_words(trainer.step))
        self.val = "-"
        self.trained = False  # no train event yet

    def on_event(self, event: Event) -> None:
        if isinstance(event, Start):
            self.bar.update(self.task, info=opening_words(event.step))
        if isinstance(event, Eval):
            self.val = f"{event.val_loss:.3f}"
            if not self.trained:
                self.bar.update(self.task, info=f"step {event.step}  val {self.val}  training…")
        if isinstance(event, Train):
            self.trained = True
            done, _ = self.budget.measure(event.step, event.elapsed)
            info = f"step {event.step}  loss {event.loss:.3f}  val {self.val}  {event.chars_per_s:,.0f} chars/s"
            self.bar.update(self.task, completed=done, info=info)


class EvalProgress(Bars):
    """shakes-eval's bars, one per model while it is measured (gone when done): a whole split takes
    minutes on a CPU. Use ``EvalProgress.if_terminal()``: nothing when stderr is not a terminal."""

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("evaluating [bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                            Remaining(), transient=True, console=_stderr())

    @classmethod
    def if_terminal(cls) -> EvalProgress | None:
        return cls() if sys.stderr.isatty() else None

    def model(self, name: str):
        """A progress callback for shakes_tui.engine.evaluate.split_loss; the bar goes once the split is done."""
        task = self.bar.add_task(name, total=None)

        def update(done: int, total: int) -> None:
            self.bar.update(task, completed=done, total=total)
            if done >= total:
                self.bar.remove_task(task)

        return update
