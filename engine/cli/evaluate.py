"""shakes-eval: the loss over every character of a split."""

from __future__ import annotations

import json
import math
import time

from shakes_tui.engine.cli.common import (
    DATA_HELP,
    Parser,
    _nothing,
    _set_threads,
    add_machine_flags,
    positive,
    user_errors,
)
from shakes_tui.engine.cli.progress import EvalProgress, download_progress, encode_progress
from shakes_tui.engine.data.corpus import Corpus, load_corpus
from shakes_tui.engine.devices import resolve_device
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.evaluate import default_stride, split_loss
from shakes_tui.engine.models import family_names, get_family
from shakes_tui.engine.shipped import weights_for
from shakes_tui.engine.weights import load_weights, update_summary


@user_errors
def eval_main(argv: list[str] | None = None) -> int:
    p = Parser(prog="shakes-eval", description="The loss (nats per character) over every character of the "
               "standard 10 % validation split, each scored once with the context the model can use: Benvolio "
               "and Mercutio carry their state from the start of the split; Romeo reads sliding windows of its "
               "block (stride --stride) and scores each window's new characters (val_loss). For Romeo it also "
               "gives val_loss_windows: consecutive windows, where the j-th character of a window sees only j "
               "before it, the figure comparable with nanoGPT's estimate.")
    p.add_argument("--weights", nargs="+", default=list(family_names()),
                   help="weights files or shipped model names (default: every shipped model)")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--record", action="store_true", help="write the measured losses into each file's metadata "
                   "(validation split only)")
    p.add_argument("--split", choices=("val", "train"), default="val",
                   help="val (default: every character of the validation split, 111,540 on "
                        "TinyShakespeare) or train: the last stretch of the training split as long as the "
                        "validation split (the characters just before it), measured the same way")
    p.add_argument("--stride", type=positive(int),
                   help="how far a windowed model's window slides (default: a quarter of its block)")
    add_machine_flags(p, device_default="cpu")
    args = p.parse_args(argv)
    if args.record and args.split != "val":
        raise ShakesError("--record writes the validation figures: drop --split train")
    _set_threads(args.threads)
    corpus = load_corpus(args.data, progress=download_progress(), encode_progress=encode_progress())
    with EvalProgress.if_terminal() or _nothing() as bars:
        results = _evaluate_each(args, corpus, bars)
    if args.json:
        print(json.dumps(results, indent=2, allow_nan=False))
    return 0


def split_ids(corpus: Corpus, split: str):
    """The characters a split is scored on: the validation split, or as many characters of the training split,
    the last ones before the validation split begins."""
    return corpus.val if split == "val" else corpus.train[-min(corpus.val.numel(), corpus.train.numel()):]


def _evaluate_each(args, corpus: Corpus, bars: EvalProgress | None) -> dict:
    """Each weights file's loss over the split (a line each, unless --json), a bar each on a terminal."""
    results, ids, key = {}, split_ids(corpus, args.split), args.split
    for name in args.weights:
        path = weights_for(name)
        loaded = load_weights(path, device=resolve_device(args.device))
        if loaded.vocab != corpus.vocab:
            raise ShakesError(f"{path}: its vocabulary differs from the corpus's; evaluate it on its own text")
        model = loaded.model
        t0 = time.perf_counter()
        loss = split_loss(model, ids, progress=bars.model(name) if bars else None, stride=args.stride)
        seconds = time.perf_counter() - t0
        windows, windows_seconds = None, None
        if not model.is_recurrent:
            t0 = time.perf_counter()
            windows = split_loss(model, ids, progress=bars.model(f"{name} (windows)") if bars else None,
                                 windows=True)
            windows_seconds = time.perf_counter() - t0
        if not all(math.isfinite(v) for v in (loss, windows or 0.0)):
            raise ShakesError(f"{path}: its {key} loss is {loss} (the weights overflow); nothing recorded")
        results[name] = {"family": loaded.family, f"{key}_loss": round(loss, 4),
                         f"{key}_loss_windows": None if windows is None else round(windows, 4),
                         "stride": None if model.is_recurrent else args.stride or default_stride(model.max_context()),
                         "chars": int(ids.numel()), "params": model.num_params(), "seconds": round(seconds, 1),
                         "windows_seconds": None if windows_seconds is None else round(windows_seconds, 1),
                         "path": str(path)}
        if args.record:
            update_summary(path, val_loss=round(loss, 4), val_loss_windows=results[name]["val_loss_windows"],
                           val_chars=int(corpus.val.numel()))
        if not args.json:
            consecutive = "" if windows is None else \
                f"  consecutive windows {windows:.4f} ({results[name]['windows_seconds']} s)"
            print(f"{name:<10} {get_family(loaded.family).role:<12} {model.num_params():>10,} params  "
                  f"{key} loss {loss:.4f} ({results[name]['seconds']} s){consecutive}", flush=True)
    return results
