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
    user_errors,
)
from shakes_tui.engine.cli.progress import EvalProgress, download_progress, encode_progress
from shakes_tui.engine.data.corpus import Corpus, load_corpus
from shakes_tui.engine.devices import resolve_device
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.evaluate import split_loss
from shakes_tui.engine.models import family_names, get_family
from shakes_tui.engine.shipped import weights_for
from shakes_tui.engine.weights import load_weights, update_summary


@user_errors
def eval_main(argv: list[str] | None = None) -> int:
    p = Parser(prog="shakes-eval", description="Validation loss (nats per character) over "
                                "every character of the standard 10 % validation split.")
    p.add_argument("--weights", nargs="+", default=list(family_names()),
                   help="weights files or shipped model names (default: every shipped model)")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--record", action="store_true", help="write the measured loss into each file's metadata")
    add_machine_flags(p, device_default="cpu")
    args = p.parse_args(argv)
    _set_threads(args.threads)
    corpus = load_corpus(args.data, progress=download_progress(), encode_progress=encode_progress())
    with EvalProgress.if_terminal() or _nothing() as bars:
        results = _evaluate_each(args, corpus, bars)
    if args.json:
        print(json.dumps(results, indent=2, allow_nan=False))
    return 0


def _evaluate_each(args, corpus: Corpus, bars: EvalProgress | None) -> dict:
    """Each weights file's loss over the validation split (a line each, unless --json), a bar each on a terminal."""
    results = {}
    for name in args.weights:
        path = weights_for(name)
        loaded = load_weights(path, device=resolve_device(args.device))
        if loaded.vocab != corpus.vocab:
            raise ShakesError(f"{path}: its vocabulary differs from the corpus's; evaluate it on its own text")
        t0 = time.perf_counter()
        loss = split_loss(loaded.model, corpus.val, progress=bars.model(name) if bars else None)
        if not math.isfinite(loss):
            raise ShakesError(f"{path}: its validation loss is {loss} (the weights overflow); nothing recorded")
        results[name] = {"family": loaded.family, "val_loss": round(loss, 4), "params": loaded.model.num_params(),
                         "seconds": round(time.perf_counter() - t0, 1), "path": str(path)}
        if args.record:
            update_summary(path, val_loss=round(loss, 4), val_chars=int(corpus.val.numel()))
        if not args.json:
            print(f"{name:<10} {get_family(loaded.family).role:<12} {loaded.model.num_params():>10,} params  "
                  f"val loss {loss:.4f}  ({results[name]['seconds']} s)", flush=True)
    return results

