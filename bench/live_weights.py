"""The app keeps its word, measured from the app itself (a headless Pilot, the Train tab as a person uses it):

1. a 2-minute quick run with live weights on: the seconds at which the Generate pane's weights changed;
2. Stop after a minute, then Resume: the learning rate of the last step before Stop and of the first after (this
   run logs every step).

Usage: python -m shakes_tui.bench.live_weights [--model NAME] [--data FILE] [--stop-after 60] [--resume-only]
Prints its figures; takes about five minutes (two runs of two minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from shakes_tui.engine.inspect.context import first_family_with
from shakes_tui.engine.runs import Finished, RunDir, Start, Train
from shakes_tui.tui.cli import create_app
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import Input, Select, Static


async def start_training(pilot, app, model: str, minutes: float) -> TrainingPane:
    await pilot.press("f2")
    await pilot.pause(0.5)
    app.query_one("#model-select", Select).value = model
    app.query_one("#minutes", Input).value = f"{minutes:g}"
    pane = app.query_one(TrainingPane)
    pane.request("start", model)
    return pane


async def live_updates(model: str, data: str | None, runs: Path) -> None:
    app = create_app(runs_dir=runs / "live", data=data, preset="quick")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(3)
        pane = await start_training(pilot, app, model, 2)
        process = pane.controller.processes[model]
        began, changes, source = time.monotonic(), [], app.bank.get(model).source
        while process.running or time.monotonic() - began < 5:
            await pilot.pause(0.1)
            if app.bank.get(model).source != source:
                source = app.bank.get(model).source
                changes.append(time.monotonic() - began)
        await pilot.pause(2)
        if app.bank.get(model).source != source:
            changes.append(time.monotonic() - began)
        await app.action_quit()
    said = ", ".join(f"{s:.0f}" for s in changes)
    print(f"live weights: a 2-minute quick {model} run changed the Generate pane's weights {len(changes)} times, "
          f"at {said} s after Start")


async def resume_schedule(model: str, data: str | None, runs: Path, stop_after: float) -> None:
    app = create_app(runs_dir=runs / "resume", data=data, preset="quick", train_extra=["--log-interval", "1"])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(3)
        pane = await start_training(pilot, app, model, 2)
        process = pane.controller.processes[model]
        await pilot.pause(stop_after)
        pane.request("stop", model)
        while process.running:
            await pilot.pause(0.2)
        await pilot.pause(1)
        pane.request("resume", model)
        print("after Resume the status says:", str(app.query_one("#status", Static).render()))
        while process.running:
            await pilot.pause(0.5)
        await app.action_quit()
    events = RunDir(process.run.path).events()
    restart = max(i for i, e in enumerate(events) if isinstance(e, Start))
    stopped = next(e for e in reversed(events[:restart]) if isinstance(e, Finished))
    before = [e for e in events[:restart] if isinstance(e, Train)][-1]
    after = [e for e in events[restart:] if isinstance(e, Train)][0]
    print(f"resume: stopped ({stopped.reason}) at step {stopped.step}; lr at step {before.step} {before.lr:.7f}, "
          f"at step {after.step} {after.lr:.7f} ({abs(after.lr - before.lr) / before.lr:.2%} apart); "
          f"loss {before.loss:.4f} -> {after.loss:.4f}")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m shakes_tui.bench.live_weights", description=__doc__.split("\n")[0])
    p.add_argument("--model", default=first_family_with("has_gates"), help="the model trained (default: %(default)s)")
    p.add_argument("--data", help="the corpus (default: as the app finds it)")
    p.add_argument("--stop-after", type=float, default=60.0, help="seconds before Stop (default 60)")
    p.add_argument("--resume-only", action="store_true", help="only the second measurement")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        if not args.resume_only:
            asyncio.run(live_updates(args.model, args.data, Path(runs)))
        asyncio.run(resume_schedule(args.model, args.data, Path(runs), args.stop_after))


if __name__ == "__main__":
    main()
