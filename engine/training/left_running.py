"""Runs left running: a start event with no finished or failed after it, a checkpoint to resume from,
and no live trainer (its process is gone: killed, or its machine restarted). The app offers them."""

from __future__ import annotations

import os
import time
from pathlib import Path

from shakes_tui.engine.runs import FINAL_EVENTS, RunDir, Start

QUIET_SECONDS = 120  # a run from before trainers recorded their pid counts as live while it wrote this recently


def left_running(runs_dir: str | os.PathLike) -> list[tuple[str, Path]]:
    """(model, run folder) of each run under runs_dir marked running with nothing running it, oldest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    found = []
    for path in sorted(runs_dir.iterdir(), key=_mtime):
        run = RunDir(path)
        if not (path.is_dir() and run.checkpoint_path.is_file() and run.holds_run()):
            continue
        events = run.events()
        starts = [i for i, e in enumerate(events) if isinstance(e, Start)]
        if starts and not any(isinstance(e, FINAL_EVENTS) for e in events[starts[-1]:]):
            start = events[starts[-1]]
            if not trainer_alive(start.pid, run):
                found.append((start.model, path))
    return found


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
