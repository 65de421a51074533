"""Figures for slides: the plotted data is the JSON's numbers, the files are PNG and SVG of the stated size, the CSV
holds the same numbers, and without matplotlib the CSV still writes and one line says how to get the pictures."""

from __future__ import annotations

import builtins
import csv
import json
import re
import struct

import numpy as np
import pytest
from shakes_tui.engine import colours, figures
from shakes_tui.engine.cli.inspect import inspect_main
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.attention import Attention
from shakes_tui.engine.inspect.copying import Copying
from shakes_tui.engine.inspect.saturation import Saturation
from shakes_tui.engine.inspect.span import GRID, SpanResult
from shakes_tui.engine.inspect.surprise import Surprise

from tests.insight_helpers import big_text_file
from tests.insight_helpers import tiny_weights as make_tiny_weights

needs_matplotlib = pytest.mark.skipif(not figures.have_matplotlib(),
                                      reason="matplotlib is not installed (pip install -e '.[plots]')")
RNG = np.random.default_rng(0)


def png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def svg_size(path) -> tuple[str, str]:
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    svg = re.search(r"<svg[^>]*>", text).group(0)
    return re.search(r'width="([^"]+)"', svg).group(1), re.search(r'height="([^"]+)"', svg).group(1)


def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def a_surprise(text: str) -> Surprise:
    loss = RNG.uniform(0, 8, len(text) - 1)
    return Surprise(text, loss, [[("e", 0.5), (" ", 0.2)] for _ in loss])


# ---- the plotted data is the JSON's numbers --------------------------------------------------------------
@needs_matplotlib
def test_surprise_lines_and_strip_are_each_models_loss():
    results = {"benvolio": a_surprise("To be, or not"), "romeo": a_surprise("To be, or not")}
    fig = figures.render(figures.surprise(results, {m: f"{m} (shipped)" for m in results}))
    top, strip = fig.axes[:2]
    for line, (name, s) in zip(top.get_lines(), results.items(), strict=True):
        assert np.allclose(line.get_ydata(), s.to_json()["loss"], atol=5e-5)
        assert line.get_color() == colours.family_colour(name)
    assert np.allclose(strip.images[0].get_array(), [s.loss for s in results.values()])
    assert strip.images[0].get_clim() == (0, colours.SURPRISE_TOP)
    assert "benvolio (shipped)" in fig.get_suptitle()


@needs_matplotlib
def test_span_lines_are_the_loss_and_influence_curves():
    r = SpanResult(list(GRID), RNG.uniform(1, 3, len(GRID)), 1.2, RNG.uniform(1e-4, 1, len(GRID)), 64, 16)
    fig = figures.render(figures.span({"mercutio": r}, {"mercutio": "Mercutio"}))
    loss, influence = fig.axes[:2]
    assert np.allclose(loss.get_lines()[0].get_xdata(), r.to_json()["context"])
    assert np.allclose(loss.get_lines()[0].get_ydata(), r.to_json()["loss"], atol=5e-5)
    assert np.allclose(influence.get_lines()[0].get_ydata(), r.to_json()["influence"], atol=5e-7)
    assert influence.get_yscale() == "log" and loss.get_xscale() == "log"


@needs_matplotlib
def test_attention_image_is_the_chosen_layer_and_head_on_the_apps_scale():
    w = RNG.uniform(0, 1, (2, 3, 6, 6))
    att = Attention("abcdef", w)
    fig = figures.render(figures.attention(att, 1, 2, "Romeo (shipped)"))
    image = fig.axes[0].images[0]
    drawn = image.get_array()
    below = np.tril(np.ones((6, 6), dtype=bool))
    assert np.allclose(drawn[below], np.array(att.to_json()["weights"])[1, 2][below], atol=5e-6)
    assert drawn.mask[~below].all()  # keys after the query are not drawn
    rgb = tuple(round(c * 255) for c in image.cmap(1.0)[:3])
    assert rgb == tuple(round(c) for c in colours.weight_heat(1.0))
    assert "layer 2/2 · head 3/3" in fig.get_suptitle()


