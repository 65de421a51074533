"""Run by tests/test_app_faults.py in a child process: the app, headless, starts a tiny training run and
prints the training child's pid and run folder once it has a checkpoint; then it waits to be killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from shakes_tui.tui.cli import create_app
from shakes_tui.tui.widgets.training_pane import TrainingPane

TRAINING = ["--seq-len", "16", "--batch-size", "4", "--eval-interval", "10", "--eval-batches", "2", "--max-steps",
            "100000", "--checkpoint-interval", "20"]


async def main(runs_dir: str, data: str) -> None:
    app = create_app(runs_dir=Path(runs_dir), data=data, preset="tiny", train_extra=TRAINING)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f2")
        await pilot.click("#start")  # Benvolio
        processes = app.query_one(TrainingPane).controller.processes
        while not ((job := processes.get("benvolio")) and job.run.checkpoint_path.exists()):
            await pilot.pause(0.1)
        print(job.process.pid, job.run.path, flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
