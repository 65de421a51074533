"""Pilot tests of live weights by time, and of Resume from the app: the run's own schedule, and after a restart."""

from __future__ import annotations

import math
import subprocess

from shakes_tui.engine.runs import Finished, RunDir, Start, Train
from shakes_tui.tui.training import TrainingProcess
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import Input, Select, Static

from tests.tui_helpers import TINY_TRAINING, make_app, settle, until


def tiny(**flags) -> list[str]:
    """TINY_TRAINING with some flags replaced or added."""
    extra = list(TINY_TRAINING)
    for flag, value in flags.items():
        name = "--" + flag.replace("_", "-")
        if name in extra:
            extra[extra.index(name) + 1] = str(value)
        else:
            extra += [name, str(value)]
    return extra


def status(app) -> str:
    return str(app.query_one("#status", Static).render())


async def poll(pilot, condition, seconds: float = 60.0) -> None:
    """Wait for a condition without waiting for the app to settle (live weights keep it busy)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)


async def start(pilot, app, model: str, action: str = "start") -> None:
    await settle(pilot, app)
    await pilot.press("f2")
    app.query_one("#model-select", Select).value = model
    app.query_one(TrainingPane).request(action, model)


async def test_live_weights_change_by_time_not_only_by_steps(tmp_path, small_text_file):
    """No step interval is reached (--checkpoint-interval 100000): the app's seconds interval alone (here 0.5 s
    in place of its 30) brings new weights into the Generate pane again and again while the run trains."""
    extra = tiny(max_steps=100000, checkpoint_interval=100000, checkpoint_seconds=0.5)
    app = make_app(tmp_path, data=small_text_file, train_extra=extra)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one("#minutes", Input).value = "0.1"  # 6 seconds
        await start(pilot, app, "benvolio")
        process = app.query_one(TrainingPane).controller.processes["benvolio"]
        sources = []
        for _ in range(400):
            await pilot.pause(0.05)
            source = app.bank.get("benvolio").source
            if source != "shipped" and source not in sources:
                sources.append(source)
            if not process.running and len(sources) >= 3:
                break
        assert process.command(resume=False)[process.command(resume=False).index("--checkpoint-seconds") + 1] == "30"
        assert len(sources) >= 3, sources  # at least three different live weights while it trained
        await app.action_quit()


def train_events(path) -> list[Train]:
    return [e for e in RunDir(path).events() if isinstance(e, Train)]


async def test_resume_continues_the_runs_own_schedule_and_equals_an_uninterrupted_run(tmp_path, small_text_file):
    """Stop, then Resume: the first step after it has the learning rate of the last before Stop (within 1 %), and
    every loss equals an uninterrupted run's of the same command (dropout 0; a step budget, so that the schedule
    does not hang on the clock)."""
    extra = tiny(max_steps=3000, max_seconds=10**9, log_interval=1, dropout=0)
    app = make_app(tmp_path, data=small_text_file, train_extra=extra)
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot, app, "benvolio")
        pane = app.query_one(TrainingPane)
        process = pane.controller.processes["benvolio"]
        await poll(pilot, lambda: len(train_events(process.run.path)) >= 200)  # past the warm-up of 100 steps
        pane.request("stop", "benvolio")
        await until(pilot, lambda: not process.running and "Resume" in status(app), seconds=60)
        events = RunDir(process.run.path).events()
        assert isinstance(events[-1], Finished) and events[-1].reason == "signal"
        stopped_at = events[-1].step
        assert stopped_at < 3000, "the run ended before Stop: give it more steps"
        pane.request("resume", "benvolio")
        assert "resumed at" in status(app) and "same schedule" in status(app), status(app)
        await until(pilot, lambda: not process.running and "done" in status(app), seconds=120)
        await app.action_quit()
    events = RunDir(process.run.path).events()
    restart = max(i for i, e in enumerate(events) if isinstance(e, Start))
    before = [e for e in events[:restart] if isinstance(e, Train)][-1]
    after = [e for e in events[restart:] if isinstance(e, Train)][0]
    assert (before.step, after.step) == (stopped_at, stopped_at + 1)
    assert math.isclose(after.lr, before.lr, rel_tol=0.01), (before.lr, after.lr)

    straight = TrainingProcess("benvolio", tmp_path / "straight", app.training)
    subprocess.run(straight.command(resume=False), check=True, timeout=300, capture_output=True)
    resumed = {e.step: e.loss for e in train_events(process.run.path)}
    uninterrupted = {e.step: e.loss for e in train_events(tmp_path / "straight")}
    assert sorted(resumed) == sorted(uninterrupted) == list(range(1, 3001))
    assert all(math.isclose(resumed[s], uninterrupted[s], abs_tol=2e-4) for s in resumed), \
        [(s, resumed[s], uninterrupted[s]) for s in resumed if resumed[s] != uninterrupted[s]][:5]


async def test_more_time_is_a_separate_choice_that_says_its_new_schedule(tmp_path, small_text_file):
    """A run whose minutes are up: Resume says so; + time trains it on, on a longer schedule it describes."""
    app = make_app(tmp_path, data=small_text_file, train_extra=tiny(max_steps=100000))
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one("#minutes", Input).value = "0.05"  # 3 seconds
        await start(pilot, app, "benvolio")
        process = app.query_one(TrainingPane).controller.processes["benvolio"]
        await until(pilot, lambda: not process.running and "minutes are up" in status(app), seconds=60)
        app.query_one(TrainingPane).request("resume", "benvolio")
        assert "its minutes are up: + time trains it on" in status(app) and not process.running
        await pilot.click("#more-time")
        said = status(app)
        assert "trains on 0.05 more minutes: its schedule now ends at 0:06 instead of 0:03" in said, said
        assert "the learning rate goes from" in said
        await until(pilot, lambda: not process.running and "minutes are up" in status(app), seconds=60)
        await app.action_quit()
    starts = [e for e in RunDir(process.run.path).events() if isinstance(e, Start)]
    assert [s.config["max_seconds"] for s in starts][0] == 3.0 and starts[1].config["max_seconds"] > 5


async def test_a_run_stopped_by_ctrl_q_can_be_resumed_after_a_restart(tmp_path, small_text_file):
    """Ctrl+Q stops training with a checkpoint (its events end 'finished', reason 'signal'); the next app start
    offers it, and Resume continues it."""
    extra = tiny(max_steps=100000)
    app = make_app(tmp_path, data=small_text_file, train_extra=extra)
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot, app, "romeo")
        process = app.query_one(TrainingPane).controller.processes["romeo"]
        await until(pilot, lambda: len(train_events(process.run.path)) >= 2, seconds=60)
        await app.action_quit()  # Ctrl+Q
    run = process.run.path
    last = RunDir(run).events()[-1]
    assert isinstance(last, Finished) and last.reason == "signal"

    again = make_app(tmp_path, data=small_text_file, train_extra=extra)
    async with again.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: run.name in status(again), seconds=20)
        assert f"{run.name} (stopped)" in status(again) and "Resume" in status(again), status(again)
        await start(pilot, again, "romeo", "resume")
        assert status(again).startswith("romeo: resumed at"), status(again)
        job = again.query_one(TrainingPane).controller.processes["romeo"]
        assert job.run.path == run
        await until(pilot, lambda: len([e for e in RunDir(run).events() if isinstance(e, Start)]) == 2, seconds=60)
        await again.action_quit()
    assert [e.step for e in RunDir(run).events() if isinstance(e, Start)] == [0, last.step]
