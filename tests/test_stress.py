"""The app under stress: random keys, tab switches and resizes for 30 s while it trains and streams."""

from __future__ import annotations

import asyncio
import random
import threading
import time

import pytest
from shakes_tui.tui.cli import create_app
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import Input
from textual.worker import WorkerState

from tests.tui_helpers import settle

STRESS_SECONDS = 30.0
KEYS = ["f1", "f2", "f3", "f4", "1", "2", "3", "4", "t", "h", "b", "tab", "shift+tab", "left", "right", "up", "down",
        "g", "l", "s", "a", "Z", "space", "backspace", "enter", "escape", "home", "end", "pageup", "pagedown", "0", "9",
        "?", "\\"]
LONG_TRAINING = ["--seq-len", "16", "--batch-size", "4", "--eval-interval", "20", "--eval-batches", "2",
                 "--eval-share", "1", "--checkpoint-interval", "40"]


def busy_pool_threads() -> list[str]:
    """Thread workers run on the event loop's executor, whose idle threads stay for reuse: none may be busy."""
    pool = asyncio.get_running_loop()._default_executor
    if pool is None:
        return []
    idle = pool._idle_semaphore._value
    return [] if idle >= len(pool._threads) else [f"{len(pool._threads) - idle} executor thread(s) still busy"]


def still_running(worker) -> bool:
    """A worker cancelled before its task first ran (one started by the last checkpoint while the app quits)
    never runs, and Textual leaves its state RUNNING: its task is done and no thread holds it."""
    return not worker.is_finished and not (worker.is_cancelled and worker._task is not None and worker._task.done())


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@pytest.mark.slow
async def test_random_keys_tabs_and_resizes_while_training_and_streaming(tmp_path, small_text_file):
    rng = random.Random(8)
    threads_before = {t.ident for t in threading.enumerate()}
    app = create_app(runs_dir=tmp_path / "runs", data=str(small_text_file), preset="tiny", train_extra=LONG_TRAINING)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        await pilot.click("#start")  # Benvolio, tiny, for the pane's default minutes
        await pilot.press("f1")
        app.query_one("#length", Input).value = "2000"
        app.query_one("#seed", Input).value = "Once more"
        app.query_one("#seed", Input).focus()
        await pilot.press("enter")
        start, samples = time.monotonic(), []
        while (elapsed := time.monotonic() - start) < STRESS_SECONDS:
            if rng.random() < 0.15:
                await pilot.resize_terminal(rng.randint(40, 200), rng.randint(10, 60))
            else:
                await pilot.press(rng.choice(KEYS))
            if rng.random() < 0.05:  # keep three streams running
                app.query_one("#seed", Input).value = "Once more"
                app.query_one("#seed", Input).focus()
                await pilot.press("enter")
            await pilot.pause(rng.uniform(0, 0.05))
            if not samples or elapsed - samples[-1][0] >= 5:
                samples.append((elapsed, rss_mb()))
        job = app.query_one(TrainingPane).controller.processes["benvolio"]
        assert job.running, "training stopped during the stress"
        failed = [w for w in app.workers if w.state == WorkerState.ERROR]
        assert not failed, [w.error for w in failed]
        assert not [n.message for n in app._notifications if n.severity == "error"]
        workers = list(app.workers)
        await app.action_quit()
    assert not job.running
    deadline = time.monotonic() + 30  # a thread cannot be interrupted: one loading weights on a busy machine
    while busy := [w for w in workers if still_running(w)] + busy_pool_threads():  # finishes its load first
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert not busy, busy
    leaked = [t for t in threading.enumerate() if t.ident not in threads_before and not t.name.startswith("asyncio_")]
    assert not leaked, [t.name for t in leaked]
    settled = [mb for t, mb in samples if t >= 10]
    assert max(settled) - settled[0] < 150, f"memory kept growing: {samples}"
