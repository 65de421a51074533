"""Issue 9: the app read by a person at 80x24 and 60x15 (pilot tests; snapshots are in test_snapshots.py)."""

from __future__ import annotations

import numpy as np
import pytest
from rich.color import Color
from rich.style import Style
from shakes_tui.engine.inspect.surprise import Surprise
from shakes_tui.engine.runs import METRICS, Eval, Finished
from shakes_tui.tui.commands import app_commands
from shakes_tui.tui.insight.surprise_view import coloured_text
from shakes_tui.tui.palette import (
    SURPRISE_TOP,
    cell_colour,
    contrast,
    heat,
    surprise_colour,
    text_colour,
    weight_colour,
)
from shakes_tui.tui.widgets.gate_heatmap import GateHeatmap, draw
from shakes_tui.tui.widgets.gates_pane import MAX_TRACE_CHARS, GatesPane
from shakes_tui.tui.widgets.help_screen import HelpScreen
from shakes_tui.tui.widgets.loss_chart import LossChart, spaced_ticks, step_label
from shakes_tui.tui.widgets.seed_bar import SeedBar
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import DataTable, Input, Markdown, Static, TabbedContent
from textual_hires_canvas import Canvas

from tests.test_app import submit_seed
from tests.tui_helpers import make_app, open_tab, record_notices, run_events, settle, until

SMALL_SIZES = [(80, 24), (60, 15)]


@pytest.mark.parametrize("size", SMALL_SIZES)
async def test_a_focused_number_field_shows_its_value(tmp_path, size):
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        seed_row_y = app.query_one("#temperature", Input).region.y
        await pilot.press("f1", "tab", "tab")
        await pilot.pause()
        field = app.focused
        assert isinstance(field, Input) and field.id == "temperature"
        assert field.region.y == seed_row_y and field.region.height == 1  # nothing moved
        assert "0.8" in field.render_line(0).text


