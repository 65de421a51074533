"""Figures for slides: each Insight view, the Gates heatmap and the loss chart as a CSV table of its numbers and a
matplotlib picture, drawn from the same result objects the app draws and on the same colour scales (colours.py).

A picture is 1600 x 900 px at 200 dpi as PNG, 8 x 4.5 in (576 x 324 pt) as SVG. matplotlib is an optional extra
(``pip install -e '.[plots]'``): without it the CSV still writes, and MISSING says in one line how to get the
pictures. Everything is written atomically, and drawn on the Agg canvas without pyplot (no display, no global
state), so a thread worker may draw while the app runs.

Adding a figure for a new view or shakes-inspect subcommand: write ``def thing(result, ...) -> Figure`` here (its
CSV header and rows, and a ``draw(fig)`` that fills a matplotlib figure), and in engine/cli/inspect.py let the
command's run function return it as a third item: ``return result, lines, figures.thing(...)``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shakes_tui.engine import colours
from shakes_tui.engine.atomic import atomic_path
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.attention import Attention
from shakes_tui.engine.inspect.cells import CellRanking
from shakes_tui.engine.inspect.compare import Comparison
from shakes_tui.engine.inspect.copying import Copying
from shakes_tui.engine.inspect.saturation import SIGMOID_GATES, Saturation
from shakes_tui.engine.inspect.span import SpanResult
from shakes_tui.engine.inspect.surprise import Surprise
from shakes_tui.engine.models.lstm import GATE_NAMES

SIZE, DPI = (1600, 900), 200  # pixels of a PNG, and its dots per inch
INCHES = (SIZE[0] / DPI, SIZE[1] / DPI)
SIZE_WORDS = f"{SIZE[0]}x{SIZE[1]} px at {DPI} dpi (SVG: {INCHES[0]:g}x{INCHES[1]:g} in)"
FORMATS = {".png": "png", ".svg": "svg"}
MISSING = "the pictures need matplotlib: pip install -e '.[plots]' (the CSV is written without it)"
TICK_CHARS = 64  # up to this many characters, the axis is labelled with the characters themselves


@dataclass
class Figure:
    name: str  # what it shows, as a file name: "surprise", "span", "gates", ...
    title: str  # names the model and its weights
    header: list[str]  # the CSV's columns
    rows: Callable[[], Iterable[list]]  # the numbers behind the picture, a CSV row each (made when written)
    draw: Callable[[object], None]  # fills a matplotlib Figure


# ---- writing ----------------------------------------------------------------------------------------
def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import ListedColormap
        from matplotlib.figure import Figure as Canvas
    except ImportError:
        raise ShakesError(MISSING) from None
    return Canvas, FigureCanvasAgg, ListedColormap


def have_matplotlib() -> bool:
    try:
        _matplotlib()
    except ShakesError:
        return False
    return True


def render(figure: Figure):
    """The matplotlib figure (a fresh one, on the Agg canvas)."""
    canvas, agg, _ = _matplotlib()
    fig = canvas(figsize=INCHES, dpi=DPI, layout="constrained")
    agg(fig)
    fig.suptitle(figure.title, fontsize=9)
    figure.draw(fig)
    return fig


def write_csv(figure: Figure, path: str | Path) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(figure.header)
        writer.writerows(figure.rows())
    return Path(path)


def write_picture(figure: Figure, path: str | Path, fig=None) -> Path:
    """A PNG or an SVG, by the path's suffix."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ShakesError(f"{path}: a picture is .png or .svg")
    fig = fig if fig is not None else render(figure)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=FORMATS[path.suffix.lower()], dpi=DPI)
    return path


def export(figure: Figure, folder: str | Path, stem: str) -> tuple[list[Path], str | None]:
    """FOLDER/STEM.csv, .png and .svg; without matplotlib the CSV alone, and MISSING as the note."""
    paths = [write_csv(figure, Path(folder) / f"{stem}.csv")]
    if not have_matplotlib():
        return paths, MISSING
    fig = render(figure)
    paths += [write_picture(figure, Path(folder) / f"{stem}{suffix}", fig) for suffix in FORMATS]
    return paths, None


