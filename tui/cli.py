"""shakes-tui: the command that opens the app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.corpus import DATA_ENV
from engine.shipped import SHIPPED_DIR


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shakes-tui", description="Train, compare and look inside three "
                                "character-level language models on TinyShakespeare. F1 generate, F2 train, "
                                "F3 Mercutio's gates, Ctrl+Q quit.")
    p.add_argument("--weights-dir", type=Path, default=SHIPPED_DIR, help="folder with benvolio/mercutio/romeo "
                   ".safetensors (default: the shipped weights)")
    p.add_argument("--data", help=f"training text for the Train tab (default: ${DATA_ENV}, else the cached or "
                   "downloaded TinyShakespeare)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where training runs are written")
    p.add_argument("--watch", type=Path, nargs="+", metavar="RUN_DIR", help="follow runs started elsewhere")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    for run_dir in args.watch or []:
        if not run_dir.is_dir():
            sys.exit(f"shakes-tui: error: --watch {run_dir}: no such run directory")
    from tui.app import ShakesApp  # imported late so --help is instant

    ShakesApp(weights_dir=args.weights_dir, runs_dir=args.runs_dir, data=args.data, watch=args.watch).run()