@needs_matplotlib
def test_saturation_dots_are_each_units_shares_per_gate_and_layer():
    left = {g: RNG.uniform(0, 1, (2, 5)) for g in ("f", "i", "o")}
    right = {g: RNG.uniform(0, 1, (2, 5)) for g in ("f", "i", "o")}
    sat = Saturation(100, left, right)
    fig = figures.render(figures.saturation(sat, "Mercutio (shipped)"))
    data = sat.to_json()["gates"]
    for ax, gate in zip(fig.axes[:3], ("forget", "input", "output"), strict=True):
        for layer, dots in enumerate(ax.collections):
            expected = np.column_stack([data[gate]["left"][layer], data[gate]["right"][layer]])
            assert np.allclose(dots.get_offsets(), expected, atol=5e-5)


@needs_matplotlib
def test_gates_heatmap_draws_the_units_in_the_views_order_with_a_colour_legend():
    values = RNG.uniform(-3, 3, (7, 4))
    scale = np.abs(values).max(axis=0)
    units = np.array([2, 0, 3, 1])
    fig = figures.render(figures.gates("abcdefg", "c", 0, 2, values, scale, units, "most active first", "Mercutio"))
    ax, bar = fig.axes[:2]
    assert np.allclose(ax.images[0].get_array(), (values / scale)[:, units].T)
    assert "the unit's largest |value|" in bar.get_ylabel()
    fig = figures.render(figures.gates("abcdefg", "f", 0, 2, values.clip(0, 1), np.ones(4), units, "by index", "M"))
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels == ["0 forget", "0.5", "1 keep"]
    rgb = tuple(round(c * 255) for c in fig.axes[0].images[0].cmap(1.0)[:3])
    assert rgb == tuple(round(c) for c in colours.cell("f", 1.0))


@needs_matplotlib
def test_loss_chart_is_each_models_train_line_and_validation_dots():
    train = {"romeo": [(0, 4.2), (10, 3.1), (20, 2.5)]}
    val = {"romeo": [(0, 4.1), (20, 2.6)]}
    fig = figures.render(figures.loss(train, val, {"romeo": "Romeo"}))
    line, dots, best = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [0, 10, 20] and list(line.get_ydata()) == [4.2, 3.1, 2.5]
    assert list(dots.get_ydata()) == [4.1, 2.6] and list(best.get_ydata()) == [2.6]
    assert list(figures.loss(train, val).rows()) == [["romeo", "train", 0, 4.2], ["romeo", "train", 10, 3.1],
                                                    ["romeo", "train", 20, 2.5], ["romeo", "validation", 0, 4.1],
                                                    ["romeo", "validation", 20, 2.6]]


# ---- the files -----------------------------------------------------------------------------------------
@needs_matplotlib
def test_export_writes_csv_png_and_svg_of_the_stated_size(tmp_path):
    figure = figures.copying(Copying(12, "To be, or no", 0.75), "To be, or not to be", "a text")
    paths, note = figures.export(figure, tmp_path / "out", "copying")
    assert note is None and [p.name for p in paths] == ["copying.csv", "copying.png", "copying.svg"]
    assert png_size(paths[1]) == figures.SIZE == (1600, 900)
    assert svg_size(paths[2]) == ("576pt", "324pt")  # 8 x 4.5 in
    assert read_csv(paths[0]) == [{"text_chars": "19", "longest": "12", "longest_text": "To be, or no",
                                   "share_8grams": "0.75"}]
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left behind


