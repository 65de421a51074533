"""Read the runs bench/gpu.sh wrote: training chars/s per run, and the time Romeo took to reach a validation loss.

    python -m shakes_tui.bench.gpu_report speed RUN_DIR...     one line per run: median chars/s after warm-up
    python -m shakes_tui.bench.gpu_report target LOSS RUN_DIR  when the run's validation estimate first reached LOSS
"""

from __future__ import annotations

import statistics
import sys

from shakes_tui.engine.runs import Eval, RunDir, Start, Train

WARMUP_EVENTS = 2  # the first train events include compilation and cuDNN/cuBLAS autotuning


def chars_per_second(run: RunDir) -> float | None:
    """The median chars/s of a run's train events after the first few."""
    rates = [e.chars_per_s for e in run.events() if isinstance(e, Train)][WARMUP_EVENTS:]
    return statistics.median(rates) if rates else None


def time_to_target(run: RunDir, target: float) -> dict | None:
    """The first evaluation at or below target: its step, validation estimate, wall seconds since the start
    event (evaluations included), and training seconds (the train events' clock, evaluations excluded)."""
    events = run.events()
    start = next(e for e in events if isinstance(e, Start))
    for event in events:
        if isinstance(event, Eval) and event.val_loss <= target:
            trained = [e.elapsed for e in events if isinstance(e, Train) and e.step <= event.step]
            return {"step": event.step, "val_loss": event.val_loss,
                    "wall_s": round(event.time - start.time, 1), "train_s": trained[-1] if trained else 0.0}
    return None


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "speed":
        for path in argv[1:]:
            rate = chars_per_second(RunDir(path))
            print(f"{path:<48} {'no train events' if rate is None else f'{rate:>14,.0f} chars/s'}")
        return 0
    if len(argv) == 3 and argv[0] == "target":
        reached = time_to_target(RunDir(argv[2]), float(argv[1]))
        if reached is None:
            best = min((e.val_loss for e in RunDir(argv[2]).events() if isinstance(e, Eval)), default=None)
            print(f"{argv[2]}: did not reach validation {argv[1]} (best estimate {best})")
            return 1
        print(f"{argv[2]}: validation {reached['val_loss']} <= {argv[1]} at step {reached['step']}: "
              f"{reached['wall_s']} s wall clock, {reached['train_s']} s of training")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