async def test_the_cursor_keeps_its_unit_when_the_gate_layer_or_order_changes(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f3", "down", "down", "down")
        heatmap = app.query_one(GateHeatmap)
        unit = heatmap.cursor_unit
        for key in ["g", "g", "s", "l", "G"]:
            before = list(heatmap.units)
            await pilot.press(key)
            await pilot.pause()
            assert heatmap.cursor_unit == unit
            assert list(heatmap.units) != before or key == "l"  # a new order, the same unit
        assert f"unit {unit + 1} " in str(app.query_one("#unit-text", Static).border_title)  # numbered from 1


@pytest.mark.parametrize("size", SMALL_SIZES)
async def test_the_heatmap_shows_units_and_outsizes_the_coloured_text(tmp_path, size):
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        heatmap, text = await open_tab(pilot, "f3", GateHeatmap), app.query_one("#unit-text", Static)
        unit_rows = heatmap.content_size.height - 1  # the first row is the characters
        assert unit_rows >= 4 and heatmap.outer_size.height > text.outer_size.height


SCALES = {  # every colour scale text or a cursor mark is drawn on, over its whole range
    **{f"gate {g}": (lambda v, g=g: cell_colour(g, v), np.linspace(-1, 1, 401)) for g in "figoch"},
    "surprise": (surprise_colour, np.linspace(0, SURPRISE_TOP * 1.5, 401)),
    "attention": (weight_colour, np.linspace(0, 1, 401)),
    "heat": (heat, np.linspace(0, 1, 401)),
}


@pytest.mark.parametrize("scale", SCALES)
def test_text_on_every_colour_of_every_scale_reads_at_a_contrast_of_at_least_4_5(scale):
    colour_of, points = SCALES[scale]
    ratios = [contrast(colour_of(float(v)), Color.parse(text_colour(colour_of(float(v))))) for v in points]
    print(f"{scale}: lowest contrast {min(ratios):.2f}:1")
    assert min(ratios) >= 4.5, (scale, points[int(np.argmin(ratios))])


def test_the_contrast_rule_is_the_wcag_one():
    assert text_colour(cell_colour("f", 1.0)) == "#000000"  # the light amber that white text made unreadable
    assert contrast(Color.parse("#000000"), Color.parse("#ffffff")) == pytest.approx(21)
    assert contrast(heat(1.0), Color.parse("#ffffff")) < 1.5  # what the surprise view drew at the top of its scale


def test_the_coloured_text_of_every_view_uses_the_readable_text_colour():
    """The surprise view's, the gates' and the palette's own helper: every coloured cell has its text colour."""
    text = "ab c\td\nef"
    s = Surprise(text, np.linspace(0, 8, len(text) - 1), [[] for _ in text[1:]])
    values = np.linspace(-1, 1, len(text) * 3).reshape(len(text), 3)
    drawn = [coloured_text(s, cursor=2), draw(text, "g", values, np.arange(3), range(len(text)), (1, 1))]
    for out in drawn:
        for span in out.spans:
            style = Style.parse(span.style) if isinstance(span.style, str) else span.style
            if style.bgcolor is not None:
                assert contrast(style.bgcolor, style.color) >= 4.5, (out.plain, span)
    assert coloured_text(s, cursor=2).plain == "ab c⇥d⏎\nef"  # a tab and a newline drawn as the Gates view draws them
    assert draw(text, "g", values, np.arange(3), range(len(text)), (1, 1)).plain.startswith(" " * 6 + "ab·c⇥d⏎ef")


async def test_the_colour_legend_gives_the_gates_range(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        heatmap = await open_tab(pilot, "f3", GateHeatmap)
        assert "0 forget" in heatmap.border_subtitle and "1 keep" in heatmap.border_subtitle
        await pilot.press("g", "g", "g", "g")  # the cell state, scaled per unit
        scale = float(np.abs(heatmap.values()[:, heatmap.cursor_unit]).max())
        assert f"+{scale:.2f}" in heatmap.border_subtitle and "this unit's range" in heatmap.border_subtitle


async def test_a_long_text_says_only_its_start_is_traced(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.query_one(GatesPane).trace(app.bank.get(app.gated), "x" * (MAX_TRACE_CHARS + 500))
        await until(pilot, lambda: len(app.query_one(GateHeatmap).text) == MAX_TRACE_CHARS)
        assert app.query_one("#unit-text", Static).border_subtitle == "traced the first 1,000 of 1,500 characters"
        app.query_one(GatesPane).trace(app.bank.get(app.gated), "To be 😀 or 42 not")  # 3 left out, none cut
        await until(pilot, lambda: app.query_one(GateHeatmap).text == "To be  or  not")
        assert app.query_one("#unit-text", Static).border_subtitle == ""


def drawn_chars(chart: LossChart) -> str:
    canvas = chart.query_one("#plot", Canvas)
    return "".join("".join(row) for row in canvas._buffer)


async def show_chart(pilot, events) -> LossChart:
    chart = await open_tab(pilot, "f2", LossChart)
    chart.add_events("benvolio", events)
    await pilot.pause(0.8)
    return chart


@pytest.mark.parametrize("size", [(120, 36), *SMALL_SIZES])
async def test_every_validation_point_is_drawn_the_step_0_one_included(tmp_path, size):
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        chart = await show_chart(pilot, run_events())
        canvas = chart.query_one("#plot", Canvas)
        x, y = chart.get_pixel_from_coordinate(0, 4.18)
        assert canvas.get_pixel(x, y)[0] == "●"  # the step-0 validation dot, the highest point
        assert drawn_chars(chart).count("●") + drawn_chars(chart).count("◆") == 3


async def test_a_run_of_three_points_draws_and_one_point_gets_a_round_label(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chart = await show_chart(pilot, run_events(n_train=3, evals=()))
        assert any(ch not in " ─│┌┐└┘┬┴├┤┼╭╮╰╯━┃┏┓┗┛┳┻┣┫╋" for ch in drawn_chars(chart))
        chart.train_points.clear()
        chart.add_events("romeo", [Eval(step=0, train_loss=4.2, val_loss=4.182001, sample="")])
        await pilot.pause(0.8)
        labels = chart._y_formatter.get_labels_for_ticks(chart._y_ticks)
        assert labels and all(len(label) <= 4 for label in labels)  # 4.18, not 4.1820010


def test_x_ticks_leave_room_between_their_labels():
    for cols in (6, 14, 40, 100):
        ticks = spaced_ticks(0, 6000, cols)
        labels = [step_label(t) for t in ticks]
        assert len(" ".join(labels)) + 2 * (len(labels) - 1) <= cols or len(ticks) == 1
    assert step_label(12500) == "12.5k" and step_label(500) == "500"


async def test_no_legend_box_before_any_run_and_z_zooms_to_the_recent_steps(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        chart = await open_tab(pilot, "f2", LossChart)
        assert not chart.query_one("#legend").display
        chart.add_events("benvolio", run_events())
        await pilot.pause(0.8)
        assert "◆ 2.100 @300" in chart.border_subtitle  # the best validation step, marked
        assert chart._y_max > 4.18
        chart.focus()
        await pilot.press("z")
        await pilot.pause(0.8)
        # only steps 150..300 set the range: losses 3.1 down to 2.1; the start (4.18) is off the top
        assert 3.1 < chart._y_max < 3.3 and chart._y_min < 2.1


@pytest.mark.parametrize("size", [(120, 36), *SMALL_SIZES])
async def test_the_train_tab_shows_its_controls_chart_and_every_column(tmp_path, size):
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        chart = await show_chart(pilot, run_events())
        pane = app.query_one(TrainingPane)
        pane.show_events("benvolio", [Finished(step=300, reason="max_seconds", elapsed=300.0, val_loss=2.1)])
        await pilot.pause(0.6)
        screen = app.screen.region
        for widget in ["#model-select", "#minutes", "#start", "#stop", "#resume", "#follow-checkpoints"]:
            assert screen.contains_region(app.query_one(widget).region), widget
        assert chart.query_one("#plot").size.width >= min(40, size[0] // 2)
        table = app.query_one(DataTable)
        right_edge = table.region.right
        offsets = [sum(c.get_render_width(table) for c in table.ordered_columns[:k]) for k in range(7)]
        assert table.region.x + offsets[-1] <= right_edge  # every number column starts on screen; status is last


async def test_question_mark_opens_the_help_and_escape_closes_it(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f3", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.query_one(Markdown).source
        for words in ("F1", "Ctrl+P", "overfitting", "forget gate", "1,000 characters"):
            assert words in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1", "question_mark")  # F1 selects the whole seed: a ? opens the help, not replaces it
        assert isinstance(app.screen, HelpScreen) and app.query_one("#seed", Input).value == ""
        await pilot.press("escape", "T", "o", "question_mark")  # within a seed, ? is a character of the seed
        assert not isinstance(app.screen, HelpScreen) and app.query_one("#seed", Input).value == "To?"


async def test_f1_on_the_generate_tab_puts_the_cursor_back_in_the_seed_box(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("tab", "tab", "tab")
        assert app.focused is not app.query_one("#seed", Input)
        await pilot.press("f1")
        assert app.focused is app.query_one("#seed", Input)


async def test_the_palette_holds_the_apps_commands_and_a_screenshot_that_says_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        names = [name for name, _, _ in app_commands(app)]
        for wanted in ("Generate", "Train Mercutio", "Stop training Romeo", "Gates: next gate", "Gates: next layer",
                       "Help: keys and how to read each view", "Screenshot (SVG, saved in the current folder)"):
            assert wanted in names
        assert "Screenshot" not in [c.title for c in app.get_system_commands(app.screen)]
        dict((n, cb) for n, cb, _ in app_commands(app))["Screenshot (SVG, saved in the current folder)"]()
        await pilot.pause(0.3)
        saved = list(tmp_path.glob("*.svg"))
        assert len(saved) == 1 and any(str(saved[0].resolve()) in n.message for n in app._notifications)
        dict((n, cb) for n, cb, _ in app_commands(app))["Gates: next gate"]()
        await pilot.pause()
        assert app.query_one(GateHeatmap).gate == "i"


async def test_watch_opens_on_the_train_tab(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / METRICS).write_text("")
    app = make_app(tmp_path, watch=[run])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.query_one(TabbedContent).active == "train"


async def test_missing_mercutio_weights_are_said_in_the_gates_tab(tmp_path):
    app = make_app(tmp_path, weights_dir=tmp_path / "none")
    async with app.run_test(size=(80, 24)) as pilot:
        shown = str((await open_tab(pilot, "f3", GateHeatmap)).render())
        assert "No Mercutio weights" in shown and "Type a seed" not in shown


async def test_a_seed_with_unknown_characters_gives_one_notice_naming_them(tmp_path):
    app = make_app(tmp_path)
    said = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.query_one("#length", Input).value = "1"
        app.query_one("#seed", Input).value = "Ωmega"
        app.query_one("#seed", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.pause(0.3)
        notices = [message for message in said if "vocabulary" in message]
        assert len(notices) == 1 and "Ω" in notices[0]
        subtitle = app.query_one("#gen-romeo").border_subtitle
        assert subtitle.startswith("done · ") and subtitle.endswith(" · 1 char")


async def test_top_k_above_the_vocabulary_is_capped_and_said(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        said = record_notices(app)
        app.query_one("#top-k", Input).value = "5120"
        settings, _ = app.query_one(SeedBar).read_settings()
        vocab = len(app.bank.get("romeo").loaded.vocab.chars)
        assert settings.top_k == vocab and app.query_one("#top-k", Input).value == str(vocab)
        await pilot.pause(0.1)
        assert any("top-k 5120" in message for message in said)


async def test_narrow_panes_and_settings_row_fit_60_columns(tmp_path):
    """At 60 columns each pane is 20 wide: its title names the model (and "live" for a run's weights), its
    subtitle the rate; the settings row packs closer and still shows the rng seed field whole. Widened, the
    finished pane says its progress again in full."""
    app = make_app(tmp_path)
    async with app.run_test(size=(60, 15)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "JULIET:", length="5")
        await settle(pilot, app)
        pane = app.query_one("#gen-benvolio")
        assert pane.border_title == "Benvolio"
        assert pane.border_subtitle.startswith("done ") and pane.border_subtitle.endswith(" ch/s")
        field = app.query_one("#rng-seed", Input)
        assert field.region.right <= 60 and field.region.width == 8
        await pilot.resize_terminal(120, 36)
        await settle(pilot, app)
        assert pane.border_title.startswith("Benvolio · shipped · RNN")
        assert pane.border_subtitle.endswith(" · 5 chars")
        assert str(app.query_one("#rng-label").render()) == "rng seed"


async def test_a_finished_stream_keeps_the_width_it_was_wrapped_at(tmp_path):
    """The pane keeps its scrollbar's gutter while streaming, so the text that overflows when done (and gets a
    scrollbar) is not wrapped again one column narrower."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await submit_seed(pilot, "JULIET:", length="600")
        pane = app.query_one("#gen-romeo")  # the slowest: its stream is caught while it runs
        for _ in range(500):  # not `until`, which waits for the workers: catch the stream while it runs
            if pane.text:
                break
            await pilot.pause(0.01)
        assert pane.text and "streaming" in str(pane.border_subtitle)
        streaming_width = pane.scrollable_content_region.width
        await until(pilot, lambda: str(pane.border_subtitle).startswith("done"))
        await settle(pilot, app)
        assert pane.max_scroll_y > 0  # the finished text overflows: the scrollbar is there
        assert pane.scrollable_content_region.width == streaming_width


def test_pane_titles_and_subtitles_take_the_longest_form_that_fits():
    from shakes_tui.engine.inspect.copying import Copying
    from shakes_tui.tui.bank import Slot
    from shakes_tui.tui.widgets.generation_pane import pane_title, progress_text

    class Loaded:  # what a Slot reads of a loaded model: its size
        class model:
            @staticmethod
            def num_params():
                return 430_000

    shipped, run = Slot("benvolio", Loaded, None, "shipped"), Slot("benvolio", Loaded, None, "step 20 · val 1.88 · x")
    assert pane_title(shipped, None, 34) == "Benvolio · shipped · RNN 0.43M"  # 120 columns: a pane 40 wide
    assert pane_title(shipped, None, 40) == "Benvolio · shipped · RNN 0.43M params"  # room to say what it counts
    assert pane_title(shipped, None, 20) == "Benvolio · shipped"  # 80 columns
    assert pane_title(shipped, None, 14) == "Benvolio" and pane_title(run, None, 14) == "Benvolio · live"  # 60 columns
    copied = Copying(16, "x" * 16, 0.24)
    # where there is room the size stays beside the copied figure (said to be parameters where it fits)
    assert pane_title(shipped, copied, 70) == "Benvolio · shipped · RNN 0.43M params · copied 16 · 24% of 8-grams"
    assert pane_title(shipped, copied, 47) == "Benvolio · shipped · RNN 0.43M · copied 16"
    assert pane_title(run, copied, 65) == "Benvolio · step 20 · val 1.88 · x · RNN 0.43M params · copied 16"
    assert pane_title(run, copied, 64) == "Benvolio · step 20 · val 1.88 · x · RNN 0.43M · copied 16"  # as LSTM's
    romeo = Slot("romeo", Loaded, None, "shipped")  # a shorter name and role: the same choice as its neighbours'
    assert pane_title(romeo, None, 36) == "Romeo · shipped · GPT 0.43M" and pane_title(shipped, None, 36) == \
        "Benvolio · shipped · RNN 0.43M"
    assert pane_title(run, copied, 44) == "Benvolio · live · copied 16 · 24% of 8-grams"
    assert pane_title(shipped, copied, 34) == "Benvolio · shipped · copied 16"  # 120 columns
    assert pane_title(shipped, copied, 20) == "Benvolio · copied 16"  # 80 columns: the copied figure stays
    assert pane_title(run, copied, 27) == "Benvolio · live · copied 16"
    assert pane_title(run, copied, 20) == "Benvolio · step 20 · val 1.88 · x"  # too narrow: the border cuts it
    assert pane_title(shipped, Copying(16, "x" * 16, None), 34) == "Benvolio · shipped · copied 16"
    assert progress_text(300, 994.0, True, 34) == "done · 994 ch/s · 300 chars"
    assert progress_text(300, 994.0, True, 20) == "done · 994 ch/s"
    assert progress_text(300, 994.0, True, 14) == "done 994 ch/s"
    assert progress_text(1, 994.0, False, 14) == "994 ch/s"


async def test_the_header_names_the_models_in_full_where_it_has_room(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert app.sub_title == "Benvolio (RNN) · Mercutio (LSTM) · Romeo (Transformer)"
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        assert app.sub_title == "RNN · LSTM · Transformer"  # "Romeo (Transf…" before


async def test_the_train_tabs_checkboxes_show_a_tick_only_when_on(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_tab(pilot, "f2", TrainingPane)
        live, shipped = pane.query_one("#follow-checkpoints"), pane.query_one("#from-shipped")
        assert "✓" in str(live.render()) and "X" not in str(live.render())  # on by default
        assert "✓" not in str(shipped.render()) and "X" not in str(shipped.render())
        shipped.value = True
        assert "✓" in str(shipped.render())
