"""x in the app: the Insight view, the Gates heatmap or the loss chart shown is written as CSV, PNG and SVG into
the figures folder by a worker, and a notice names the files; without matplotlib the CSV alone, and one line why."""

from __future__ import annotations

import builtins
import csv

import pytest
from shakes_tui.engine import figures
from shakes_tui.engine.runs import Eval, Train
from shakes_tui.tui.insight.surprise_view import SurpriseView
from shakes_tui.tui.widgets.gate_heatmap import GateHeatmap
from shakes_tui.tui.widgets.loss_chart import LossChart

from tests.test_app import submit_seed
from tests.test_figures import png_size, svg_size
from tests.tui_helpers import make_app, settle


def train(step: int, loss: float) -> Train:
    return Train(step, loss, lr=1e-3, chars_per_s=1.0, elapsed=0.0)


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def export(pilot, app, folder, count: int) -> list:
    await pilot.press("x")
    for _ in range(300):
        await pilot.pause(0.05)
        if len(list(folder.glob("*"))) >= count and not any(w.group == "export-figure" and not w.is_finished
                                                             for w in app.workers):
            break
    await pilot.pause(0.1)
    return sorted(folder.glob("*"))


@pytest.mark.skipif(not figures.have_matplotlib(), reason="matplotlib is not installed (pip install -e '.[plots]')")
async def test_x_exports_the_insight_view_the_gates_heatmap_and_the_loss_chart(tmp_path):
    app = make_app(tmp_path)
    app.figures_dir = folder = tmp_path / "figs"
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "To be, or not to be", length="10")
        await settle(pilot, app)
        await pilot.press("escape", "f4")
        await pilot.pause(0.1)
        files = await export(pilot, app, folder, 3)
        assert [p.suffix for p in files] == [".csv", ".png", ".svg"] and files[0].stem.startswith("surprise-")
        assert png_size(files[1]) == (1600, 900) and svg_size(files[2]) == ("576pt", "324pt")
        view = app.query_one(SurpriseView)
        with open(files[0], newline="") as f:
            romeo = [float(r["loss_nats"]) for r in csv.DictReader(f) if r["model"] == "romeo"]
        assert romeo == view.results["romeo"].to_json()["loss"]
        assert f"{files[0]}, .png, .svg" in notices(app)  # the notice names the files

        await pilot.press("f3")
        await pilot.pause(0.1)
        heatmap = app.query_one(GateHeatmap)
        files = [p for p in await export(pilot, app, folder, 6) if p.stem.startswith("gates-")]
        assert [p.suffix for p in files] == [".csv", ".png", ".svg"]
        with open(files[0], newline="") as f:
            first = next(csv.DictReader(f))
        unit = int(heatmap.units[0])
        assert int(first["unit"]) == unit + 1 and float(first["value"]) == pytest.approx(
            float(heatmap.values()[0, unit]), abs=1e-5)

        await pilot.press("f2")
        await pilot.pause(0.1)
        await pilot.press("x")
        await pilot.pause(0.1)
        assert "Nothing drawn here yet to export" in notices(app)
        app.query_one(LossChart).add_events("romeo", [train(0, 4.2), train(10, 3.0), Eval(10, 3.0, 3.1, "")])
        files = [p for p in await export(pilot, app, folder, 9) if p.stem.startswith("loss-")]
        assert [p.suffix for p in files] == [".csv", ".png", ".svg"]
        with open(files[0], newline="") as f:
            assert [(r["kind"], float(r["loss_nats"])) for r in csv.DictReader(f)] == [
                ("train", 4.2), ("train", 3.0), ("validation", 3.1)]


async def test_without_matplotlib_x_writes_the_csv_and_says_how_to_get_the_pictures(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    app = make_app(tmp_path)
    app.figures_dir = folder = tmp_path / "figs"
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        await pilot.pause(0.1)
        app.query_one(LossChart).add_events("mercutio", [train(0, 4.0)])
        files = await export(pilot, app, folder, 1)
        assert [p.suffix for p in files] == [".csv"]
        assert any(files[0].name in n and figures.MISSING in n for n in notices(app))
