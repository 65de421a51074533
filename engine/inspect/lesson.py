"""A guided tour's steps, and the figures their words quote, measured on the weights in use.

A tour is a TOML file of ``[[step]]`` tables (the app's own is tui/tour.toml; ``shakes-tui --tour FILE`` takes a
teacher's copy). Each step names the view that proves its point (a tab, an Insight view, a text, a cursor) and a
paragraph whose numbers are written as placeholders, ``{surprise.mercutio}`` or ``{kl.benvolio.8:.3f}``, which are
measured on the models the app holds when the step opens: never written in. A step may state its claim as a
comparison of two figures (``check = "surprise.mercutio < surprise.benvolio"``); where the weights in use
contradict it, the step says so (``otherwise``) instead of the paragraph lying.

Figures (MODEL: a family's name; K: a count of characters):

    surprise.MODEL   mean loss over the step's text, nats per character
    start.MODEL      mean loss over the text's first 8 characters (a start from nothing)
    kl.MODEL.K       KL divergence, nats, between the model's predictions on text and text_b, K characters after
                     the place where they differ (on their shared ending)
    cell.MODEL.F     how closely the model's best unit follows feature F of the step's text (|Pearson r|, 0 to 1);
                     F: line (position in the line), speaker, word, sentence, quotes, brackets (engine/inspect/cells.py)
    forget.at        the gated model's mean forget gate (over the step's layer's units) at the cursor's character
    forget.mean      the same, averaged over the whole text
    train.MODEL      loss on the last 4,000 characters of the training split (scored as shakes-eval does)
    val.MODEL        loss on the first 4,000 characters of the validation split, the same way
    gap.MODEL        val.MODEL - train.MODEL
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.evaluate import split_loss
from shakes_tui.engine.inspect.cells import cells
from shakes_tui.engine.inspect.compare import compare
from shakes_tui.engine.inspect.context import encode_text
from shakes_tui.engine.inspect.surprise import surprise
from shakes_tui.engine.weights import LoadedModel

TABS = ("generate", "train", "gates", "insight")
CELL_FEATURES = {"line": "position in line", "speaker": "speaker name line", "word": "word start",
                 "sentence": "after sentence end", "quotes": "inside quotes", "brackets": "inside brackets"}
VIEWS = ("surprise", "span", "attention", "saturation", "compare")
START_CHARS = 8  # start.MODEL: the first characters, where a model starting from nothing shows it
SPLIT_SLICE = 4000  # train.MODEL and val.MODEL: characters scored on each split
SPLIT_FIGURES = ("train", "val", "gap")
PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[\w]+)*)(?::([^{}]*))?\}")
CHECK = re.compile(r"^\s*([a-z_]+(?:\.\w+)*|-?[0-9.]+)\s*(<=|>=|<|>)\s*([a-z_]+(?:\.\w+)*|-?[0-9.]+)\s*$")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


@dataclass(frozen=True)
class Step:
    title: str
    body: str  # a short paragraph with {figure} placeholders
    look: str = ""  # what to look at in the view
    tab: str = "generate"
    view: str | None = None  # the Insight view, on the insight tab
    text: str = "ROMEO:\n"  # the text the view opens on (the seed)
    text_b: str | None = None  # the second text of a comparison
    cursor: int = 0  # the character the view's cursor starts on
    layer: int = 1  # the gated model's layer, counted from 1 as the app shows it
    feature: str | None = None  # gates: open on the unit that best follows this feature (a key of CELL_FEATURES)
    check: str | None = None  # "FIGURE < FIGURE": the claim the body makes
    otherwise: str = ""  # said instead of the body where the check fails on the weights in use

    def needs_splits(self) -> bool:
        """Whether a figure it quotes is measured on the corpus's splits (train, val, gap)."""
        return any(name.split(".")[0] in SPLIT_FIGURES for name in self.figures())

    def figures(self) -> list[str]:
        """Every figure the step quotes or checks, in order of appearance."""
        names = [m.group(1) for m in PLACEHOLDER.finditer(self.body + " " + self.otherwise)]
        if self.check:
            names += [side for side in CHECK.match(self.check).group(1, 3) if not _is_number(side)]
        return list(dict.fromkeys(names))


