"""Command-line tools: shakes-train, shakes-eval, shakes-sample, shakes-trace.

Each prints a user's error as one line (no traceback) and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import shlex
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

from engine import distributed, texts
from engine.atomic import atomic_path
from engine.checkpoints import check_checkpoint
from engine.corpus import DATA_ENV, Corpus, corpus_at, find_corpus, load_corpus
from engine.devices import resolve_device
from engine.errors import ShakesError
from engine.evaluate import split_loss
from engine.guards import errors_not_signals, prepare_run_dir, write_failure
from engine.lifeline import watch_parent
from engine.models import family_names, get_family
from engine.progress import EvalProgress, TrainProgress, download_progress, encode_progress
from engine.runs import BEST_WEIGHTS, CHECKPOINT, METRICS, WEIGHTS, Failed, RunDir, new_run_path
from engine.sampling import SampleSettings, prepare_seed, stream
from engine.shipped import weights_for
from engine.speculative import speculative_stream
from engine.threads import set_threads
from engine.train import TRAIN_CONFIG_KEYS, Trainer, default_config, resume_trainer
from engine.weights import load_weights, read_metadata, update_summary

MAX_SEED = 2**63 - 1  # torch seeds are 64-bit; the batchers add to them
TRACE_CHARS = 5000  # a trace holds 6 x layers x units floats per character: 5,000 of Mercutio's is 180 MB
DATA_HELP = f"the training text (default: ${DATA_ENV}, else the cached or downloaded TinyShakespeare)"


def user_errors(main):
    """Turn ShakesError into a one-line message and exit status 2; Ctrl-C into status 130."""

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        prog = main.__name__.removesuffix("_main").replace("_", "-")
        try:
            return main(argv) or 0
        except ShakesError as exc:
            print(f"shakes-{prog}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"shakes-{prog}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0

    return lambda argv=None: sys.exit(wrapper(argv))


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with a pointer to --help) and exit status 2."""

    text_options = ("--seed",)  # their value is free text, which may begin with '-' ('-- Enter ROMEO')

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def parse_args(self, args=None, namespace=None):
        return super().parse_args(self.join_text_values(sys.argv[1:] if args is None else list(args)), namespace)

    def join_text_values(self, args: list[str]) -> list[str]:
        """'--seed -:' becomes '--seed=-:', which argparse reads as the value, not as an unknown option."""
        out, i = [], 0
        while i < len(args):
            if args[i] in self.text_options and i + 1 < len(args) and args[i + 1] not in self._option_string_actions:
                out.append(f"{args[i]}={args[i + 1]}")
                i += 2
            else:
                out.append(args[i])
                i += 1
        return out


THREADS_HELP = ("CPU threads for PyTorch (default: the cores that other work leaves idle, at least 1; "
                "one for sampling and tracing)")


def _set_threads(threads: int | None, per_character: bool = False) -> None:
    set_threads(threads, per_character=per_character)  # see engine/threads.py: fair on a busy machine


def _threads_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=positive(int), help=THREADS_HELP)


