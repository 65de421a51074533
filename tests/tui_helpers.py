"""Helpers for the app's tests: an app built as the console script builds it, and waiting."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from shakes_tui.engine.runs import Eval, Event, Start, Train
from shakes_tui.tui import workers
from shakes_tui.tui.app import ShakesApp
from shakes_tui.tui.cli import create_app
from textual.widgets import Input

TINY_TRAINING = ["--seq-len", "16", "--batch-size", "4", "--eval-interval", "10", "--eval-batches", "2",
                 "--eval-share", "1", "--max-steps", "400", "--checkpoint-interval", "20"]


def make_app(tmp_path: Path, *, data: Path | None = None, weights_dir: Path | None = None,
             train_extra: list[str] = TINY_TRAINING, **kwargs) -> ShakesApp:
    extra = {} if weights_dir is None else {"weights_dir": weights_dir}
    return create_app(runs_dir=tmp_path / "runs", data=str(data) if data else None, preset="tiny",
                      train_extra=train_extra, **extra, **kwargs)


def fake_clock(monkeypatch, tick: float = 0.001) -> None:
    """Each reading of the generation clock advances by `tick` seconds, counted per thread."""
    local = threading.local()

    def clock() -> float:
        if not hasattr(local, "counter"):
            local.counter = itertools.count()
        return next(local.counter) * tick

    monkeypatch.setattr(workers, "clock", clock)


async def settle(pilot, app) -> None:
    """Wait until every worker that is not following a training run has finished, and none has started since.

    A worker's last message can still be waiting when it finishes, and handling it may start another (a
    finished stream starts the gate trace and the copying check): so the app must be quiet for three checks
    in a row, 0.05 s apart, not one."""
    quiet = 0
    for _ in range(600):
        busy = [w for w in app.workers if not w.is_finished and not w.group.startswith(("follow-", "watch-"))]
        quiet = 0 if busy else quiet + 1
        if quiet == 3:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.1)


async def until(pilot, condition, seconds: float = 20.0) -> None:
    """Wait (at most `seconds`) for a condition that a timer and then a worker make true."""
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
        await settle(pilot, pilot.app)


async def open_tab(pilot, key: str, kind):
    """Wait for the app to settle, press a tab's key, and return the tab's widget of that kind."""
    await settle(pilot, pilot.app)
    await pilot.press(key)
    await pilot.pause()
    return pilot.app.query_one(kind)


def record_notices(app) -> list[str]:
    """What the app says in notices (they expire from the screen after a few seconds)."""
    said: list[str] = []
    app.notify = lambda message, **kwargs: said.append(message)
    return said


async def no_blink(pilot) -> None:
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False


def run_events(n_train: int = 30, evals=((0, 4.18), (150, 2.6), (300, 2.1))) -> list[Event]:
    """A made-up run whose first point is a validation at step 0 (the highest loss of all)."""
    events: list[Event] = [Start(model="benvolio", step=0, params=1, device="cpu", config={}, model_config={})]
    events += [Eval(step=s, train_loss=v, val_loss=v, sample="") for s, v in evals if s == 0]
    events += [Train(step=10 * (k + 1), loss=4.0 - 0.06 * k, lr=1e-3, chars_per_s=1000, elapsed=float(k))
               for k in range(n_train)]
    events += [Eval(step=s, train_loss=v, val_loss=v, sample="") for s, v in evals if s > 0]
    return events
