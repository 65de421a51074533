"""Pilot tests of the Insight tab (F4): its keys, and that it draws what the engine measures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from shakes_tui.engine.inspect.compare import compare
from shakes_tui.engine.inspect.copying import CopyIndex
from shakes_tui.engine.inspect.span import memory_span
from shakes_tui.engine.inspect.surprise import surprise
from shakes_tui.engine.models import family_names
from shakes_tui.tui.insight import jobs
from shakes_tui.tui.insight.attention_view import AttentionMap
from shakes_tui.tui.insight.compare_view import CompareView
from shakes_tui.tui.insight.messages import SaturationReady
from shakes_tui.tui.insight.pane import InsightPane
from shakes_tui.tui.insight.span_view import SpanView
from shakes_tui.tui.insight.surprise_view import SurpriseView
from shakes_tui.tui.messages import CheckpointLoaded
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from textual.widgets import ContentSwitcher, Input, Static

from tests.insight_helpers import BIG_TEXT, big_text_file, tiny_weights
from tests.test_app import submit_seed
from tests.tui_helpers import make_app, settle


async def wait_for(pilot, condition, seconds: float = 120) -> None:
    """Wait for a worker's result (a loaded machine starves the low-priority workers for a while)."""
    for _ in range(int(seconds / 0.1)):
        if condition():
            break
        await pilot.pause(0.1)
    await pilot.pause(0.1)


@pytest.fixture
def tiny_app(tmp_path):
    tiny_weights(tmp_path / "weights")
    return make_app(tmp_path, weights_dir=tmp_path / "weights", data=big_text_file(tmp_path))


async def test_f4_and_number_keys_switch_the_views(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f4")
        await pilot.pause(0.1)
        assert isinstance(app.focused, SurpriseView)
        switcher = app.query_one("#insight-views", ContentSwitcher)
        for key, view in [("3", "attention"), ("4", "saturation"), ("5", "compare"), ("1", "surprise")]:
            await pilot.press(key)
            await pilot.pause(0.1)
            assert switcher.current == view
        await pilot.press("3")
        assert isinstance(app.focused, AttentionMap)


async def test_surprise_shows_what_the_engine_measures_and_the_guesses_under_the_cursor(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "To be, or not to be", length="10")
        await settle(pilot, app)
        await pilot.press("f4", "home", "right", "right")
        await pilot.pause(0.1)
        view = app.query_one(SurpriseView)
        assert view.cursor == 3
        for name in family_names():
            loaded = app.bank.get(name).loaded
            direct = surprise(loaded.model, loaded.vocab, "To be, or not to be")
            assert view.results[name].mean == pytest.approx(direct.mean)
            title = app.query_one(f"#surprise-{name}", Static).border_title
            assert f"mean {view.results[name].mean:.3f}" in title and title.endswith(" · shipped")  # whose weights
        guesses = str(app.query_one("#guesses", Static).render())
        top = view.results["romeo"].top[2][0]
        assert "'b' cost" in guesses and f"{top[0]!r} {top[1]:.0%}" in guesses


async def test_attention_keys_choose_layer_head_and_query(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f4", "3")
        await settle(pilot, app)
        heatmap = app.query_one(AttentionMap)
        assert heatmap.attention.text == "ROMEO:\n" and heatmap.cursor == 6
        await pilot.press("l", "l", "h", "L", "left", "left")
        await pilot.pause(0.1)
        assert (heatmap.layer_no, heatmap.head_no, heatmap.cursor) == (1, 1, 4)
        info = str(app.query_one("#attention-info", Static).render())
        w = heatmap.attention.weights[1, 1, 4]
        assert "query 4 'O'" in info and f"{w.max():.0%}" in info


async def test_span_is_measured_in_a_worker_and_cached_per_weights(tiny_app, tmp_path):
    async with tiny_app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, tiny_app)
        await pilot.press("f4", "2")
        await settle(pilot, tiny_app)
        results = tiny_app.query_one(SpanView).results
        assert set(results) == set(family_names())
        mercutio = tiny_app.bank.get("mercutio").loaded
        ids = mercutio.vocab.encode(BIG_TEXT[int(len(BIG_TEXT) * 0.9):])
        direct = memory_span(mercutio.model, torch.tensor(ids), jobs.APP_SPAN)
        np.testing.assert_allclose(results["mercutio"].loss, direct.loss, atol=1e-4)
        summary = str(tiny_app.query_one("#span-summary", Static).render())
        assert f"span {direct.span or '>256'}" in summary
        assert f"influence 32 back {direct.influence_at(32):.1e} · below 0.001 nats from" in summary
        cached = jobs.span_cache_path(mercutio.path, jobs.APP_SPAN)
        assert cached.is_file()
    again = make_app(tmp_path, weights_dir=tmp_path / "weights", data=big_text_file(tmp_path))
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot, again)
        await pilot.press("f4", "2")
        await settle(pilot, again)
        assert again.query_one(SpanView).results["mercutio"].loss.tolist() == pytest.approx(direct.loss.tolist(),
                                                                                               abs=1e-4)


