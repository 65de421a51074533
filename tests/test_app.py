"""Pilot tests of every pane's behaviour (App.run_test)."""

from __future__ import annotations

import pytest
from shakes_tui.engine.models import family_names
from shakes_tui.engine.runs import Checkpoint, Finished, RunDir, Train
from shakes_tui.tui.messages import CheckpointLoaded, GenerationProgress, TraceReady, TrainingEnded, TrainingEvents
from shakes_tui.tui.widgets.gate_heatmap import GateHeatmap
from shakes_tui.tui.widgets.gates_pane import GatesPane
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from shakes_tui.tui.widgets.loss_chart import LossChart
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import DataTable, Input, Select, Static, TabbedContent
from textual.worker import WorkerState

from tests.conftest import SMALL_TEXT
from tests.tui_helpers import TINY_TRAINING, make_app, open_tab, record_notices, settle, until


async def submit_seed(pilot, seed: str, length: str = "40", rng: str = "7") -> None:
    app = pilot.app
    app.query_one("#length", Input).value = length
    app.query_one("#rng-seed", Input).value = rng
    app.query_one("#seed", Input).value = seed
    app.query_one("#seed", Input).focus()
    await pilot.press("enter")


async def test_opens_on_the_shipped_weights_with_the_seed_focused(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert app.focused is app.query_one("#seed", Input)
        for name in family_names():
            assert app.bank.get(name).loaded is not None
            assert "M" in app.query_one(f"#gen-{name}", GenerationPane).border_title  # parameter count shown


async def test_typing_a_seed_starts_three_streams(tmp_path):
    seen: list[GenerationProgress] = []
    app = make_app(tmp_path)
    hook = lambda m: seen.append(m) if isinstance(m, GenerationProgress) else None  # noqa: E731
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "ROMEO:\\n")
        await settle(pilot, app)
        assert {m.model for m in seen} == set(family_names())
        for name in family_names():
            pane = app.query_one(f"#gen-{name}", GenerationPane)
            assert pane.seed == "ROMEO:\n" and len(pane.text) == 40
            assert "ch/s" in pane.border_subtitle and "done" in pane.border_subtitle
            assert any(m.done for m in seen if m.model == name)


async def test_a_new_seed_cancels_the_running_streams(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "First", length="5000")
        await pilot.pause(0.2)
        first = [w for w in app.workers if w.group.startswith("gen-")]
        assert len(first) == 3
        await submit_seed(pilot, "Second", length="30")
        await settle(pilot, app)
        assert all(w.state == WorkerState.CANCELLED for w in first)
        for name in family_names():
            pane = app.query_one(f"#gen-{name}", GenerationPane)
            assert pane.seed == "Second" and len(pane.text) == 30


