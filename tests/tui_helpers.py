"""Helpers for the app's tests: an app built as the console script builds it, and waiting."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from textual.widgets import Input

from tui import workers
from tui.app import ShakesApp
from tui.cli import create_app

TINY_TRAINING = ["--seq-len", "16", "--batch-size", "4", "--eval-interval", "10", "--eval-batches", "2",
                 "--max-steps", "400", "--checkpoint-interval", "20"]


def make_app(tmp_path: Path, *, data: Path | None = None, weights_dir: Path | None = None, **kwargs) -> ShakesApp:
    extra = {} if weights_dir is None else {"weights_dir": weights_dir}
    return create_app(runs_dir=tmp_path / "runs", data=str(data) if data else None, preset="tiny",
                      train_extra=TINY_TRAINING, **extra, **kwargs)


def fake_clock(monkeypatch, tick: float = 0.001) -> None:
    """Each reading of the generation clock advances by `tick` seconds, counted per thread."""
    local = threading.local()

    def clock() -> float:
        if not hasattr(local, "counter"):
            local.counter = itertools.count()
        return next(local.counter) * tick

    monkeypatch.setattr(workers, "clock", clock)


async def settle(pilot, app) -> None:
    """Wait until every worker that is not following a training run has finished."""
    for _ in range(600):
        busy = [w for w in app.workers if not w.is_finished and not w.group.startswith(("follow-", "watch-"))]
        if not busy:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.1)


async def no_blink(pilot) -> None:
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False
