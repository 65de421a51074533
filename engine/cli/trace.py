"""shakes-trace: Mercutio's gates and states per character, for notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from shakes_tui.engine.atomic import atomic_path
from shakes_tui.engine.cli.common import (
    TRACE_CHARS,
    Parser,
    _set_threads,
    _threads_flag,
    positive,
    user_errors,
)
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.generation.sampling import prepare_seed
from shakes_tui.engine.inspect.context import first_family_with
from shakes_tui.engine.models import display_name
from shakes_tui.engine.shipped import weights_for
from shakes_tui.engine.weights import load_weights


@user_errors
def trace_main(argv: list[str] | None = None) -> int:
    p = Parser(prog="shakes-trace", description="Export Mercutio's forget, input, candidate and "
                                "output gates, cell state C and hidden state h per character, for notebooks.")
    p.add_argument("text", help="the text to trace")
    p.add_argument("--out", default="trace.npz", help="where to write the arrays (.npz; default trace.npz)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--max-chars", type=positive(int), default=TRACE_CHARS,
                   help=f"trace at most the first this many known characters (default {TRACE_CHARS:,})")
    gated = first_family_with("has_gates")
    p.add_argument("--weights", default=gated, help=f"a {display_name(gated)} weights file (default: the shipped one)")
    _threads_flag(p)
    args = p.parse_args(argv)
    _set_threads(args.threads, per_character=True)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise ShakesError(f"{out} exists: pass --force to overwrite it, or another --out")
    if not args.text:
        raise ShakesError("the text is empty: nothing to trace")
    loaded = load_weights(weights_for(args.weights))
    if not loaded.model.has_gates:
        raise ShakesError(f"{args.weights} holds {loaded.family}; tracing needs Mercutio (an LSTM)")
    ids, dropped = loaded.vocab.encode_lenient(args.text)
    if not ids:
        raise ShakesError(f"none of the text's characters are in {args.weights}'s vocabulary: nothing to trace")
    if dropped:
        print(f"shakes-trace: {prepare_seed(loaded.vocab, args.text).warning()}", file=sys.stderr)
    if len(ids) > args.max_chars:
        print(f"shakes-trace: traced the first {args.max_chars:,} of {len(ids):,} characters (see --max-chars)",
              file=sys.stderr)
        ids = ids[: args.max_chars]
    arrays = loaded.model.trace(torch.tensor(ids))
    with atomic_path(out) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, text=np.array(loaded.vocab.decode(ids)), **arrays)
    shape = arrays["c"].shape
    print(f"shakes-trace: wrote {out}: f, i, g, o, c, h each (chars, layers, units) = {shape}", file=sys.stderr)
    return 0
