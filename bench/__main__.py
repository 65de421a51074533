"""python -m shakes_tui.bench [--quick] [--json FILE] [--data PATH]: the project's speed and memory, as ratios."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from shakes_tui.bench import growth
from shakes_tui.bench.app_rows import app_rows
from shakes_tui.bench.busy import busy_rows
from shakes_tui.bench.report import print_growth, print_table, write_json
from shakes_tui.bench.speed import generation_rows, trace_rows, training_rows


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m shakes_tui.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a smoke run on tiny models (seconds, not minutes)")
    p.add_argument("--json", type=Path, help="also write the rows as JSON")
    p.add_argument("--data", help="corpus for the app's training child (default: as shakes-train finds it)")
    args = p.parse_args()
    preset, reps = ("tiny", 2) if args.quick else ("default", 5)
    started = time.perf_counter()
    rows = training_rows(preset, reps=2 if args.quick else 5)
    rows += generation_rows(preset, reps)
    rows += trace_rows(preset, reps=2 if args.quick else 3)
    rows += app_rows(seconds=2.0 if args.quick else 10.0, data=args.data, tiny=args.quick)
    rows += busy_rows(args.quick)
    print_table(rows)
    tables = {
        "generation ms/char by context": growth.generation_by_context(
            preset, [64, 256] if args.quick else [64, 256, 1024, 4096]),
        "gate trace ms by text length": growth.trace_by_length(
            preset, [100, 1000] if args.quick else [100, 1000, 3000, 10000]),
        "training k chars/s by batch": growth.training_by_batch(
            preset, [4, 8] if args.quick else [8, 16, 32, 64], seq=32 if args.quick else 128),
    }
    print_growth("generation time per character against context length", "context", "ms per character",
                 tables["generation ms/char by context"])
    print_growth("Mercutio gate trace against text length", "chars", "ms per trace",
                 tables["gate trace ms by text length"])
    print_growth("training speed against batch size (seq 128, 2 threads)", "batch", "thousand chars/s",
                 tables["training k chars/s by batch"])
    if args.json:
        write_json(args.json, rows, tables)
    print(f"\n{len(rows)} rows, {sum(r.passed is True for r in rows)} pass, "
          f"{sum(r.passed is False for r in rows)} miss, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
