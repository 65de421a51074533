"""Faults: training killed with SIGKILL at random moments and resumed, again and again.

Two runs (Mercutio and Romeo, tiny) are killed in turn at least 20 times in all, each at a random
moment after it has made progress (mid-step, mid-evaluation, mid-checkpoint: wherever it happens to be),
and resumed each time. The run directory must stay readable (a torn last line is skipped), the step
never goes backwards, and the loss carries on from where the curve was, not from the start.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shakes_tui.engine.runs import Follower, RunDir

from tests.test_resume_checks import lines

KILLS = 20
TINY = ["--preset", "tiny", "--seq-len", "16", "--batch-size", "8", "--eval-interval", "25", "--eval-batches", "2",
        "--checkpoint-interval", "10", "--device", "cpu", "--threads", "1", "--quiet"]


def train(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "shakes_tui.engine", "train", *args], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])


def wait_for_progress(run: RunDir, process: subprocess.Popen, after_size: int, log: Path, timeout: float = 60) -> None:
    """Until the metrics file holds a checkpoint event written by this process (so there is something to lose)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if run.metrics_path.exists() and run.metrics_path.stat().st_size > after_size:
            tail = run.metrics_path.read_bytes()[after_size:]
            if b'"checkpoint"' in tail:
                return
        time.sleep(0.02)
    raise AssertionError(f"no progress in {run.path}: {log.read_text()[-2000:]}")


def start_steps(run: RunDir) -> list[int]:
    return [e["step"] for e in lines(run.path) if e["type"] == "start"]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume(tmp_path, small_text_file):
    rng = random.Random(13)
    runs = {model: RunDir(tmp_path / model) for model in ("mercutio", "romeo")}
    last_checkpoint = dict.fromkeys(runs, 0)  # the newest checkpoint event before the latest kill
    for turn in range(KILLS + 2):  # KILLS kills, then each run is resumed once more and finishes
        model = ("mercutio", "romeo")[turn % 2]
        run, log = runs[model], tmp_path / f"{model}.log"
        size = run.metrics_path.stat().st_size if run.metrics_path.exists() else 0
        if turn < 2:
            args = ["--model", model, "--out", str(run.path), *TINY, "--max-steps", "100000"]
        else:
            steps = max(start_steps(run)) + 60 if turn >= KILLS else 100_000
            args = ["--resume", str(run.path), "--max-steps", str(steps), "--threads", "1", "--quiet"]
        process = train([*args, "--data", str(small_text_file)], log)
        if turn >= KILLS:
            assert process.wait(timeout=120) == 0, log.read_text()[-2000:]
            continue
        wait_for_progress(run, process, size, log)
        time.sleep(rng.uniform(0, 0.4))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        follower = Follower(run.path)  # the project's reader reads it, a torn line skipped and counted
        assert follower.read_new() and follower.skipped <= turn + 1  # at most one torn line per kill
        assert (follower.take_warning() is not None) == (follower.skipped > 0)
        events = lines(run.path)
        starts = start_steps(run)
        assert starts == sorted(starts), f"{model}: the step went backwards: {starts}"
        assert starts[-1] >= last_checkpoint[model], f"{model}: resumed from before its last checkpoint"
        last_checkpoint[model] = max(e["step"] for e in events if e["type"] == "checkpoint")
    for model, run in runs.items():
        check_the_curve_continued(model, lines(run.path))


def check_the_curve_continued(model: str, events: list[dict]) -> None:
    assert events[-1]["type"] == "finished", f"{model}: {events[-1]}"
    assert len([e for e in events if e["type"] == "start"]) == KILLS // 2 + 1
    losses = [e["loss"] for e in events if e["type"] == "train"]
    first, last = losses[0], sum(losses[-3:]) / 3
    assert last < first - 0.5, f"{model}: the curve did not continue ({first} -> {last})"
    for i, e in enumerate(events):
        if e["type"] == "start" and e["step"] > 0:  # a resume: its first loss continues the curve
            before = [x["loss"] for x in events[:i] if x["type"] == "train"]
            after = [x["loss"] for x in events[i:] if x["type"] == "train"]
            if before and after:
                assert after[0] < before[-1] + 0.3, f"{model}: at step {e['step']} {before[-1]} -> {after[0]}"
