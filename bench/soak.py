"""Soak: the app headless for many minutes, training and generating all the time. Not part of the suite.

    nohup python -m shakes_tui.bench.soak --minutes 20 --data ../shared/data/tinyshakespeare.txt > soak.log 2>&1 &

Training runs in the app's child process (a tiny model, so events and checkpoints come often); the
three generation panes are given a new seed as soon as all three are done. Every minute one JSON line
reports the app's peak RSS (VmHWM), current RSS, threads, open files, the events the app has received
against those in the run's metrics file, and the finished generation rounds. At the end: nothing lost
(every event written was received, the run finished with a checkpoint), no failed worker.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

SEED = "Now is the winter of our discontent\n"


def proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def figures(minute: float, received: int, written: int, rounds: int) -> dict:
    return {"minute": round(minute, 2), "peak_rss_mb": round(proc_status("VmHWM") / 1024, 1),
            "rss_mb": round(proc_status("VmRSS") / 1024, 1), "threads": proc_status("Threads"),
            "python_threads": threading.active_count(), "open_files": len(os.listdir("/proc/self/fd")),
            "events_received": received, "events_written": written, "generation_rounds": rounds}


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


async def soak(minutes: float, data: str, runs_dir: Path, report) -> bool:
    from shakes_tui.tui.cli import create_app
    from shakes_tui.tui.widgets.training_pane import TrainingPane
    from textual.widgets import Input, Select
    from textual.worker import WorkerState

    received, rounds, done = [0], [0], set()
    recent = collections.deque(maxlen=256)  # a message bubbling up reaches the hook once per widget: count it once

    def hook(message) -> None:
        if type(message).__name__ == "TrainingEvents" and not any(m is message for m in recent):
            recent.append(message)
            received[0] += len(message.events)
        if type(message).__name__ == "GenerationProgress" and message.done:
            done.add(message.model)

    app = create_app(runs_dir=runs_dir, data=data, preset="tiny",
                    train_extra=["--seq-len", "32", "--batch-size", "8", "--eval-interval", "200",
                                 "--checkpoint-interval", "500"])
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await pilot.pause(3)
        await pilot.press("f2")
        app.query_one("#model-select", Select).value = "mercutio"
        app.query_one("#minutes", Input).value = str(minutes + 1)
        await pilot.click("#start")
        await pilot.press("f1")
        start, next_report = time.monotonic(), 1.0
        app.query_one("#length", Input).value = "200"
        while (elapsed := (time.monotonic() - start) / 60) < minutes:
            if not app.query_one("#seed", Input).value or len(done) == 3 or elapsed * 60 < 1:
                if len(done) == 3:
                    rounds[0] += 1
                done.clear()
                app.query_one("#seed", Input).value = SEED
                app.query_one("#seed", Input).focus()
                await pilot.press("enter")
            await pilot.pause(0.5)
            if elapsed >= next_report:
                job = app.query_one(TrainingPane).controller.processes["mercutio"]
                report(figures(elapsed, received[0], count_lines(job.run.metrics_path), rounds[0]))
                next_report += 1
        job = app.query_one(TrainingPane).controller.processes["mercutio"]
        failed = [str(w.error) for w in app.workers if w.state == WorkerState.ERROR]
        await app.action_quit()
    await asyncio.sleep(1)
    written = count_lines(job.run.metrics_path)
    events = [json.loads(line) for line in job.run.metrics_path.read_text().splitlines()]
    end = figures(minutes, received[0], written, rounds[0])
    end.update(failed_workers=failed, last_event=events[-1].get("type"), checkpoint=job.run.checkpoint_path.is_file(),
               returncode=job.process.returncode)
    report(end)
    return not failed and events[-1].get("type") == "finished" and end["checkpoint"] and received[0] == written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m shakes_tui.bench.soak", description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--data", required=True, help="the training text")
    p.add_argument("--runs-dir", type=Path, help="default: a new temporary folder")
    args = p.parse_args(argv)
    runs_dir = args.runs_dir or Path(tempfile.mkdtemp(prefix="soak-"))

    def report(row: dict) -> None:
        print(json.dumps(row), flush=True)

    ok = asyncio.run(soak(args.minutes, args.data, runs_dir, report))
    print("soak: " + ("nothing lost, no failed worker" if ok else "FAILED"), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