async def test_saturation_is_measured_again_when_mercutio_reloads(tmp_path):
    seen: list[SaturationReady] = []
    tiny = tiny_weights(tmp_path / "tiny")
    app = make_app(tmp_path)
    hook = lambda m: isinstance(m, SaturationReady) and seen.append(m)  # noqa: E731
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await settle(pilot, app)
        await pilot.press("f4", "4")
        assert seen and seen[-1].saturation.left["f"].shape == (3, 512)
        app.bank.load("mercutio", tmp_path / "tiny" / "mercutio.safetensors", "step 5 of a live run")
        app.post_message(CheckpointLoaded("mercutio", "step 5 of a live run"))
        await wait_for(pilot, lambda: seen[-1].source != "shipped")
        assert seen[-1].source == "step 5 of a live run" and seen[-1].saturation.left["f"].shape == (2, 16)
        assert "step 5 of a live run" in str(app.query_one("#saturation-info", Static).render())
    assert tiny["mercutio"]


async def test_each_generation_pane_title_tells_how_much_was_copied(tiny_app):
    async with tiny_app.run_test(size=(220, 36)) as pilot:  # panes wide enough for the size and the whole figure
        await settle(pilot, tiny_app)
        await submit_seed(pilot, "The tide", length="60")
        await settle(pilot, tiny_app)
        index = CopyIndex(BIG_TEXT[:int(len(BIG_TEXT) * 0.9)])
        for name in family_names():
            pane = tiny_app.query_one(f"#gen-{name}", GenerationPane)
            check = index.check(pane.text)
            assert f"copied {check.longest} · {check.share:.0%} of 8-grams" in pane.border_title
            assert f"is {check.longest} characters; {check.share:.0%} of its 8-character" in str(pane.tooltip)
        assert tiny_app.query_one(InsightPane).corpus.index() is tiny_app.query_one(InsightPane).corpus.index()


async def test_attention_and_saturation_say_their_model_has_no_weights_instead_of_waiting(tmp_path):
    paths = tiny_weights(tmp_path / "weights")
    for family in ("romeo", "mercutio"):
        Path(paths[family]).unlink()
    app = make_app(tmp_path, weights_dir=tmp_path / "weights", data=big_text_file(tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f4", "3")
        await pilot.pause(0.1)
        shown = str(app.query_one(AttentionMap).render())
        assert shown.startswith("No Romeo weights, so no attention to show: ") and "not found" in shown
        saturation = str(app.query_one("#saturation-info", Static).render())
        assert saturation.startswith("No Mercutio weights, so no gates to show: ") and "not found" in saturation
        back = tiny_weights(tmp_path / "back")  # weights again (a live checkpoint), measured on an empty seed
        for family in ("romeo", "mercutio"):
            app.bank.load(family, Path(back[family]), "step 5 of a live run")
            app.query_one(InsightPane).model_changed(family)
        await pilot.pause(0.1)
        assert not str(app.query_one(AttentionMap).render()).startswith("No Romeo weights")
        info = str(app.query_one("#saturation-info", Static).render())
        assert info == "waiting for Mercutio…" or "step 5 of a live run" in info  # measured already, or soon


async def test_without_a_corpus_the_passage_key_says_why_and_stays_on_the_seed(tmp_path):
    app = make_app(tmp_path, data=tmp_path / "nowhere.txt")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("f4", "t")
        await pilot.pause(0.1)
        assert app.query_one(InsightPane).source == "seed"
        assert "on the seed" in str(app.query_one("#insight-info", Static).render())
        assert any("corpus file not found" in str(n.message) for n in app._notifications)


async def test_compare_shows_the_seed_against_itself_with_a_word_replaced_and_measures_an_edited_pair(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "The king is dead, and the court shall mourn.", length="10", rng="1")
        await settle(pilot, app)
        await pilot.press("f4", "5")
        view = app.query_one(CompareView)
        await wait_for(pilot, lambda: len(view.results) == 3)
        assert (view.text_a, view.text_b) == ("The king is dead, and the court shall mourn.",
                                              "The queen is dead, and the court shall mourn.")
        mercutio = app.bank.get("mercutio").loaded
        direct = compare(mercutio.model, mercutio.vocab, view.text_a, view.text_b)
        np.testing.assert_allclose(view.results["mercutio"].kl, direct.kl, rtol=1e-5, atol=1e-8)
        summary = str(app.query_one("#compare-summary", Static).render())
        assert f"{direct.kl_at(1):.1e}" in summary and "characters after" in summary
        box = app.query_one("#compare-b", Input)
        box.value = view.text_a  # B edited to equal A: nothing differs, so no prediction moves
        box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(view.results) == 3)
        assert view.text_b == view.text_a
        assert all(np.all(c.kl == 0) for c in view.results.values())
        box.value = "ROMEO: something else entirely"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(view.errors) == 3)
        assert "share too little" in str(app.query_one("#compare-summary", Static).render())