def _number(kind, ok, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {what}")
        return value

    return parse


def _names(last_sep: str, case=str.capitalize) -> str:
    names = [case(n) for n in family_names()]
    return ", ".join(names[:-1]) + last_sep + names[-1] if len(names) > 1 else "".join(names)


def positive(kind):
    return _number(kind, lambda v: v > 0, "greater than 0")


def at_least_zero(kind):
    return _number(kind, lambda v: v >= 0, "0 or more")


rng_seed = _number(int, lambda v: 0 <= v <= MAX_SEED, f"from 0 to {MAX_SEED}")


def device_name(name: str) -> str:
    """A device that exists here (checked at parse time, before any work)."""
    try:
        resolve_device(name)
    except ShakesError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def add_machine_flags(p: argparse.ArgumentParser, device_default: str = "auto") -> None:
    p.add_argument("--device", default=device_default, type=device_name,
                   help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps")
    _threads_flag(p)


# ---- shakes-train ------------------------------------------------------------------------------
def train_parser() -> argparse.ArgumentParser:
    p = Parser(prog="shakes-train", description=f"Train {_names(' or ')} into a run "
                                f"directory ({METRICS} + checkpoint). Ctrl-C stops cleanly with a checkpoint.")
    p.add_argument("--model", choices=family_names(), help="which model to train (required unless --resume)")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--out", help="run directory to create (default: runs/MODEL-YYYYmmdd-HHMMSS)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run exactly from its last checkpoint")
    p.add_argument("--init", metavar="WEIGHTS", help="start from these weights instead of random ones (fine-tune): "
                   f"a .safetensors file, or {_names(' or ', str.lower)} for the shipped ones")
    g = p.add_argument_group("budget (the learning-rate schedule spans whichever is given; default 20 minutes)")
    g.add_argument("--max-steps", type=at_least_zero(int))
    g.add_argument("--max-seconds", type=positive(float))
    g = p.add_argument_group("optimisation (defaults depend on the model)")
    for flag, kind in [("--batch-size", positive(int)), ("--seq-len", positive(int)), ("--lr", positive(float)),
                       ("--min-lr-ratio", _number(float, lambda v: 0 <= v <= 1, "between 0 and 1")),
                       ("--weight-decay", at_least_zero(float)), ("--warmup-steps", positive(int)),
                       ("--grad-clip", at_least_zero(float)), ("--eval-interval", positive(int)),
                       ("--eval-seconds", positive(float)), ("--eval-batches", positive(int)),
                       ("--checkpoint-interval", positive(int)), ("--rng-seed", rng_seed)]:
        g.add_argument(flag, type=kind)
    g.add_argument("--eval-share", type=_number(float, lambda v: 0 < v <= 1, "above 0 and at most 1"),
                   help="evaluations are skipped while they would take more than this share of the run's time "
                        "(default 0.1; 1 evaluates at every --eval-interval)")
    g.add_argument("--reset-prob", type=_number(float, lambda v: 0 <= v <= 1, "between 0 and 1"),
                   help="benvolio, mercutio: the chance per stream and batch of starting again from the learned "
                        "initial state, so the model learns to start from nothing (default: the model's)")
    g.add_argument("--ema", type=_number(float, lambda v: 0 <= v < 1, "at least 0 and below 1"),
                   help="keep an exponential average of the weights with this decay (e.g. 0.999) and evaluate "
                        "and save it instead of the raw weights (default 0: none)")
    g.add_argument("--seed", type=rng_seed, dest="old_seed", help=argparse.SUPPRESS)  # deprecated: --rng-seed
    g = p.add_argument_group("model size (defaults: the shipped preset)")
    g.add_argument("--preset", default="default", help="named size (and the settings it needs): "
                   f"{_preset_names()}; quick learns in about two minutes on a 2-core CPU")
    for flag in ["--n-layer", "--n-hidden", "--n-embd", "--n-head", "--block-size"]:
        g.add_argument(flag, type=positive(int))
    g.add_argument("--dropout", type=_number(float, lambda v: 0 <= v < 1, "at least 0 and below 1"))
    g.add_argument("--rope", action=argparse.BooleanOptionalAction,
                   help="romeo: rotary positions (RoPE) instead of a learned position embedding")
    add_machine_flags(p)
    p.add_argument("--compile", action="store_true", default=None,
                   help="torch.compile the model (CUDA with Triton; elsewhere it trains eagerly and says so)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--stop-with-parent", action="store_true", help="stop with a checkpoint if the process that "
                   "started this one ends (the app passes this, so its training never outlives it)")
    return p


def _preset_names() -> str:
    names = dict.fromkeys(name for family in family_names() for name in get_family(family).presets)
    return ", ".join(names)


MODEL_FLAGS = ("n_layer", "n_hidden", "n_embd", "n_head", "block_size", "dropout", "rope")
TRAIN_FLAGS = ("max_steps", "max_seconds", "batch_size", "seq_len", "lr", "min_lr_ratio", "weight_decay",
               "warmup_steps", "grad_clip", "eval_interval", "checkpoint_interval", "eval_batches",
               "eval_seconds", "eval_share", "rng_seed", "compile", "reset_prob", "ema")


@user_errors
def train_main(argv: list[str] | None = None) -> int:
    args = train_parser().parse_args(argv)
    if args.old_seed is not None:
        print("shakes-train: warning: --seed is deprecated, use --rng-seed", file=sys.stderr)
        args.rng_seed = args.rng_seed if args.rng_seed is not None else args.old_seed
    if args.init:
        args.init = str(weights_for(args.init))
        family = read_metadata(args.init).get("family")
        if family not in family_names():
            raise ShakesError(f"{args.init}: unknown model family {family!r}")
        args.model = args.model or family
    if not args.model and not args.resume:
        raise ShakesError(f"say which model to train: --model {'|'.join(family_names())} (or --resume RUN_DIR)")
    _set_threads(args.threads)
    errors_not_signals()
    world = distributed.join(args.device)  # under torchrun: this rank of the group
    ended = False
    try:
        code = _train(args, argv, world)
        ended = True
        return code
    finally:
        distributed.leave(together=ended)


def _train(args, argv: list[str] | None, world: distributed.World) -> int:
    ckpt = _resumable(args) if args.resume else None
    data = texts.text_to_resume(texts.recorded(ckpt), args.data) if ckpt else args.data
    text_path = find_corpus(data, progress=download_progress())
    corpus = corpus_at(text_path, encode_progress=encode_progress())
    command = "shakes-train " + shlex.join(sys.argv[1:] if argv is None else argv)
    trainer = _make_trainer(args, corpus, command, ckpt)
    trainer.text = texts.identify(text_path).as_dict()
    if args.stop_with_parent:
        watch_parent(lambda: trainer.request_stop("parent gone"))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: trainer.request_stop("signal"))
    if not world.is_main:  # rank 0 alone writes the run and speaks
        return 0 if trainer.run() == "finished" else 1
    progress = None if args.quiet or not sys.stderr.isatty() else TrainProgress(trainer)
    if progress:
        trainer.callbacks.append(progress.on_event)
    try:  # the folder exists before we name it, so a folder that cannot be made is the only line
        trainer.run_dir.create()
    except OSError as exc:
        raise ShakesError(write_failure(exc)) from None
    processes = f" x {world.size} processes" if world.size > 1 else ""
    print(f"shakes-train: {trainer.cfg.model} ({trainer.model.num_params():,} parameters) on {trainer.device}"
          f"{processes}, run directory {trainer.run_dir.path}", file=sys.stderr)
    if trainer.compile_note:
        print(f"shakes-train: {trainer.compile_note}", file=sys.stderr)
    with progress or _nothing():
        outcome = _run_reporting_write_failures(trainer)
    last = trainer.run_dir.events()[-1]
    print(f"shakes-train: {outcome} at step {trainer.step} ({getattr(last, 'reason', '')}); "
          f"weights in {trainer.run_dir.weights_path}", file=sys.stderr)
    return 0 if outcome == "finished" else 1


def _run_reporting_write_failures(trainer: Trainer) -> str:
    """Train; a write that fails (or memory that runs out) ends the run with a failed event and one line."""
    try:
        return trainer.run()
    except (OSError, MemoryError, torch.OutOfMemoryError) as exc:
        reason = write_failure(exc) if isinstance(exc, OSError) else \
            f"out of memory at step {trainer.step}: use a smaller --batch-size"
    with contextlib.suppress(OSError):  # the folder may be gone
        trainer.emit(Failed(step=trainer.step, reason=reason))
    raise ShakesError(reason)


def _resumable(args) -> dict:
    """The checkpoint of the run to resume, checked against what the command line asks."""
    run = RunDir(args.resume)
    prepare_run_dir(run)
    ckpt = run.load_checkpoint()
    check_checkpoint(ckpt, run.checkpoint_path, TRAIN_CONFIG_KEYS)
    saved = ckpt["train_config"]["model"]
    if args.model and args.model != saved:
        raise ShakesError(f"{args.resume} is a {saved} run, not {args.model}: drop --model, or start a new run")
    return ckpt


def _make_trainer(args, corpus, command: str, ckpt: dict | None) -> Trainer:
    train_values = {k: getattr(args, k) for k in TRAIN_FLAGS}
    if args.resume:
        return resume_trainer(RunDir(args.resume), corpus, overrides={**train_values, "device": args.device},
                              command=command, ckpt=ckpt)
    model_values = {k: getattr(args, k) for k in MODEL_FLAGS if getattr(args, k) is not None}
    cfg = default_config(args.model, preset=args.preset, model_overrides=model_values, device=args.device,
                         init_from=args.init, **train_values)
    out = Path(args.out or new_run_path("runs", args.model))
    check_free_run_dir(out)
    return Trainer(cfg, corpus, RunDir(out), command=command)


def check_free_run_dir(out: Path) -> None:
    """A new run may go into a new or empty folder (or one holding only the app's stderr.log): never over files."""
    if RunDir(out).holds_run():
        raise ShakesError(f"{out} already holds a run: use --resume {out}, or another --out")
    taken = [name for name in (CHECKPOINT, WEIGHTS, BEST_WEIGHTS) if (out / name).exists()]
    if taken:
        raise ShakesError(f"{out} already holds {', '.join(taken)} (not a run of ours): choose another --out")
    if out.exists() and not out.is_dir():
        raise ShakesError(f"--out {out} is a file, not a folder")


class _nothing:
    """Stands in for a progress bar where there is none: ``with bar or _nothing() as b`` gives None."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# ---- shakes-eval -------------------------------------------------------------------------------
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


# ---- shakes-sample -----------------------------------------------------------------------------
@user_errors
def sample_main(argv: list[str] | None = None) -> int:
    p = Parser(prog="shakes-sample", description="Stream a model's continuation of a seed.")
    p.add_argument("--model", default="romeo", choices=family_names(), help="which shipped model")
    p.add_argument("--weights", help="a weights file (overrides --model)")
    p.add_argument("--seed", default="\n", help="text to continue")
    p.add_argument("-n", type=at_least_zero(int), default=500, help="characters to generate")
    p.add_argument("--temperature", type=at_least_zero(float), default=0.8, help="0 (or below 0.001) for greedy")
    p.add_argument("--top-k", type=positive(int))
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


# ---- shakes-trace ------------------------------------------------------------------------------
@user_errors
def trace_main(argv: list[str] | None = None) -> int:
    p = Parser(prog="shakes-trace", description="Export Mercutio's forget, input, candidate and "
                                "output gates, cell state C and hidden state h per character, for notebooks.")
    p.add_argument("text", help="the text to trace")
    p.add_argument("--out", default="trace.npz", help="where to write the arrays (.npz; default trace.npz)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--max-chars", type=positive(int), default=TRACE_CHARS,
                   help=f"trace at most the first this many known characters (default {TRACE_CHARS:,})")
    p.add_argument("--weights", default="mercutio", help="a Mercutio weights file (default: the shipped one)")
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