# ---- colour maps: the app's scales, sampled ------------------------------------------------------------
def colour_map(scale: Callable[[float], colours.RGB], lo: float = 0.0, hi: float = 1.0, n: int = 256):
    """A matplotlib colour map over lo..hi that is ``scale`` (an (r, g, b) 0-255 function) sampled n times."""
    listed = _matplotlib()[2]
    return listed([tuple(c / 255 for c in scale(lo + (hi - lo) * i / (n - 1))) for i in range(n)])


def _char_ticks(ax, text: str, axis: str = "x") -> None:
    if len(text) > TICK_CHARS:
        return
    labels = [_shown(c) for c in text]
    getattr(ax, f"set_{axis}ticks")(range(len(text)), labels, fontsize=5, family="monospace")


# ---- the views ----------------------------------------------------------------------------------------
def surprise(results: dict[str, Surprise], labels: dict[str, str], tints: dict[str, str] | None = None) -> Figure:
    """Each model's loss per character (lines), and the text's characters on the surprise colour (a strip per
    model, as the view colours them)."""
    tints = tints or {m: colours.family_colour(m) for m in results}

    def rows():
        return ([m, j + 1, s.text[j + 1], round(float(s.loss[j]), 4), s.top[j][0][0], round(s.top[j][0][1], 4)]
                for m, s in results.items() for j in range(len(s.loss)))

    def draw(fig) -> None:
        top, strip = fig.subplots(2, 1, height_ratios=(3, 1), sharex=True)
        width = max(len(s.loss) for s in results.values())
        grid = np.full((len(results), width), np.nan)
        for i, (m, s) in enumerate(results.items()):
            x = np.arange(1, len(s.loss) + 1)
            top.plot(x, s.loss, color=tints[m], lw=0.9, label=f"{labels[m]}: mean {s.mean:.3f}")
            grid[i, :len(s.loss)] = s.loss
        top.set_ylabel("surprise (nats)")
        top.legend(fontsize=6, loc="upper right")
        image = strip.imshow(grid, aspect="auto", cmap=colour_map(colours.heat), vmin=0, vmax=colours.SURPRISE_TOP,
                             extent=(0.5, width + 0.5, len(results) - 0.5, -0.5), interpolation="nearest")
        strip.set_yticks(range(len(results)), [labels[m].split(" ")[0] for m in results], fontsize=6)
        strip.set_xlabel("character of the text (its cost to each model)")
        bar = fig.colorbar(image, ax=[top, strip], shrink=0.6, pad=0.01)
        bar.set_label(f"nats (0 to {colours.SURPRISE_TOP:g}+, the app's colours)", fontsize=6)
        first = next(iter(results.values())).text
        if len(first) - 1 <= TICK_CHARS:
            strip.set_xticks(range(1, len(first)), [_shown(c) for c in first[1:]], fontsize=5, family="monospace")
    return Figure("surprise", "surprise per character · " + " · ".join(labels[m] for m in results),
                  ["model", "position", "character", "loss_nats", "top_guess", "top_guess_p"], rows, draw)


