"""The app's own faults: killed while it trains, restarted after, or crashing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import Select, Static

from tests.test_resume_checks import ROOT, TINY, lines
from tests.tui_helpers import make_app, settle


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_a_sigkilled_app_leaves_no_training_behind(tmp_path, small_text_file):
    app = subprocess.Popen([sys.executable, "-m", "tests.app_in_child", str(tmp_path / "runs"), str(small_text_file)],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid, run = app.stdout.readline().split()
    finally:
        app.kill()
        app.wait()
    pid, run = int(pid), Path(run)
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the training child outlived the app by 30 s")
    last = lines(run)[-1]
    assert last["type"] == "finished" and "parent" in last["reason"], last
    stopped_at = last["step"]
    result = subprocess.run([sys.executable, "-m", "shakes_tui.engine", "train", "--resume", str(run), "--max-steps",
                             str(stopped_at + 10), "--quiet", "--threads", "1"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert lines(run)[-1]["step"] == stopped_at + 10


def interrupted_run(tmp_path: Path, text: Path) -> Path:
    """A run whose trainer was SIGKILLed after a checkpoint: marked running, with nothing running it."""
    run = tmp_path / "runs" / "mercutio-20260101-000000"
    argv = [sys.executable, "-m", "shakes_tui.engine",
            "train", "--model", "mercutio", "--data", str(text), "--out", str(run),
            "--max-steps", "100000", "--checkpoint-interval", "5", "--quiet", *TINY]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (run / "checkpoint.pt").exists():
        time.sleep(0.05)
    process.kill()
    process.wait()
    assert lines(run)[-1]["type"] not in ("finished", "failed")
    return run


async def test_the_app_offers_runs_left_running(tmp_path, small_text_file):
    run = interrupted_run(tmp_path, small_text_file)
    app = make_app(tmp_path, data=small_text_file)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        status = str(app.query_one("#status", Static).render())
        assert run.name in status and "Resume" in status, status
        await pilot.press("f2")
        app.query_one("#model-select", Select).value = "mercutio"
        await pilot.click("#resume")
        job = app.query_one(TrainingPane).controller.processes["mercutio"]
        assert job.run.path == run
        before = len(lines(run))
        for _ in range(300):
            await pilot.pause(0.1)
            if len(lines(run)) > before + 2:
                break
        assert [e for e in lines(run)[before:] if e["type"] == "start"], "the run was not resumed"
        await app.action_quit()
    assert lines(run)[-1]["type"] == "finished"


def test_shakes_tui_exits_non_zero_when_the_app_crashes(tmp_path):
    script = ("import sys\nfrom textual.app import App\nfrom shakes_tui.tui import cli\n"
              "from shakes_tui.tui.app import ShakesApp\n"
              "def boom(self): raise RuntimeError('boom')\n"
              "ShakesApp.on_mount = boom\n"
              "ShakesApp.run = lambda self, **kw: App.run(self, headless=True)\n"
              "cli.main(['--runs-dir', sys.argv[1]])\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "runs")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0, result.stderr[-2000:]
    assert "boom" in result.stdout + result.stderr

