"""shakes-inspect: the Insight measurements on the command line; --json prints them for notebooks, --plot and --csv
write them as a figure for slides (engine/figures.py).

A command's run function returns (the JSON, the lines printed) or, to give --plot and --csv something to write,
(the JSON, the lines, a figures.Figure); every subcommand gets the two flags from _command."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from shakes_tui.engine import figures
from shakes_tui.engine.cli.common import (
    DATA_HELP,
    TRACE_CHARS,
    Parser,
    _set_threads,
    add_machine_flags,
    between,
    positive,
    user_errors,
)
from shakes_tui.engine.cli.progress import download_progress
from shakes_tui.engine.colours import family_colour
from shakes_tui.engine.data.corpus import TRAIN_FRACTION, find_corpus, read_text
from shakes_tui.engine.devices import resolve_device
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.attention import attention
from shakes_tui.engine.inspect.cells import STATE_NAMES, cells
from shakes_tui.engine.inspect.compare import compare, one_word_replaced
from shakes_tui.engine.inspect.context import first_family_with
from shakes_tui.engine.inspect.copying import CopyIndex
from shakes_tui.engine.inspect.saturation import GATE_NAMES, saturation
from shakes_tui.engine.inspect.span import FAR, GONE, GRID, SpanSettings, memory_span
from shakes_tui.engine.inspect.surprise import surprise
from shakes_tui.engine.models import display_name, family_names, get_family
from shakes_tui.engine.shipped import weights_for
from shakes_tui.engine.weights import LoadedModel, load_weights

WEIGHTS_HELP = "weights files or shipped model names"
NUMBERING = ("Layers, heads and units are numbered from 1, as the app shows them (layer 1/6 · head 1/6); "
             "in --json, each labels its arrays with that numbering ('layers', 'heads'), and the arrays "
             "hold layer 1 first.")


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="shakes-inspect", description="Why the models differ: surprise per character, memory span, "
               "Romeo's attention, Mercutio's gate saturation, two texts compared, cells that track something, "
               f"copying. {NUMBERING}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = _command(sub, "surprise", "each model's loss per character of TEXT and its top-5 guesses")
    s.add_argument("text", help="the text ('-' reads standard input)")
    s.add_argument("--weights", nargs="+", default=list(family_names()), help=f"{WEIGHTS_HELP} (default: all)")
    s = _command(sub, "span", "loss against context length k and the influence of the character k back, "
                 "over the validation split")
    s.add_argument("--weights", nargs="+", default=list(family_names()), help=f"{WEIGHTS_HELP} (default: all)")
    s.add_argument("--data", help=DATA_HELP)
    s.add_argument("--positions", type=positive(int), default=SpanSettings.positions,
                   help="validation positions scored at every k (default %(default)s)")
    s.add_argument("--influence-positions", type=positive(int), default=SpanSettings.influence_positions,
                   help="how many of them also measure influence (default %(default)s)")
    add_machine_flags(s, device_default="cpu")
    s = _command(sub, "attention", "Romeo's attention weights over TEXT, per layer and head (from 1)")
    s.add_argument("text", help="the text ('-' reads standard input); the last block's worth is used")
    s.add_argument("--weights", default=first_family_with("has_attention"),
                   help="weights of a model with attention (default: the first shipped one, %(default)s)")
    s.add_argument("--layer", type=int, default=1, help="layer shown without --json, from 1 (default 1)")
    s.add_argument("--head", type=int, default=1, help="head shown without --json, from 1 (default 1)")
    s = _command(sub, "saturation", "how often each of Mercutio's gate units is below 0.1 or above 0.9, "
                 "per layer (from 1)")
    s.add_argument("text", nargs="?", help="the text (default: the start of the validation split)")
    s.add_argument("--weights", default=first_family_with("has_gates"),
                   help="weights of a model with gates (default: the first shipped one, %(default)s)")
    s.add_argument("--data", help=DATA_HELP)
    s.add_argument("--chars", type=positive(int), default=2000, help="validation characters when no TEXT is given")
    s = _command(sub, "compare", "two texts that differ in one place: along the ending they share, how much each "
                 "model's prediction still moves (KL) and each character's loss after either text")
    s.add_argument("text", help="the first text ('-' reads standard input)")
    s.add_argument("text_b", nargs="?", help="the second text, ending as the first does (default: the first with "
                   "one early word replaced: king -> queen, he -> she, ..., else its first long word reversed)")
    s.add_argument("--weights", nargs="+", default=list(family_names()), help=f"{WEIGHTS_HELP} (default: all)")
    s = _command(sub, "cells", "the units of the recurrent models (each layer's hidden state, and Mercutio's cell "
                 "state) that best follow simple features of the text: inside quotes or brackets, position in the "
                 "line, a speaker's name line, a word's start, after a sentence's end")
    s.add_argument("text", nargs="?", help="the text (default: the start of the validation split)")
    s.add_argument("--weights", nargs="+", help=f"{WEIGHTS_HELP} of recurrent models (default: every shipped "
                   f"recurrent one: {', '.join(RECURRENT)})")
    s.add_argument("--data", help=DATA_HELP)
    s.add_argument("--chars", type=between(int, 2, TRACE_CHARS), default=TRACE_CHARS,
                   help="validation characters when no TEXT is given (default and most: %(default)s)")
    s.add_argument("--top", type=between(int, 1, 100), default=3, help="units shown per feature (default 3)")
    s = _command(sub, "copying", "the longest stretch of TEXT found in the training text, and its 8-grams' share")
    s.add_argument("text", help="the text ('-' reads standard input)")
    s.add_argument("--data", help=DATA_HELP + "; its first 90 %% is the training text")
    return p


def _command(sub, name: str, text: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", action="append", default=[], metavar="FILE",
                   help=f"also draw the figure into FILE, .png or .svg by its suffix ({figures.SIZE_WORDS}; "
                        "give it twice for both; needs matplotlib: pip install -e '.[plots]')")
    p.add_argument("--csv", metavar="FILE", help="also write the numbers behind the figure to FILE as CSV")
    return p


@user_errors
def inspect_main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "text", None) == "-":
        args.text = sys.stdin.read()
    for plot in args.plot:  # before measuring, which can take minutes
        if Path(plot).suffix.lower() not in figures.FORMATS:
            raise ShakesError(f"--plot {plot}: a picture is .png or .svg")
    if args.plot and not figures.have_matplotlib():
        raise ShakesError(figures.MISSING.split(" (")[0])
    result, lines, *figure = COMMANDS[args.command](args)
    print(json.dumps(result) if args.json else "\n".join(lines))
    if (args.plot or args.csv) and not figure:
        raise ShakesError(f"{args.command} has no figure to write yet")
    written = [figures.write_csv(figure[0], args.csv)] if args.csv else []
    written += [figures.write_picture(figure[0], plot) for plot in args.plot]
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _load(name: str | None, device: str = "cpu") -> LoadedModel:
    if name is None:
        raise ShakesError("no shipped model has what this measures: name a weights file with --weights")
    return load_weights(weights_for(name), device=resolve_device(device))


def _training_text(data: str | None) -> tuple[str, int]:
    text = read_text(find_corpus(data, progress=download_progress()))  # the text itself, whatever its size
    return text, int(len(text) * TRAIN_FRACTION)


# ---- surprise ---------------------------------------------------------------------------------------
def run_surprise(args):
    result, lines, measured, tints = {}, [], {}, {}
    for name in args.weights:
        loaded = _load(name)
        s = measured[name] = surprise(loaded.model, loaded.vocab, args.text)
        tints[name] = family_colour(loaded.family)
        result[name] = s.to_json()
        worst = np.argsort(s.loss)[::-1][:5]
        lines.append(f"{name:<10} mean {s.mean:.3f} nats/char over {len(s.loss)} characters; most surprising: "
                     + ", ".join(f"{s.text[j + 1]!r} ({s.loss[j]:.1f}, expected {s.top[j][0][0]!r})" for j in worst))
    return result, lines, figures.surprise(measured, _labels(measured), tints)


def _labels(names) -> dict[str, str]:
    """What a figure calls each model: its weights as given (a file), or a shipped model's name and "shipped"."""
    return {name: _label(name) for name in names}


