"""SVG snapshots of each Insight view at 120x36, 80x24 and 60x15 (shipped weights, or tiny seeded ones for the span,
whose real measurement takes minutes). Update with --snapshot-update after looking at them."""

from __future__ import annotations

import pytest
from shakes_tui.tui.insight.attention_view import AttentionMap
from shakes_tui.tui.insight.compare_view import CompareView
from shakes_tui.tui.insight.pane import SHORT, InsightPane
from shakes_tui.tui.insight.span_view import SpanView
from shakes_tui.tui.insight.surprise_view import SurpriseView

from tests.insight_helpers import big_text_file, tiny_weights
from tests.test_app import submit_seed
from tests.test_insight_app import wait_for
from tests.tui_helpers import fake_clock, make_app, no_blink, settle

SIZES = [(120, 36), (80, 24), (60, 15)]
SEED = "JULIET:\\nO Romeo, Romeo! wherefore art thou Romeo?"


async def open_view(pilot, key: str, ready) -> None:
    app = pilot.app
    await settle(pilot, app)
    await no_blink(pilot)
    await submit_seed(pilot, SEED, length="20", rng="1234")
    await settle(pilot, app)
    await pilot.press("f4", key)
    pane = app.query_one(InsightPane)
    # the short layout (60x15) follows the pane's resize, which a loaded machine may deliver after the results
    await wait_for(pilot, lambda: ready(app) and pane.size.height > 0
                   and pane.has_class("-short") == (pane.size.height < SHORT))
    app.screen.refresh(layout=True)  # paint the layout the class gives before the snapshot (CI once caught the old one)
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES)
class TestInsight:
    def test_surprise(self, snap_compare, tmp_path, monkeypatch, size):
        fake_clock(monkeypatch)

        async def run(pilot):
            await open_view(pilot, "1", lambda app: len(app.query_one(SurpriseView).results) == 3)
            await pilot.press("home", *["right"] * 12)
            await pilot.pause(0.2)

        assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=run)

    def test_attention(self, snap_compare, tmp_path, monkeypatch, size):
        fake_clock(monkeypatch)

        async def run(pilot):
            await open_view(pilot, "3", lambda app: app.query_one(AttentionMap).attention is not None)
            await pilot.press("l", "l", "h", "left", "left", "left")
            await pilot.pause(0.2)

        assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=run)

    def test_saturation(self, snap_compare, tmp_path, monkeypatch, size):
        fake_clock(monkeypatch)

        async def run(pilot):
            await open_view(pilot, "4", lambda app: "dot per unit" in str(app.query_one("#saturation-info").render()))
            await pilot.pause(0.3)

        assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=run)

    def test_span(self, snap_compare, tmp_path, monkeypatch, size):
        fake_clock(monkeypatch)
        tiny_weights(tmp_path / "weights")
        app = make_app(tmp_path, weights_dir=tmp_path / "weights", data=big_text_file(tmp_path))

        async def run(pilot):
            await open_view(pilot, "2", lambda app: len(app.query_one(SpanView).results) == 3)
            pilot.app.clear_notifications()  # the tiny vocabulary drops most of the seed, and the app says so
            await pilot.pause(0.3)

        assert snap_compare(app, terminal_size=size, run_before=run)

    def test_compare(self, snap_compare, tmp_path, monkeypatch, size):
        fake_clock(monkeypatch)

        async def run(pilot):
            await open_view(pilot, "5", lambda app: len(app.query_one(CompareView).results) == 3)
            await pilot.pause(0.3)

        assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=run)