def test_without_matplotlib_the_csv_writes_and_one_line_says_how_to_get_the_pictures(tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    figure = figures.copying(Copying(3, "abc", None), "abc", "a text")
    paths, note = figures.export(figure, tmp_path, "copying")
    assert [p.name for p in paths] == ["copying.csv"] and note == figures.MISSING
    assert "\n" not in note and "pip install -e '.[plots]'" in note
    with pytest.raises(ShakesError, match=r"\.\[plots\]"):
        figures.write_picture(figure, tmp_path / "copying.png")
    with pytest.raises(SystemExit) as exit_info:
        inspect_main(["copying", "abc", "--plot", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert exit_info.value.code != 0 and "pip install -e '.[plots]'" in err and len(err.strip().splitlines()) == 1


# ---- shakes-inspect --plot and --csv -------------------------------------------------------------------------
def run(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        inspect_main(argv)
    out, err = capsys.readouterr()
    assert exit_info.value.code == 0, err
    return out, err


@needs_matplotlib
@pytest.mark.usefixtures("one_thread")
def test_every_subcommand_plots_and_writes_the_numbers_of_its_json(tmp_path, capsys):
    weights, corpus = make_tiny_weights(tmp_path), big_text_file(tmp_path)
    text = "The tide turns, and the nets come in."
    commands = {
        "surprise": ["surprise", text, "--weights", weights["romeo"]],
        "span": ["span", "--weights", weights["mercutio"], "--data", str(corpus), "--positions", "64",
                 "--influence-positions", "16"],
        "attention": ["attention", text, "--weights", weights["romeo"], "--layer", "2", "--head", "1"],
        "saturation": ["saturation", text, "--weights", weights["mercutio"]],
        "copying": ["copying", text, "--data", str(corpus)],
    }
    for name, argv in commands.items():
        png, svg, table = tmp_path / f"{name}.png", tmp_path / f"{name}.svg", tmp_path / f"{name}.csv"
        out, err = run([*argv, "--json", "--plot", str(png), "--plot", str(svg), "--csv", str(table)], capsys)
        assert png_size(png) == (1600, 900) and svg_size(svg) == ("576pt", "324pt"), name
        assert f"wrote {table}" in err and f"wrote {png}" in err
        result, rows = json.loads(out), read_csv(table)
        if name == "surprise":
            assert [float(r["loss_nats"]) for r in rows] == result[weights["romeo"]]["loss"]
        elif name == "span":
            assert [float(r["loss_nats"]) for r in rows] == result[weights["mercutio"]]["loss"]
            assert [float(r["influence_kl"]) for r in rows] == result[weights["mercutio"]]["influence"]
        elif name == "attention":
            w = np.array(result[weights["romeo"]]["weights"])[1, 0]
            expected = [w[q, k] for q in range(len(w)) for k in range(q + 1)]  # JSON keeps float32's digits
            assert np.allclose([float(r["weight"]) for r in rows], expected, atol=1e-6, rtol=0)
        elif name == "saturation":
            forget = result[weights["mercutio"]]["gates"]["forget"]["left"]
            assert [float(r["share_below_0.1"]) for r in rows if r["gate"] == "forget"] == sum(forget, [])
        else:
            assert int(rows[0]["longest"]) == result["longest"]


def test_plot_takes_png_or_svg_and_says_so_before_measuring(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        inspect_main(["copying", "abc", "--plot", str(tmp_path / "x.pdf")])
    assert exit_info.value.code != 0 and "a picture is .png or .svg" in capsys.readouterr().err


def test_help_states_the_size(capsys):
    with pytest.raises(SystemExit):
        inspect_main(["surprise", "--help"])
    assert "1600x900 px at 200 dpi" in capsys.readouterr().out


@needs_matplotlib
def test_compare_lines_are_each_models_kl_and_the_csv_its_losses(tmp_path):
    from shakes_tui.engine.inspect.compare import Comparison

    kl, la, lb = RNG.uniform(1e-5, 1, 9), RNG.uniform(0, 4, 9), RNG.uniform(0, 4, 9)
    c = Comparison("the king is dead", "the queen is dead", " is dead", kl[:7], la[:7], lb[:7])
    figure = figures.compare({"benvolio": c}, {"benvolio": "Benvolio (shipped)"})
    line = figures.render(figure).axes[0].get_lines()[0]
    assert np.allclose(line.get_xdata(), c.distance) and np.allclose(line.get_ydata(), c.to_json()["kl"], atol=5e-7)
    rows = read_csv(figures.write_csv(figure, tmp_path / "c.csv"))
    assert [float(r["loss_a_nats"]) for r in rows] == c.to_json()["loss_a"]
    assert [r["char"] for r in rows] == list(" is dead"[1:])


@needs_matplotlib
def test_cells_bars_are_each_models_best_correlation():
    from shakes_tui.engine.inspect.cells import Cell, CellRanking

    rankings = {"mercutio": CellRanking(100, {"word start": [Cell("c", 2, 7, -0.8)]}, {"inside quotes": "absent"}),
                "benvolio": CellRanking(100, {"word start": [Cell("h", 1, 3, 0.5)]}, {"inside quotes": "absent"})}
    ax = figures.render(figures.cells(rankings, {m: m for m in rankings})).axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [0.8, 0.0, 0.5, 0.0]  # per model: word start, inside quotes (absent)
