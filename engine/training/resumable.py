"""Runs that can go on: left running (a start event with no finished or failed after it, a checkpoint to resume
from, and no live trainer: its process was killed, or its machine restarted), or ended before their budget was
spent (stopped by Stop, Ctrl+Q, a signal or their parent's end; or failed, with the last checkpoint kept). The app
offers them for Resume after a restart."""

from __future__ import annotations

import os
import time
from pathlib import Path

from shakes_tui.engine.runs import FINAL_EVENTS, Finished, RunDir, Start

QUIET_SECONDS = 120  # a run from before trainers recorded their pid counts as live while it wrote this recently


BUDGET_SPENT = ("done", "max_steps", "max_seconds")  # a Finished reason that says the run's budget is spent


def resumable(runs_dir: str | os.PathLike) -> list[tuple[str, Path, str]]:
    """(model, run folder, how it ended) of each run under runs_dir that stopped before its budget was spent,
    oldest first: how it ended is "left running", "stopped" (any Finished reason but a spent budget) or "failed"."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    found = []
    for path in sorted(runs_dir.iterdir(), key=_mtime):
        run = RunDir(path)
        if not (path.is_dir() and run.checkpoint_path.is_file() and run.holds_run()):
            continue
        if (ended := ending(run)) is not None and ended not in BUDGET_SPENT:
            found.append((_model(run), path, "stopped" if ended not in ("left running", "failed") else ended))
    return found


def ending(run: RunDir) -> str | None:
    """How a run's latest start ended: its Finished reason, "failed", "left running" (no final event and no
    trainer alive), or None while a trainer runs it (or it never started)."""
    events = run.events()
    starts = [i for i, e in enumerate(events) if isinstance(e, Start)]
    if not starts:
        return None
    finals = [e for e in events[starts[-1]:] if isinstance(e, FINAL_EVENTS)]
    if finals:
        return finals[-1].reason if isinstance(finals[-1], Finished) else "failed"
    return None if trainer_alive(events[starts[-1]].pid, run) else "left running"


def _model(run: RunDir) -> str:
    return next(e.model for e in run.events() if isinstance(e, Start))


def trainer_alive(pid: int | None, run: RunDir) -> bool:
    if pid is None:
        return time.time() - _mtime(run.metrics_path) < QUIET_SECONDS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that pid: cannot tell, so leave the run alone
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read()
    except OSError:
        return True  # no /proc here: the pid is alive, assume it is the trainer
    return b"engine" in command or b"shakes-train" in command


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
