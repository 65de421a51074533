"""shakes-sample: stream a model's continuation of a seed."""

from __future__ import annotations

import sys

from shakes_tui.engine.cli.common import (
    Parser,
    _set_threads,
    _threads_flag,
    between,
    flag,
    rng_seed,
    user_errors,
)
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.generation.sampling import (
    DEFAULT_TEMPERATURE,
    GREEDY_BELOW,
    TEMPERATURE,
    TOP_K,
    SampleSettings,
    prepare_seed,
    stream,
)
from shakes_tui.engine.generation.speculative import speculative_stream
from shakes_tui.engine.models import SAMPLED_BY_DEFAULT, family_names
from shakes_tui.engine.shipped import weights_for
from shakes_tui.engine.weights import load_weights

MAX_CHARS = 100_000_000  # about a day at Romeo's speed on a CPU


@user_errors
def sample_main(argv: list[str] | None = None) -> int:
    p = Parser(prog="shakes-sample", description="Stream a model's continuation of a seed.")
    p.add_argument("--model", default=SAMPLED_BY_DEFAULT, choices=family_names(), help="which shipped model")
    p.add_argument("--weights", help="a weights file (overrides --model)")
    p.add_argument("--seed", default="\n", help="text to continue")
    p.add_argument("-n", type=between(int, 0, MAX_CHARS, " (more would take weeks)"), default=500,
                   help=f"characters to generate (at most {MAX_CHARS:,})")
    p.add_argument("--temperature", type=flag(TEMPERATURE), default=DEFAULT_TEMPERATURE,
                   help=f"0 (or below {GREEDY_BELOW:g}) for greedy")
    p.add_argument("--top-k", type=flag(TOP_K))
    p.add_argument("--rng-seed", type=rng_seed, help="the same RNG seed gives the same text")
    p.add_argument("--draft", help="a recurrent model (name or weights file) drafting for Romeo: speculative "
                   "sampling, the same distribution, faster")
    _threads_flag(p)
    args = p.parse_args(argv)
    _set_threads(args.threads, per_character=True)
    loaded = load_weights(args.weights or weights_for(args.model))
    draft = load_weights(weights_for(args.draft)) if args.draft else None
    if draft is not None and draft.vocab != loaded.vocab:
        raise ShakesError(f"--draft {args.draft}: its vocabulary differs from the model's")
    prepared = prepare_seed(loaded.vocab, args.seed)
    if prepared.warning():
        print(f"shakes-sample: {prepared.warning()}", file=sys.stderr)
    settings = SampleSettings(args.temperature, args.top_k, args.rng_seed)
    sys.stdout.write(args.seed.encode("utf-8", "backslashreplace").decode("utf-8"))  # lone surrogates as \udxxx
    if draft is None:
        chars = stream(loaded.model, loaded.vocab, prepared, args.n, settings)
    else:
        chars = speculative_stream(loaded.model, draft.model, loaded.vocab, prepared, args.n, settings)
    for ch in chars:
        sys.stdout.write(ch)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0

