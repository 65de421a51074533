"""SVG snapshots of each pane in a known state (fixed RNG seed, fake clock, no cursor blink,
workers awaited). Update with `pytest tests/test_snapshots.py --snapshot-update`, after
reading the report."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from shakes_tui.engine.runs import decode
from shakes_tui.tui.messages import TrainingEvents
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import Input

from tests.tui_helpers import fake_clock, make_app, no_blink, run_events, settle

LOG = Path(__file__).resolve().parents[1] / "weights" / "recipe" / "logs" / "romeo.metrics.jsonl"


async def generate_fixed(pilot, seed="JULIET:\\nO Romeo, Romeo", length="160") -> None:
    app = pilot.app
    await settle(pilot, app)
    await no_blink(pilot)
    app.query_one("#length", Input).value = length
    app.query_one("#rng-seed", Input).value = "1234"
    app.query_one("#seed", Input).value = seed
    app.query_one("#seed", Input).focus()
    await pilot.press("enter")
    await settle(pilot, app)


class TestGenerate:
    def test_three_streams_side_by_side(self, snap_compare, tmp_path, monkeypatch):
        fake_clock(monkeypatch)
        assert snap_compare(make_app(tmp_path), terminal_size=(120, 36), run_before=generate_fixed)

    def test_fits_80_by_24(self, snap_compare, tmp_path, monkeypatch):
        fake_clock(monkeypatch)
        assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=generate_fixed)

    def test_missing_weights_say_so(self, snap_compare, tmp_path):

        async def wait(pilot):
            await settle(pilot, pilot.app)
            await no_blink(pilot)

        assert snap_compare(make_app(tmp_path, weights_dir=Path("no-such-folder")), terminal_size=(100, 24),
                            run_before=wait)


class TestTrain:
    def test_loss_chart_and_figures(self, snap_compare, tmp_path):
        """The chart as it draws the shipped Romeo's real training log."""
        events = [dataclasses.replace(decode(line), time=0) for line in LOG.read_text().splitlines()]

        async def feed(pilot):
            await settle(pilot, pilot.app)
            await no_blink(pilot)
            await pilot.press("f2")
            pilot.app.query_one(TrainingPane).post_message(TrainingEvents("romeo", events))
            await pilot.pause(1.0)

        assert snap_compare(make_app(tmp_path), terminal_size=(120, 36), run_before=feed)


class TestGates:
    def test_forget_gate_heatmap(self, snap_compare, tmp_path, monkeypatch):
        fake_clock(monkeypatch)

        async def gates(pilot):
            await generate_fixed(pilot, seed="To be, or not to be", length="60")
            await pilot.press("f3", "right", "right", "right", "down")
            await pilot.pause(0.2)

        assert snap_compare(make_app(tmp_path), terminal_size=(120, 36), run_before=gates)

    def test_cell_state_of_layer_two(self, snap_compare, tmp_path, monkeypatch):
        fake_clock(monkeypatch)

        async def gates(pilot):
            await generate_fixed(pilot, seed="To be, or not to be", length="60")
            await pilot.press("f3", "g", "g", "g", "g", "l", "end")
            await pilot.pause(0.2)

        assert snap_compare(make_app(tmp_path), terminal_size=(120, 36), run_before=gates)


SMALL = {"80x24": (80, 24), "60x15": (60, 15)}


@pytest.mark.parametrize("size", list(SMALL))
class TestSmallTerminals:
    """Every tab where a laptop split or a phone's terminal leaves little room."""

    def test_generate(self, snap_compare, tmp_path, monkeypatch, size):
        fake_clock(monkeypatch)
        assert snap_compare(make_app(tmp_path), terminal_size=SMALL[size], run_before=generate_fixed)

    def test_train_chart_from_step_0(self, snap_compare, tmp_path, size):
        """A run whose first point is its step-0 validation, the highest of all: it is drawn."""

        async def feed(pilot):
            await settle(pilot, pilot.app)
            await no_blink(pilot)
            await pilot.press("f2")
            pilot.app.query_one(TrainingPane).post_message(TrainingEvents("benvolio", run_events()))
            await pilot.pause(1.0)

        assert snap_compare(make_app(tmp_path), terminal_size=SMALL[size], run_before=feed)

    def test_gates(self, snap_compare, tmp_path, monkeypatch, size):
        fake_clock(monkeypatch)

        async def gates(pilot):
            await generate_fixed(pilot, seed="To be, or not to be", length="60")
            await pilot.press("f3", "right", "right", "down")
            await pilot.pause(0.2)

        assert snap_compare(make_app(tmp_path), terminal_size=SMALL[size], run_before=gates)

    def test_focused_number_field(self, snap_compare, tmp_path, size):
        """F1, Tab, Tab: the temperature field has the focus and still shows 0.8."""

        async def focus(pilot):
            await settle(pilot, pilot.app)
            await no_blink(pilot)
            await pilot.press("f1", "tab", "tab")
            await pilot.pause(0.2)

        assert snap_compare(make_app(tmp_path), terminal_size=SMALL[size], run_before=focus)