def span(results: dict[str, SpanResult], labels: dict[str, str], tints: dict[str, str] | None = None) -> Figure:
    """Loss when only the last k characters are seen, and the influence of the character k back (log), k on log2."""
    tints = tints or {m: colours.family_colour(m) for m in results}

    def rows():
        return ([m, k, round(float(r.loss[i]), 4), round(float(r.influence[i]), 6), round(r.unlimited, 4)]
                for m, r in results.items() for i, k in enumerate(r.context))

    def draw(fig) -> None:
        loss, influence = fig.subplots(1, 2)
        for m, r in results.items():
            loss.plot(r.context, r.loss, "o-", color=tints[m], ms=3, lw=1,
                      label=f"{labels[m]}: span {r.span or '>256'}")
            loss.axhline(r.unlimited, color=tints[m], ls=":", lw=0.8)
            influence.plot(r.context, np.maximum(r.influence, 1e-6), "o-", color=tints[m], ms=3, lw=1,
                           label=labels[m])
        reach = max((max(r.context) for r in results.values()), default=1)
        for ax in (loss, influence):
            ax.set_xscale("log", base=2)
            ax.set_xticks([4 ** i for i in range(int(np.log(reach) / np.log(4)) + 1)])
            ax.xaxis.set_major_formatter("{x:g}")
            ax.set_xlabel("k (characters back)")
            ax.grid(alpha=0.3)
        influence.set_yscale("log")
        loss.set_title("loss when only the last k characters are seen (dotted: unlimited)", fontsize=7)
        influence.set_title("influence of the character k back (KL, floored at 1e-6 as in the app)", fontsize=7)
        loss.set_ylabel("nats/char")
        influence.set_ylabel("KL (nats)")
        loss.legend(fontsize=6)
    positions = next(iter(results.values())).positions if results else 0
    return Figure("span", f"memory span on {positions} validation positions · "
                  + " · ".join(labels[m] for m in results),
                  ["model", "k", "loss_nats", "influence_kl", "unlimited_nats"], rows, draw)


def attention(att: Attention, layer: int, head: int, label: str) -> Figure:
    """One layer's and head's weights (from 0 here, titled from 1): rows the queries, columns the keys."""
    w = att.weights[layer, head]

    def rows():
        return ([layer + 1, head + 1, q, att.text[q], k, att.text[k], round(float(w[q, k]), 5)]
                for q in range(len(att.text)) for k in range(q + 1))

    layers, heads = att.weights.shape[:2]

    def draw(fig) -> None:
        ax = fig.subplots()
        masked = np.ma.masked_where(np.triu(np.ones_like(w, dtype=bool), 1), w)
        image = ax.imshow(masked, cmap=colour_map(colours.weight_heat), vmin=0, vmax=1, interpolation="nearest",
                          aspect="auto")
        ax.set_xlabel("key (the character looked at)")
        ax.set_ylabel("query (the character looking)")
        _char_ticks(ax, att.text, "x")
        _char_ticks(ax, att.text, "y")
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label("attention weight (colour on its square root, as in the app)", fontsize=6)
    return Figure("attention", f"{label} · attention · layer {layer + 1}/{layers} · head {head + 1}/{heads}",
                  ["layer", "head", "query", "query_char", "key", "key_char", "weight"], rows, draw)


def saturation(sat: Saturation, label: str) -> Figure:
    """A dot per unit: x the share of characters it is shut on (< 0.1), y open on (> 0.9); a panel per gate."""
    gates = [g for g in SIGMOID_GATES if g in sat.left]

    def rows():
        return ([GATE_NAMES[g], layer + 1, unit + 1, round(float(sat.left[g][layer, unit]), 4),
                 round(float(sat.right[g][layer, unit]), 4)]
                for g in gates for layer in range(sat.left[g].shape[0]) for unit in range(sat.left[g].shape[1]))

    def draw(fig) -> None:
        axes = fig.subplots(1, len(gates), sharey=True)
        for ax, g in zip(np.atleast_1d(axes), gates, strict=True):
            for layer in range(sat.left[g].shape[0]):
                ax.scatter(sat.left[g][layer], sat.right[g][layer], s=4, color=colours.layer_colour(layer),
                           label=f"layer {layer + 1}")
            ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), title=f"{GATE_NAMES[g]} gate", xlabel="share < 0.1 (shut)")
            ax.set_aspect("equal")
            ax.grid(alpha=0.3)
        np.atleast_1d(axes)[0].set_ylabel("share > 0.9 (open)")
        np.atleast_1d(axes)[-1].legend(fontsize=6, markerscale=2)
    return Figure("saturation", f"{label} · gate saturation over {sat.chars} characters · a dot per unit",
                  ["gate", "layer", "unit", "share_below_0.1", "share_above_0.9"], rows, draw)


