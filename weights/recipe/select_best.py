"""Pick the best of several candidate weights files per model, export it, and record its loss.

    python weights/recipe/select_best.py --data TEXT --out DIR --dtype float16 MODEL=FILE [MODEL=FILE ...]

Each candidate is evaluated over the whole validation split (shakes_tui.engine.evaluate.split_loss: each
character once, with the context the model can use); the winner is written to DIR/MODEL.safetensors in
``dtype``, evaluated again as stored, and that figure is recorded in its metadata (with, for a windowed model,
the consecutive-windows figure as val_loss_windows).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shakes_tui.engine.data.corpus import load_corpus  # noqa: E402
from shakes_tui.engine.evaluate import split_loss  # noqa: E402
from shakes_tui.engine.weights import load_weights, save_weights, update_summary  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--dtype", default="float16")
    p.add_argument("--device", default="cpu")
    p.add_argument("candidates", nargs="+", help="MODEL=FILE")
    args = p.parse_args()
    corpus = load_corpus(args.data)
    groups: dict[str, list[Path]] = defaultdict(list)
    for item in args.candidates:
        name, _, path = item.partition("=")
        if Path(path).is_file():
            groups[name].append(Path(path))
    report = {}
    for name, paths in groups.items():
        scored = []
        for path in paths:
            loaded = load_weights(path, device=args.device)
            t0 = time.perf_counter()
            loss = split_loss(loaded.model, corpus.val)
            scored.append((loss, path, loaded))
            print(f"{name:<9} {loss:.4f}  {path}  ({time.perf_counter() - t0:.1f} s)", flush=True)
        loss, path, loaded = min(scored, key=lambda s: s[0])
        dest = Path(args.out) / f"{name}.safetensors"
        save_weights(dest, loaded.model, loaded.vocab, {**loaded.summary, "selected_from": str(path)}, args.dtype)
        exported = load_weights(dest, device=args.device).model
        stored = split_loss(exported, corpus.val)
        windows = None if exported.is_recurrent else round(split_loss(exported, corpus.val, windows=True), 4)
        update_summary(dest, val_loss=round(stored, 4), val_loss_windows=windows, val_chars=int(corpus.val.numel()))
        report[name] = {"from": str(path), "val_loss_fp32": round(loss, 4), "val_loss_stored": round(stored, 4)}
        print(f"{name:<9} selected {path} -> {dest}: {stored:.4f} as {args.dtype}", flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
