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
        self.trainer = trainer
        total = trainer.cfg.max_steps or trainer.cfg.max_seconds
        self.by_steps = trainer.cfg.max_steps is not None
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

    def on_event(self, event: dict) -> None:
        if event["type"] == "eval":
            self.val = f"{event['val_loss']:.3f}"
        if event["type"] == "train":
            done = event["step"] if self.by_steps else event["elapsed"]
            info = (f"step {event['step']}  loss {event['loss']:.3f}  val {self.val}  "
                    f"{event['chars_per_s']:,} chars/s")
            self.bar.update(self.task, completed=done, info=info)