def copying(result: Copying, text: str, label: str) -> Figure:
    """The share of the text's 8-grams found in the training text, and its longest stretch found there."""

    def rows():
        share = "" if result.share is None else round(result.share, 4)
        return [[len(text), result.longest, result.longest_text, share]]

    def draw(fig) -> None:
        ax = fig.subplots()
        share = result.share or 0.0
        ax.barh([0], [share], height=0.35, color=colours.LAYER_COLOURS[0])
        ax.set(xlim=(0, 1), ylim=(-1, 1), yticks=[], xlabel="share of the text's 8-grams found in the training text")
        ax.text(0.5, 0.0, "n/a (under 8 characters)" if result.share is None else f"{share:.1%}", ha="center",
                va="center")
        ax.set_title(f"longest stretch found: {result.longest} characters: {result.longest_text[:80]!r}",
                     fontsize=7)
    return Figure("copying", f"copying check · {label}", ["text_chars", "longest", "longest_text", "share_8grams"],
                  rows, draw)


def compare(results: dict[str, Comparison], labels: dict[str, str], tints: dict[str, str] | None = None) -> Figure:
    """Two texts compared: each model's KL between its predictions after A and after B, by characters after the
    difference (both axes log), and each shared character's loss after either text."""
    tints = tints or {m: colours.family_colour(m) for m in results}

    def rows():
        return ([m, int(d), c.shared[d], round(float(c.kl[d - 1]), 6), round(float(c.loss_a[d - 1]), 6),
                 round(float(c.loss_b[d - 1]), 6)] for m, c in results.items() for d in c.distance)

    def draw(fig) -> None:
        ax = fig.subplots()
        for m, c in results.items():
            ax.plot(c.distance, np.maximum(c.kl, 1e-6), "-", color=tints[m], lw=1.2,
                    label=f"{labels[m]}: mean KL {c.kl.mean():.1e}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter("{x:g}")
        ax.set_xlabel("characters after the difference")
        ax.set_ylabel("KL between the predictions after A and B (nats, floored at 1e-6)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
        first = next(iter(results.values()), None)
        if first is not None:
            ax.set_title(f"A: {first.text_a[:70]!r}\nB: {first.text_b[:70]!r}", fontsize=6)
    return Figure("compare", "two texts compared · " + " · ".join(labels[m] for m in results),
                  ["model", "after", "char", "kl_nats", "loss_a_nats", "loss_b_nats"], rows, draw)


def cells(rankings: dict[str, CellRanking], labels: dict[str, str], tints: dict[str, str] | None = None) -> Figure:
    """Cells that track something: for each feature, how closely each model's best unit follows it (|r|)."""
    tints = tints or {m: colours.family_colour(m) for m in rankings}
    names = list(dict.fromkeys(f for r in rankings.values() for f in [*r.best, *r.absent]))

    def rows():
        return ([m, f, i + 1, c.state, c.layer, c.unit, round(c.correlation, 4)]
                for m, r in rankings.items() for f, best in r.best.items() for i, c in enumerate(best))

    def draw(fig) -> None:
        ax = fig.subplots()
        width = 0.8 / max(len(rankings), 1)
        for j, (m, r) in enumerate(rankings.items()):
            x = np.arange(len(names)) + (j - (len(rankings) - 1) / 2) * width
            best = [abs(r.best[f][0].correlation) if f in r.best else 0.0 for f in names]
            bars = ax.bar(x, best, width, color=tints[m], label=labels[m])
            for bar, f in zip(bars, names, strict=True):
                c = r.best.get(f, [None])[0]
                ax.annotate("absent" if c is None else f"{c.state} L{c.layer} u{c.unit}",
                            (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                            fontsize=4, rotation=90)
        ax.set_xticks(np.arange(len(names)), names, fontsize=6)
        ax.set(ylim=(0, 1.15), ylabel="|Pearson r| of the best unit")
        ax.legend(fontsize=6)
        chars = next(iter(rankings.values())).chars if rankings else 0
        ax.set_title(f"the units that best follow each feature, over {chars:,} characters", fontsize=7)
    return Figure("cells", "cells that track something · " + " · ".join(labels[m] for m in rankings),
                  ["model", "feature", "rank", "state", "layer", "unit", "r"], rows, draw)


def gates(text: str, gate: str, layer: int, n_layers: int, values: np.ndarray, scale: np.ndarray,
          units: Sequence[int], order: str, label: str) -> Figure:
    """The Gates heatmap: a row per unit (in the view's order), a column per character, on the view's colour
    scale (C drawn per unit against its largest |value|: ``scale``), with that scale as the colour legend."""
    shown = values / scale  # (T, units), as the view colours them

    def rows():
        return ([unit + 1, t, text[t], round(float(values[t, unit]), 5), round(float(shown[t, unit]), 5)]
                for unit in map(int, units) for t in range(len(text)))

    kind = "state" if gate in ("c", "h") else "gate"

    def draw(fig) -> None:
        ax = fig.subplots()
        lo = 0.0 if gate in SIGMOID_GATES else -1.0
        image = ax.imshow(shown[:, list(units)].T, aspect="auto", interpolation="nearest", vmin=lo, vmax=1,
                          cmap=colour_map(lambda v: colours.cell(gate, v), lo, 1.0),
                          extent=(-0.5, len(text) - 0.5, len(units) + 0.5, 0.5))
        ax.set_xlabel("character of the text")
        ax.set_ylabel(f"units, {order} (row 1 first)")
        if len(units) <= 48:
            ax.set_yticks(range(1, len(units) + 1), [f"unit {u + 1}" for u in units], fontsize=4)
        _char_ticks(ax, text)
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label(f"{GATE_NAMES[gate]} {kind} (the app's colours)", fontsize=6)
        if gate in colours.MEANINGS:
            low, high = colours.MEANINGS[gate]
            bar.set_ticks([0, 0.5, 1], labels=[f"0 {low}", "0.5", f"1 {high}"], fontsize=6)
        elif gate == "c":
            bar.set_label("cell state / the unit's largest |value| over the text", fontsize=6)
    return Figure("gates", f"{label} · {GATE_NAMES[gate]} {kind} · layer {layer + 1}/{n_layers} · {order}",
                  ["unit", "position", "character", "value", "value_as_drawn"], rows, draw)


def loss(train: dict[str, list[tuple[int, float]]], val: dict[str, list[tuple[int, float]]],
         labels: dict[str, str] | None = None) -> Figure:
    """Train loss (lines) and validation loss (dots, the best one a diamond) against steps, a colour per model."""
    models = sorted(m for m in set(train) | set(val) if train.get(m) or val.get(m))
    labels = labels or {m: m for m in models}

    def rows():
        return ([m, kind, int(step), round(float(value), 4)] for m in models
                for kind, points in (("train", train.get(m, [])), ("validation", val.get(m, [])))
                for step, value in points)

    def draw(fig) -> None:
        ax = fig.subplots()
        for m in models:
            tint = colours.family_colour(m)
            if train.get(m):
                ax.plot(*zip(*train[m], strict=True), color=tint, lw=0.8, label=f"{labels[m]} train")
            if val.get(m):
                ax.plot(*zip(*val[m], strict=True), "o", color=tint, ms=3, label=f"{labels[m]} validation")
                step, best = min(val[m], key=lambda p: p[1])
                ax.plot([step], [best], "D", color=tint, mec="black", ms=6, label=f"best {best:.3f} @ {step:,}")
        ax.set(xlabel="step", ylabel="loss (nats/char)")
        ax.grid(alpha=0.3)
        if models:
            ax.legend(fontsize=6)
    return Figure("loss", "training loss · " + " · ".join(labels[m] for m in models),
                  ["model", "kind", "step", "loss_nats"], rows, draw)


def _shown(ch: str) -> str:
    return {"\n": "⏎", "\t": "⇥", " ": "·"}.get(ch, ch)