def load_tour(path: str | Path, families: tuple[str, ...]) -> list[Step]:
    """The steps of a tour file, every field and figure checked; a malformed file is one ShakesError line."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ShakesError(f"tour file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShakesError(f"tour file {path} is not valid TOML: {exc}") from None
    raw = data.get("step")
    if not isinstance(raw, list) or not raw or not all(isinstance(s, dict) for s in raw):
        raise ShakesError(f"tour file {path} has no [[step]] tables")
    return [_checked_step(path, i, values, families) for i, values in enumerate(raw, start=1)]


def _checked_step(path: Path, number: int, values: dict, families: tuple[str, ...]) -> Step:
    where = f"tour file {path}, step {number}"
    known = {f.name: f for f in fields(Step)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ShakesError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(known)})")
    for key in ("title", "body"):
        if key not in values:
            raise ShakesError(f"{where}: it needs a {key}")
    for key, value in values.items():
        kind = int if key in ("cursor", "layer") else str
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ShakesError(f"{where}: {key} must be {'a whole number' if kind is int else 'text'}")
    step = Step(**values)
    if step.tab not in TABS:
        raise ShakesError(f"{where}: tab {step.tab!r} is not one of {', '.join(TABS)}")
    if step.view is not None and (step.tab != "insight" or step.view not in VIEWS):
        raise ShakesError(f"{where}: view {step.view!r} needs tab = \"insight\" and one of {', '.join(VIEWS)}")
    if step.feature is not None and (step.tab != "gates" or step.feature not in CELL_FEATURES):
        raise ShakesError(f"{where}: feature {step.feature!r} needs tab = \"gates\" and one of "
                          f"{', '.join(CELL_FEATURES)}")
    if step.cursor < 0 or step.layer < 1:
        raise ShakesError(f"{where}: cursor is counted from 0 and layer from 1")
    if step.check and not CHECK.match(step.check):
        raise ShakesError(f"{where}: check {step.check!r} is not 'FIGURE < FIGURE' (or >, <=, >=)")
    for name in step.figures():
        problem = _figure_problem(name, families, step)
        if problem:
            raise ShakesError(f"{where}: {{{name}}} {problem}")
    return step


def _figure_problem(name: str, families: tuple[str, ...], step: Step) -> str | None:
    parts = name.split(".")
    kind = parts[0]
    if kind in ("surprise", "start", "train", "val", "gap"):
        return None if len(parts) == 2 and parts[1] in families else f"needs a model: {kind}.{'|'.join(families)}"
    if kind == "kl":
        if len(parts) != 3 or parts[1] not in families or not parts[2].isdigit():
            return f"is not kl.MODEL.K (MODEL one of {', '.join(families)}, K a whole number)"
        return None if step.text_b else "needs the step's text_b"
    if kind == "forget":
        return None if parts[1:] in (["at"], ["mean"]) else "is not forget.at or forget.mean"
    if kind == "cell":
        if len(parts) != 3 or parts[1] not in families or parts[2] not in CELL_FEATURES:
            return f"is not cell.MODEL.F (F one of {', '.join(CELL_FEATURES)})"
        return None
    return "is not a figure a tour can measure (see engine/inspect/lesson.py)"


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?[0-9.]+", text))


def measure(step: Step, models: Mapping[str, LoadedModel], splits: tuple[str, str] | None = None) -> dict[str, float]:
    """Every figure the step quotes, measured on ``models``; splits: (training text, validation text), for the
    train, val and gap figures. A figure that cannot be measured (its model missing) is NaN. What several figures
    share (a model's surprise, its prediction shift, its split losses) is measured once."""
    done: dict[tuple, object] = {}

    def once(key: tuple, compute: Callable[[], object]):
        if key not in done:
            done[key] = compute()
        return done[key]

    def split(kind: str, name: str) -> float:
        if splits is None:
            raise ShakesError("no corpus")
        text = splits[0][-SPLIT_SLICE:] if kind == "train" else splits[1][:SPLIT_SLICE]
        lesson = models[name]
        return once((kind, name), lambda: split_loss(lesson.model, encode_text(lesson.vocab, text)[0]))

    def one(figure: str) -> float:
        kind, *rest = figure.split(".")
        if kind in ("surprise", "start"):
            lesson = models[rest[0]]
            loss = once(("surprise", rest[0]), lambda: surprise(lesson.model, lesson.vocab, step.text).loss)
            return float(loss.mean() if kind == "surprise" else loss[:START_CHARS].mean())
        if kind == "kl":
            lesson = models[rest[0]]
            shift = once(("kl", rest[0]), lambda: compare(lesson.model, lesson.vocab, step.text, step.text_b).kl)
            return float(shift[int(rest[1]) - 1])
        if kind == "forget":
            return forget_gate(models, step, at_cursor=rest[0] == "at")
        if kind == "cell":
            lesson, feature = models[rest[0]], CELL_FEATURES[rest[1]]
            ranking = once(("cell", rest[0]), lambda: cells(lesson.model, lesson.vocab, step.text, top=1))
            return abs(ranking.best[feature][0].correlation) if feature in ranking.best else math.nan
        if kind in ("train", "val"):
            return split(kind, rest[0])
        if kind == "gap":
            return split("val", rest[0]) - split("train", rest[0])
        raise ShakesError(f"unknown figure {figure}")

    out: dict[str, float] = {}
    for figure in step.figures():
        try:
            out[figure] = one(figure)
        except (KeyError, IndexError, ShakesError):
            out[figure] = math.nan
    return out


def forget_gate(models: Mapping[str, LoadedModel], step: Step, at_cursor: bool) -> float:
    lesson = next(m for m in models.values() if m.model.has_gates)
    ids, _ = encode_text(lesson.vocab, step.text)
    f = lesson.model.trace(ids)["f"][:, min(step.layer, lesson.model.config.n_layer) - 1]  # (T, units)
    return float(f[min(step.cursor, len(f) - 1)].mean() if at_cursor else f.mean())


def render(step: Step, figures: Mapping[str, float]) -> tuple[str, bool | None]:
    """The step's words with its figures written in ("…" where not measured yet, "n/a" where it could not be:
    its model has no weights), and whether its claim held (None: no claim, or not measured). Where it failed, the
    words are the step's ``otherwise``."""
    held = None
    if step.check:
        left, op, right = CHECK.match(step.check).groups()
        values = [float(side) if _is_number(side) else figures.get(side, math.nan) for side in (left, right)]
        held = None if any(math.isnan(v) for v in values) else OPERATORS[op](*values)
    words = step.otherwise if held is False and step.otherwise else step.body
    if held is False and not step.otherwise:
        words = f"{step.body}\n(On the weights in use this does not hold: {step.check} is false.)"

    def figure(match: re.Match) -> str:
        if match.group(1) not in figures:
            return "…"
        value = figures[match.group(1)]
        return "n/a" if math.isnan(value) else format(value, match.group(2) or ".2f")

    return PLACEHOLDER.sub(figure, words), held