def _label(name: str) -> str:
    return f"{display_name(name)} (shipped)" if name in family_names() else str(name)


# ---- span ---------------------------------------------------------------------------------------------
def run_span(args):
    _set_threads(args.threads)
    text, n_train = _training_text(args.data)
    settings = SpanSettings(positions=args.positions, influence_positions=min(args.influence_positions,
                                                                             args.positions))
    results, measured, tints = {}, {}, {}
    for name in args.weights:
        loaded = _load(name, args.device)
        tints[name] = family_colour(loaded.family)
        try:
            ids = torch.tensor(loaded.vocab.encode(text[n_train:]))
        except ShakesError as exc:
            raise ShakesError(f"{name}: the validation text does not fit its vocabulary: {exc}") from None
        t0 = time.perf_counter()
        with _bar(name) as progress:
            measured[name] = memory_span(loaded.model, ids, settings, progress)
        results[name] = measured[name].to_json()
        results[name]["seconds"] = round(time.perf_counter() - t0, 1)
    return results, _span_table(results), figures.span(measured, _labels(measured), tints)


class _bar:
    """A progress bar on stderr while one model's span is measured (nothing when stderr is not a terminal)."""

    def __init__(self, name: str) -> None:
        self.bar = Progress(TextColumn(f"span {name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            transient=True) if sys.stderr.isatty() else None
        self.task = None

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()
        return False

    def __call__(self, done: int, total: int) -> None:
        if self.bar:
            if self.task is None:
                self.task = self.bar.add_task("span", total=total)
            self.bar.update(self.task, completed=done)


def _span_table(results: dict) -> list[str]:
    names = list(results)
    head = "k".rjust(9) + "".join(f"{n:>12}" for n in names)
    lines = ["loss (nats/char) when only the last k characters are seen", head]
    for i, k in enumerate(GRID):
        lines.append(f"{k:>9}" + "".join(f"{results[n]['loss'][i]:>12.4f}" for n in names))
    lines.append(f"{'unlimited':>9}" + "".join(f"{results[n]['unlimited']:>12.4f}" for n in names))
    lines += ["", "influence: mean KL (nats) at t when the character at t-k is replaced", head]
    for i, k in enumerate(GRID):
        lines.append(f"{k:>9}" + "".join(f"{results[n]['influence'][i]:>12.5f}" for n in names))
    lines.append("")
    for n in names:
        r = results[n]
        gone = f"k={r['influence_gone_at']}" if r["influence_gone_at"] else f"not within {GRID[-1]}"
        lines.append(f"{n:<10} span {r['span'] or '>256'} chars, gain beyond 16 chars {r['gain_beyond_16']:.4f} "
                     f"nats, influence {FAR} back {r[f'influence_at_{FAR}']:.2e} nats, below {GONE:g} from {gone}  "
                     f"({r['positions']} positions, influence over {r['influence_positions']}; {r['seconds']:.0f} s)")
    return lines


# ---- attention -------------------------------------------------------------------------------------------
def run_attention(args):
    loaded = _load(args.weights)
    att = attention(loaded.model, loaded.vocab, args.text)
    layers, heads = att.weights.shape[:2]
    if not (1 <= args.layer <= layers and 1 <= args.head <= heads):
        raise ShakesError(f"--layer must be 1 to {layers} and --head 1 to {heads} (numbered from 1, as in the app)")
    w = att.weights[args.layer - 1, args.head - 1]
    lines = [f"layer {args.layer}/{layers} · head {args.head}/{heads}: where each character looks "
             "(three largest weights)"]
    for q, ch in enumerate(att.text):
        best = np.argsort(w[q])[::-1][:min(3, q + 1)]
        lines.append(f"{q:>4} {ch!r:>6} -> " + "  ".join(f"{j}:{att.text[j]!r} {w[q, j]:.2f}" for j in best))
    return {args.weights: att.to_json()}, lines, figures.attention(att, args.layer - 1, args.head - 1,
                                                                       _label(args.weights))


# ---- saturation ---------------------------------------------------------------------------------------------
def run_saturation(args):
    loaded = _load(args.weights)
    if args.text is None:
        text, n_train = _training_text(args.data)
        args.text = text[n_train:n_train + args.chars]
    sat = saturation(loaded.model, loaded.vocab, args.text)
    lines = [f"{sat.chars} characters; share of units mostly (> 50 % of characters) shut / open, per layer"]
    for g in sat.left:
        for layer in range(sat.left[g].shape[0]):
            left, right = sat.left[g][layer], sat.right[g][layer]
            lines.append(f"{GATE_NAMES[g]:<7} layer {layer + 1}/{sat.left[g].shape[0]}: "
                         f"left-saturated {np.mean(left > 0.5):6.1%}, right-saturated {np.mean(right > 0.5):6.1%}, "
                         f"mean shares {left.mean():.2f} / {right.mean():.2f}")
    return {args.weights: sat.to_json()}, lines, figures.saturation(sat, _label(args.weights))


# ---- compare ------------------------------------------------------------------------------------------------
COMPARE_AT = (1, 2, 4, 8, 16, 32, 64, 128)  # characters after the difference, in the table


def run_compare(args):
    text_b = args.text_b if args.text_b is not None else one_word_replaced(args.text)
    result, tints = {}, {}
    for name in args.weights:
        loaded = _load(name)
        result[name] = compare(loaded.model, loaded.vocab, args.text, text_b)
        tints[name] = family_colour(loaded.family)
    first = next(iter(result.values()))
    at = [d for d in COMPARE_AT if d <= len(first.kl)]
    lines = [f"A: {first.text_a!r}", f"B: {first.text_b!r}",
             f"shared after the difference: {len(first.shared)} characters; KL (nats) between each model's "
             "predictions after A and after B, d characters after the difference",
             "d".rjust(9) + "".join(f"{name:>12}" for name in result)]
    lines += [f"{d:>9}" + "".join(f"{c.kl[d - 1]:>12.2e}" for c in result.values()) for d in at]
    lines.append("")
    for name, c in result.items():
        lines.append(f"{name:<10} mean KL {c.kl.mean():.2e} nats over {len(c.kl)} characters; loss after A "
                     f"{c.loss_a.mean():.3f}, after B {c.loss_b.mean():.3f} nats/char")
    return ({name: c.to_json() for name, c in result.items()}, lines,
            figures.compare(result, _labels(result), tints))


# ---- cells --------------------------------------------------------------------------------------------------
RECURRENT = [name for name in family_names() if get_family(name).model_cls.is_recurrent]


def run_cells(args):
    if args.text is None:
        text, n_train = _training_text(args.data)
        args.text = text[n_train:n_train + args.chars]
    elif len(args.text) > TRACE_CHARS:
        raise ShakesError(f"cells reads at most {TRACE_CHARS:,} characters (a trace of each), not {len(args.text):,}")
    result, lines, rankings, tints = {}, [], {}, {}
    for name in args.weights or RECURRENT:
        loaded = _load(name)
        tints[name] = family_colour(loaded.family)
        ranking = cells(loaded.model, loaded.vocab, args.text, args.top)
        result[name] = ranking.to_json()
        lines.append(f"{name}: units that follow each feature over {ranking.chars:,} characters (Pearson r, "
                     "layers and units from 1)")
        for feature, best in ranking.best.items():
            units = ", ".join(f"{STATE_NAMES[c.state]} layer {c.layer} unit {c.unit} r={c.correlation:+.3f}"
                              for c in best)
            lines.append(f"  {feature:<19} {units}")
        lines += [f"  {feature:<19} none: {why}" for feature, why in ranking.absent.items()]
        rankings[name] = ranking
    return result, lines, figures.cells(rankings, _labels(rankings), tints)


# ---- copying ------------------------------------------------------------------------------------------------
def run_copying(args):
    text, n_train = _training_text(args.data)
    result = CopyIndex(text[:n_train]).check(args.text)
    share = "n/a (under 8 characters)" if result.share is None else f"{result.share:.1%}"
    return result.to_json(), [f"longest stretch found in the training text: {result.longest} characters: "
                              f"{result.longest_text!r}", f"8-grams found in the training text: {share}"], \
        figures.copying(result, args.text, "the text given")


COMMANDS = {"surprise": run_surprise, "span": run_span, "attention": run_attention, "saturation": run_saturation,
            "compare": run_compare, "cells": run_cells, "copying": run_copying}