async def test_bad_settings_are_refused_with_a_message(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.query_one("#temperature", Input).value = "hot"
        await submit_seed(pilot, "x")
        await pilot.pause(0.2)
        assert not [w for w in app.workers if w.group.startswith("gen-")]
        assert any("temperature" in n.message for n in app._notifications)


async def test_function_keys_switch_tabs_and_focus_their_pane(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        for key, tab, focused in [("f3", "gates", GateHeatmap), ("f2", "train", Select), ("f1", "generate", Input)]:
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.query_one(TabbedContent).active == tab
            assert isinstance(app.focused, focused)


async def test_gate_keys_switch_gate_layer_units_and_cursor(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        heatmap = await open_tab(pilot, "f3", GateHeatmap)
        assert heatmap.text == "ROMEO:\n" and heatmap.arrays["f"].shape == (7, 3, 512)
        await pilot.press("g")
        assert heatmap.gate == "i"
        await pilot.press("g", "g", "g")
        assert heatmap.gate == "c"
        await pilot.press("l")
        assert heatmap.layer_no == 1
        await pilot.press("s")
        assert heatmap.mode == "saturated"
        row = heatmap.cursor_row
        await pilot.press("right", "right", "down")
        await pilot.pause(0.1)
        assert (heatmap.cursor_t, heatmap.cursor_row) == (2, row + 1)
        info = str(app.query_one("#gate-info", Static).render())
        value = heatmap.arrays["c"][2, 1, heatmap.cursor_unit]
        assert f"unit {heatmap.cursor_unit + 1}" in info and f"{value:+.3f}" in info and "'M'" in info  # from 1


async def test_c_in_gates_puts_the_cursor_on_the_unit_that_best_follows_each_feature(tmp_path):
    from shakes_tui.engine.inspect.cells import FEATURES, rank_units

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "POLIXENES:\\nI pray you, stay.\\n\\nLEONTES:\\nStay, and hear me.", length="60")
        await settle(pilot, app)
        heatmap = await open_tab(pilot, "f3", GateHeatmap)
        await until(pilot, lambda: heatmap.text.startswith("POLIXENES:\nI pray"))
        info = app.query_one("#gate-info", Static)
        for feature in FEATURES:
            await pilot.press("c")
            await until(pilot, lambda f=feature: str(info.render()).startswith(f"cells: {f}"))
            ranking = rank_units({k: heatmap.arrays[k] for k in "ch"}, heatmap.text, top=1)
            if feature in ranking.absent:
                assert "does not occur in this text" in str(info.render())
                continue
            best = ranking.best[feature][0]
            assert (heatmap.gate, heatmap.layer_no + 1, heatmap.cursor_unit + 1) == (best.state, best.layer,
                                                                                    best.unit)
            assert f"r = {best.correlation:+.2f}" in str(info.render())
            strip = app.query_one("UnitText")
            assert f"unit {best.unit} (" in str(strip.border_title)  # the text coloured by that unit


async def test_gates_follow_the_seed_and_mercutios_continuation(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "To be", length="25")
        await settle(pilot, app)
        heatmap = app.query_one(GateHeatmap)
        mercutio = app.query_one("#gen-mercutio", GenerationPane)
        # the trace starts when the finished text is drawn, and typed text waits 0.3 s: slower when busy
        await until(pilot, lambda: len(heatmap.text) == 30)
        assert heatmap.text == "To be" + mercutio.text and heatmap.arrays["h"].shape[0] == 30
        app.query_one("#seed", Input).value = "Juliet"
        await until(pilot, lambda: heatmap.text == "Juliet")
        assert heatmap.text == "Juliet"


async def test_training_from_the_app_reaches_the_chart_then_stops_and_resumes(tmp_path, small_text_file):
    # a budget the run cannot spend before Stop is pressed: 400 tiny steps take a few seconds, and a loaded machine
    # once drew the chart's second point only after the run had ended (its exit then met the SIGTERM: -15)
    long_run = [*TINY_TRAINING[:TINY_TRAINING.index("--max-steps")], "--max-steps", "1000000",
                *TINY_TRAINING[TINY_TRAINING.index("--max-steps") + 2:]]
    app = make_app(tmp_path, data=small_text_file, train_extra=long_run)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        pane, chart = app.query_one(TrainingPane), app.query_one(LossChart)
        app.query_one("#model-select", Select).value = "mercutio"
        await pilot.click("#start")
        for _ in range(300):
            await pilot.pause(0.1)
            if len(chart.val_points["mercutio"]) >= 2:
                break
        assert chart.train_points["mercutio"] and len(chart.val_points["mercutio"]) >= 2
        await pilot.click("#stop")
        process = pane.controller.processes["mercutio"]
        for _ in range(300):
            await pilot.pause(0.1)
            if not process.running and "Resume" in str(pane.query_one("#status", Static).render()):
                break
        assert process.returncode == 0
        events = RunDir(process.run.path).events()
        assert isinstance(events[-1], Finished) and events[-1].reason == "signal"
        stopped_at = events[-1].step
        table = app.query_one(DataTable)
        assert str(table.get_cell("mercutio", "step")) == str(stopped_at)
        assert str(table.get_cell("mercutio", "status")) == "stopped"
        assert "mercutio: stopped with a checkpoint; Resume continues it" in str(pane.query_one("#status").render())
        await pilot.click("#resume")
        for _ in range(300):
            await pilot.pause(0.1)
            if max((s for s, _ in chart.train_points["mercutio"]), default=0) > stopped_at:
                break
        assert max(s for s, _ in chart.train_points["mercutio"]) > stopped_at
        await app.action_quit()
    assert not process.running
    assert isinstance(RunDir(process.run.path).events()[-1], Finished)


async def test_a_run_that_spends_its_budget_is_done_and_its_figures_are_not_cut(tmp_path, small_text_file):
    app = make_app(tmp_path, data=small_text_file)  # 400 tiny steps
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        await pilot.click("#start")
        status, table = app.query_one("#status", Static), app.query_one(DataTable)
        for _ in range(600):
            await pilot.pause(0.1)
            if "done" in str(status.render()):
                break
        assert str(status.render()) == "benvolio: its steps are done"  # --max-steps: Resume would stop at once
        assert str(table.get_cell("benvolio", "status")) == "done"
        for column in ("step", "train", "val", "ch/s"):  # each column as wide as its widest figure
            cell = str(table.get_cell("benvolio", column))
            assert table.columns[column].get_render_width(table) >= len(cell) + 2, (column, cell)
        await pilot.click("#start")  # a new run: the last one's figures go (its child has not started yet)
        cells = [str(table.get_cell("benvolio", c)) for c in ("step", "train", "val", "status")]
        assert cells == ["", "", "", "starting"]
        await app.action_quit()


async def test_checkpoints_reload_the_generation_model(tmp_path, small_text_file):
    app = make_app(tmp_path, data=small_text_file)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        shipped = app.bank.get("benvolio").loaded
        await pilot.press("f2")
        await pilot.click("#start")  # benvolio is selected by default
        for _ in range(300):
            await pilot.pause(0.1)
            if app.bank.get("benvolio").loaded is not shipped:
                break
        slot = app.bank.get("benvolio")
        assert slot.loaded is not shipped and slot.source.startswith("step ")
        assert slot.loaded.model.config.n_hidden == 16  # the tiny model being trained
        said = record_notices(app)
        await app.action_quit()  # Ctrl+Q: the app says what it waits for
        assert said == ["stopping Benvolio, writing checkpoint…"]


async def test_missing_corpus_says_what_to_do(tmp_path):
    app = make_app(tmp_path, data=tmp_path / "nowhere.txt")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        await pilot.click("#start")
        status = app.query_one("#status", Static)
        for _ in range(200):
            await pilot.pause(0.1)
            if "error" in str(status.render()):
                break
        text = str(status.render())
        assert "corpus file not found" in text and "--data" in text
        assert text.startswith("benvolio stopped with an error: corpus file") and "shakes-train" not in text
        runs = tmp_path / "runs"
        assert not runs.exists() or list(runs.iterdir()) == []  # a failed start leaves no run folder behind


async def test_missing_weights_still_open_and_offer_training(tmp_path):
    empty = tmp_path / "no-weights"
    empty.mkdir()
    (empty / "romeo.safetensors").write_bytes(b"not really weights")
    app = make_app(tmp_path, weights_dir=empty)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        for name in family_names():
            body = str(app.query_one(f"#gen-{name}", GenerationPane).query_one(".body", Static).render())
            assert "No weights" in body and "Train" in body
        assert "romeo.safetensors" in app.bank.get("romeo").error
        await submit_seed(pilot, "hello")  # generating with no models does nothing, and does not crash
        await settle(pilot, app)


async def test_watch_follows_a_run_started_elsewhere(tmp_path, small_text_file):
    from shakes_tui.engine.data.corpus import Corpus
    from shakes_tui.engine.training.trainer import Trainer, default_config

    run = RunDir(tmp_path / "elsewhere")
    Trainer(default_config("romeo", preset="tiny", seq_len=16, batch_size=4, max_steps=20, eval_interval=5,
                           eval_batches=2, device="cpu", eval_share=1.0), Corpus.from_text(SMALL_TEXT), run).run()
    app = make_app(tmp_path, watch=[run.path])
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(600):  # returns as soon as the events are in; the limit is for a loaded machine
            await pilot.pause(0.05)
            if len(app.query_one(LossChart).val_points.get("romeo", [])) == 5:
                break
        assert [s for s, _ in app.query_one(LossChart).val_points["romeo"]] == [0, 5, 10, 15, 20]
        assert str(app.query_one(DataTable).get_cell("romeo", "step")) == "20"


@pytest.mark.parametrize("sizes", [[(80, 24), (200, 60), (40, 12), (80, 24)]])
async def test_resizing_never_crashes(tmp_path, sizes):
    app = make_app(tmp_path)
    async with app.run_test(size=sizes[0]) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "ROMEO:", length="200")
        for tab in ("f1", "f2", "f3"):
            await pilot.press(tab)
            for size in sizes:
                await pilot.resize_terminal(*size)
                await pilot.pause(0.05)
        train = Train(step=1, loss=4.0, chars_per_s=10, elapsed=1.0, lr=0.1)
        app.query_one(TrainingPane).post_message(TrainingEvents("romeo", [train]))
        await settle(pilot, app)
        assert app.is_running


async def test_messages_arriving_during_shutdown_are_dropped(tmp_path):
    """A worker's last message can be delivered after the screens are gone (seen in CI): no crash."""
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        panes = [app.query_one(TrainingPane), app.query_one(GatesPane)]
    assert not app.is_running
    app.show_new_weights(CheckpointLoaded("romeo", "step 5 · x", None))
    app.show_progress(GenerationProgress("romeo", app.round_no, "ab", 1.0, done=True))
    app.models_loaded()
    # the panes that follow training and trace gates are closed: a late message is not delivered at all
    assert not panes[0].post_message(TrainingEnded("romeo", 1, "boom"))
    assert not panes[0].post_message(TrainingEvents("romeo", [Checkpoint(step=1, path="x")]))
    assert not panes[1].post_message(TraceReady("ab", {}))


async def test_escape_leaves_a_text_field_so_that_question_mark_opens_the_help(tmp_path):
    from shakes_tui.tui.widgets.help_screen import HelpScreen

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        seed = app.query_one("#seed", Input)
        assert app.focused is seed
        typed = seed.value
        await pilot.press("escape")
        assert not isinstance(app.focused, Input)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        assert seed.value == typed  # the ? went to the app, not into the field


def test_a_run_ends_done_when_it_spent_its_budget_and_stopped_otherwise():
    from shakes_tui.tui.widgets.training_pane import finished_words

    assert [finished_words(r) for r in ("done", "max_steps", "max_seconds")] == ["done"] * 3
    assert [finished_words(r) for r in ("signal", "stopped", "parent gone")] == ["stopped"] * 3


async def test_the_seed_box_holds_a_placeholder_and_question_mark_opens_the_help_from_f1(tmp_path):
    """The seed box opens empty with the default seed as its placeholder: Enter continues it, the first keystroke
    replaces it. A ? that would replace the whole seed (F1 selects it all) opens the help and leaves the seed."""
    from shakes_tui.tui.widgets.help_screen import HelpScreen

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        seed = app.query_one("#seed", Input)
        assert seed.value == "" and seed.placeholder.startswith("ROMEO:\\n")
        await pilot.press("question_mark")  # the empty box: help
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen) and seed.value == ""
        await pilot.press("escape")
        await pilot.press("J", "u", "l")
        assert seed.value == "Jul"
        await pilot.press("f2", "f1")  # F1 focuses the seed with all of it selected
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen) and seed.value == "Jul"
        await pilot.press("escape")
        seed.cursor_position = 3
        await pilot.press("question_mark")  # within a seed, ? is a character
        assert seed.value == "Jul?"


async def test_gates_say_when_they_show_a_live_runs_weights_and_the_way_back(tmp_path):
    from shakes_tui.tui.bank import Slot

    app = make_app(tmp_path)
    async with app.run_test(size=(60, 15)) as pilot:
        gates = await open_tab(pilot, "f3", GatesPane)
        source = app.query_one("#gate-source", Static)
        assert not source.display  # the shipped weights: nothing to say
        loaded = app.bank.get("mercutio").loaded
        gates.show_source(Slot("mercutio", loaded, None, "step 5 · val 2.0 · run"))
        await pilot.pause()
        said = str(source.render())
        assert source.display and said.startswith("Mercutio: live weights · b in Generate: back to shipped")
        assert len("Mercutio: live weights · b in Generate: back to shipped") <= 60 - 2  # the way back fits at 60
        gates.show_source(app.bank.get("mercutio"))
        assert not source.display
