"""shakes-tui: the command that opens the app, and the process-wide settings the app runs best with."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import sys
from pathlib import Path

from shakes_tui.engine.data.corpus import DATA_ENV
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.lesson import load_tour
from shakes_tui.engine.models import family_names
from shakes_tui.engine.shipped import SHIPPED_DIR
from shakes_tui.tui.serve import add_serve_options, serve

DEFAULT_TOUR = Path(__file__).with_name("tour.toml")  # the guided tour's steps (tui/tour.py shows them)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shakes-tui", description="Train, compare and look inside three "
                                "character-level language models on TinyShakespeare. F1 generate, F2 train, "
                                "F3 Mercutio's gates, F4 insight, Ctrl+Q quit.", allow_abbrev=False)
    p.add_argument("--weights-dir", type=Path, default=SHIPPED_DIR, help="folder with benvolio/mercutio/romeo "
                   ".safetensors (default: the shipped weights)")
    p.add_argument("--data", help=f"training text for the Train tab (default: ${DATA_ENV}, else the cached or "
                   "downloaded TinyShakespeare)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where training runs are written")
    p.add_argument("--watch", type=Path, nargs="+", metavar="RUN_DIR", help="follow runs started elsewhere")
    p.add_argument("--tour", nargs="?", const=DEFAULT_TOUR, type=Path, metavar="FILE",
                   help="open on the guided tour (n next step, p back, Esc leaves); FILE: a tour of your own, a "
                        "copy of the shipped tour.toml edited (its fields are explained at its top)")
    add_serve_options(p)
    return p


def tune_process() -> None:
    """Settings for the whole process, made once before the app starts."""
    import torch

    torch.set_num_threads(1)  # one core per generation thread; the event loop keeps its own
    sys.setswitchinterval(0.001)  # hand the GIL to the event loop often, not every 5 ms


def calm_garbage_collector() -> None:
    """Full collections over Textual's many objects stalled the event loop for 100-180 ms about
    once a second while three streams ran (measured: p99 lag 140 ms, 28 ms with GC off).
    Freeze what exists now (the app, the models: they live as long as the app) so collections
    skip it, and collect the young generation less often. Called once the models are loaded."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    return_free_memory()


def return_free_memory() -> None:
    """Hand the heap pages that loading freed (the files' tensors, the models' first weights) back to
    the system: glibc keeps them otherwise (measured: 25-50 MB of the app's resident memory)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def create_app(*, weights_dir: Path = SHIPPED_DIR, runs_dir: Path = Path("runs"), data: str | None = None,
               watch: list[Path] | None = None, preset: str | None = None, train_extra: list[str] | None = None,
               tour: list | None = None):
    """The app as the console script runs it (tests and the bench build it here too)."""
    from shakes_tui.tui.app import ShakesApp  # imported late so --help is instant
    from shakes_tui.tui.training import TrainingSettings, default_preset

    tune_process()
    training = TrainingSettings(Path(runs_dir), data, preset or default_preset(), list(train_extra or []))
    return ShakesApp(weights_dir=weights_dir, training=training, watch=watch, after_load=calm_garbage_collector,
                     tour=tour)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    for run_dir in args.watch or []:
        if not run_dir.is_dir():
            refuse(f"--watch {run_dir}: no such run directory")
        from shakes_tui.engine.runs import RunDir  # late: engine.runs imports torch, and --help should be instant

        run = RunDir(run_dir)
        if kind := run.metrics_kind():
            refuse(f"--watch {run_dir}: its {run.metrics_path.name} is {kind}, not a regular file")
    if args.runs_dir.exists() and not args.runs_dir.is_dir():
        refuse(f"--runs-dir {args.runs_dir} is a file, not a folder")
    if args.serve:
        try:
            serve(argv, args.host, args.port, args.max_sessions, args.token)
        except OSError as exc:  # the port is taken, or the host is not this machine's
            refuse(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
        return
    tour = None
    if args.tour is not None:
        try:
            tour = load_tour(args.tour, family_names())
        except ShakesError as exc:
            refuse(str(exc))
    app = create_app(weights_dir=args.weights_dir, runs_dir=args.runs_dir, data=args.data, watch=args.watch,
                     tour=tour)
    app.run()
    sys.exit(app.return_code or 0)  # a crash inside the app (Textual prints it) is a failure, not status 0


def refuse(message: str) -> None:
    print(f"shakes-tui: error: {message}", file=sys.stderr)
    sys.exit(2)
