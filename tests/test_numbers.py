"""Numbers a person gives: one definition of each limit, one parser, the same answer from every way in."""

import argparse

import pytest
from shakes_tui.engine.cli.common import rng_seed
from shakes_tui.engine.generation.sampling import MAX_RNG_SEED, RNG_SEED, TEMPERATURE, SampleSettings
from shakes_tui.engine.numbers import BadNumber, positive
from shakes_tui.tui.training import DEFAULT_MINUTES
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import Input, Static

from tests.test_app import submit_seed
from tests.tui_helpers import make_app, settle


def test_a_number_is_parsed_and_checked_in_one_place_with_or_without_a_name():
    minutes = positive(float)
    assert minutes.parse("2.5") == 2.5
    with pytest.raises(BadNumber, match=r"^'soon' is not a number$"):
        minutes.parse("soon")
    with pytest.raises(BadNumber, match=r"^minutes must be greater than 0, not '-1'$"):
        minutes.parse("-1", "minutes")
    with pytest.raises(BadNumber, match=r"^'nan': must be 0 or more$"):
        TEMPERATURE.parse("nan")
    with pytest.raises(BadNumber, match="must be a whole number, not '1.5'"):
        RNG_SEED.parse("1.5", "rng seed")
    with pytest.raises(BadNumber, match="top-k must be a whole number greater than 0, not 2.0"):
        SampleSettings(top_k=2.0)
    assert isinstance(BadNumber("x"), ValueError)  # what an input box catches


@pytest.mark.parametrize("seed, ok", [(0, True), (MAX_RNG_SEED, True), (MAX_RNG_SEED + 1, False), (-1, False)])
def test_the_command_line_and_the_settings_agree_on_the_largest_rng_seed(seed, ok):
    """2**63 - 1 for every tool: a training run adds its rank and step to its seed."""
    assert MAX_RNG_SEED == 2**63 - 1
    if ok:
        assert rng_seed(str(seed)) == SampleSettings(rng_seed=seed).rng_seed == seed
        return
    with pytest.raises(argparse.ArgumentTypeError, match="from 0 to"):
        rng_seed(str(seed))
    with pytest.raises(BadNumber, match="from 0 to"):
        SampleSettings(rng_seed=seed)


async def test_the_apps_boxes_start_at_the_engines_defaults_and_refuse_in_the_parsers_words(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert float(app.query_one("#temperature", Input).value) == SampleSettings().temperature
        assert float(app.query_one("#minutes", Input).value) == DEFAULT_MINUTES
        app.query_one("#temperature", Input).value = "-1"
        await submit_seed(pilot, "x")
        await pilot.pause(0.2)
        assert "temperature must be 0 or more, not '-1'" in [n.message for n in app._notifications]
        app.query_one("#minutes", Input).value = "0"
        app.query_one(TrainingPane).request("start", app.names[0])
        assert str(app.query_one("#status", Static).render()) == "minutes must be greater than 0, not '0'"
