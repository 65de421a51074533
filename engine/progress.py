"""Progress bars for the command line (rich), shown only when stderr is a terminal."""

from __future__ import annotations

import sys

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from engine.runs import Eval, Event, Train


def download_progress():
    """A callback for engine.corpus downloads, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    bar = Progress(TextColumn("downloading corpus"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   transient=True)
    task = None

    def update(done: int, total: int | None) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("download", total=total)
        bar.update(task, completed=done)
        if total is not None and done >= total:
            bar.stop()

    return update


class TrainProgress:
    """A rich progress bar fed by a Trainer's events: step, loss, val loss, chars/s."""

    def __init__(self, trainer) -> None:
        self.budget = trainer.budget
        _, total = self.budget.measure(trainer.step, trainer.elapsed)
        self.bar = Progress(TextColumn(f"[bold]{trainer.cfg.model}"), BarColumn(),
                            TextColumn("{task.fields[info]}"), TimeRemainingColumn(), transient=False)
        self.task = self.bar.add_task("train", total=total, info="starting")
        self.val = "-"

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc):
        self.bar.stop()
        return False

    def on_event(self, event: Event) -> None:
        if isinstance(event, Eval):
            self.val = f"{event.val_loss:.3f}"
        if isinstance(event, Train):
            done, _ = self.budget.measure(event.step, event.elapsed)
            info = f"step {event.step}  loss {event.loss:.3f}  val {self.val}  {event.chars_per_s:,.0f} chars/s"
            self.bar.update(self.task, completed=done, info=info)
