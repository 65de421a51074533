"""shakes-train: train a model into a run directory, or resume one."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
from pathlib import Path

import torch
from shakes_tui.engine.cli.common import (
    DATA_HELP,
    Parser,
    _names,
    _nothing,
    _number,
    _set_threads,
    add_machine_flags,
    at_least_zero,
    between,
    positive,
    rng_seed,
    user_errors,
)
from shakes_tui.engine.cli.progress import TrainProgress, download_progress, encode_progress
from shakes_tui.engine.data import identity as texts
from shakes_tui.engine.data.corpus import corpus_at, find_corpus
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import family_names, get_family
from shakes_tui.engine.runs import BEST_WEIGHTS, CHECKPOINT, METRICS, WEIGHTS, Failed, RunDir, new_run_path
from shakes_tui.engine.shipped import weights_for
from shakes_tui.engine.training import distributed
from shakes_tui.engine.training.checkpoint_checks import check_checkpoint
from shakes_tui.engine.training.parent_watch import watch_parent
from shakes_tui.engine.training.trainer import TRAIN_CONFIG_KEYS, Trainer, default_config, resume_trainer
from shakes_tui.engine.training.write_failures import errors_not_signals, prepare_run_dir, write_failure
from shakes_tui.engine.weights import CONFIG_LIMITS, read_metadata

MAX_EVAL_BATCHES = 10_000  # windows per estimate (8 by default)
DIVERGES = " (beyond it, AdamW trains into NaN)"


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
    for flag, kind in [("--batch-size", positive(int)), ("--seq-len", positive(int)),
                       ("--lr", _number(float, lambda v: 0 < v <= 1, f"above 0 and at most 1{DIVERGES}")),
                       ("--min-lr-ratio", _number(float, lambda v: 0 <= v <= 1, "between 0 and 1")),
                       ("--weight-decay", _number(float, lambda v: 0 <= v <= 1, f"from 0 to 1{DIVERGES}")),
                       ("--warmup-steps", positive(int)),
                       ("--grad-clip", at_least_zero(float)), ("--eval-interval", positive(int)),
                       ("--eval-seconds", positive(float)),
                       ("--eval-batches", between(int, 1, MAX_EVAL_BATCHES, " (each evaluation would never end)")),
                       ("--checkpoint-interval", positive(int)), ("--log-interval", positive(int)),
                       ("--rng-seed", rng_seed)]:
        g.add_argument(flag, type=kind)
    g.add_argument("--checkpoint-seconds", type=positive(float), help="also write a checkpoint (and the weights) "
                   "every this many seconds of training (default: by steps only; the app asks for 30, so that its "
                   "live weights change within half a minute)")
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
    for flag in ["--n-layer", "--n-hidden", "--n-embd", "--n-head", "--block-size"]:  # what a weights file may hold
        g.add_argument(flag, type=between(int, 1, CONFIG_LIMITS[flag[2:].replace("-", "_")]))
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
               "eval_seconds", "eval_share", "rng_seed", "compile", "reset_prob", "ema", "checkpoint_seconds",
               "log_interval")


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
    trainer = _make_trainer(args, corpus, command, ckpt, texts.identify(text_path).as_dict())
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


def _make_trainer(args, corpus, command: str, ckpt: dict | None, text: dict) -> Trainer:
    """The trainer the command line asks for; text: the identity of the text it trains on (recorded in the run)."""
    train_values = {k: getattr(args, k) for k in TRAIN_FLAGS}
    if args.resume:
        return resume_trainer(RunDir(args.resume), corpus, overrides={**train_values, "device": args.device},
                              command=command, ckpt=ckpt, text=text)
    model_values = {k: getattr(args, k) for k in MODEL_FLAGS if getattr(args, k) is not None}
    cfg = default_config(args.model, preset=args.preset, model_overrides=model_values, device=args.device,
                         init_from=args.init, **train_values)
    out = Path(args.out or new_run_path("runs", args.model))
    check_free_run_dir(out)
    return Trainer(cfg, corpus, RunDir(out), text=text, command=command)


def check_free_run_dir(out: Path) -> None:
    """A new run may go into a new or empty folder (or one holding only the app's stderr.log): never over files."""
    if RunDir(out).holds_run():
        raise ShakesError(f"{out} already holds a run: use --resume {out}, or another --out")
    taken = [name for name in (CHECKPOINT, WEIGHTS, BEST_WEIGHTS) if (out / name).exists()]
    if taken:
        raise ShakesError(f"{out} already holds {', '.join(taken)} (not a run of ours): choose another --out")
    if out.exists() and not out.is_dir():
        raise ShakesError(f"--out {out} is a file, not a folder")
