"""Any text, as a seed or a trace: no crash, no freeze, unknown characters named once.

hypothesis draws from every Unicode category (control characters, NUL, combining marks, emoji,
right-to-left letters, lone surrogates, which Python strings may hold), plus the empty text and
100,000-character texts. Tiny models keep each example fast.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import json
import math

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shakes_tui.engine import cli, runs
from shakes_tui.engine.generation.sampling import SampleSettings, context_window, prepare_seed, stream
from shakes_tui.engine.models import family_names
from shakes_tui.engine.runs import BadLine, Checkpoint, Eval, Failed, Finished, Start, Train, decode, encode

from tests.hostile import ALPHABET, good_weights

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FASTER = settings(FAST, max_examples=12)  # each example runs a whole tool
SPECIAL = ["\x00", "\u202e", "\u05e9\u05dc\u05d5\u05dd", "e\u0301\u0308", "\U0001f600\u200d\U0001f525", "\ud800",
           "\udfff", "\r\n", "\t", "\x1b[2J", "\ufeff", "\uffff"]
pieces = st.characters(exclude_categories=()) | st.sampled_from(SPECIAL) | st.sampled_from(list(ALPHABET.chars))
short = st.lists(pieces, max_size=40).map("".join)
texts = st.one_of(
    short,
    st.just(""),
    st.builds(lambda piece, n: (piece * n)[:100_000], short.filter(bool), st.integers(20_000, 100_000)),
)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models step faster on one thread (two threads spin against each other on a busy machine)."""
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from shakes_tui.engine.weights import load_weights

    folder = tmp_path_factory.mktemp("tiny")
    return {family: load_weights(good_weights(folder / f"{family}.safetensors", family)) for family in family_names()}


def longest_input(model) -> list[int]:
    """Record the longest sequence the model is given in one call."""
    seen = [0]
    original = model.forward

    def forward(idx, *args, **kwargs):
        seen[0] = max(seen[0], idx.size(1))
        return original(idx, *args, **kwargs)

    model.forward = forward
    return seen


def named(warning: str | None) -> list[str]:
    return [] if warning is None else list(ast.literal_eval(warning.split(": ", 1)[1]))


@FAST
@given(text=texts)
def test_any_seed_streams_within_the_window_and_names_unknowns_once(tiny_models, text):
    unknown = sorted({c for c in text if c not in ALPHABET.stoi})
    for family, loaded in tiny_models.items():
        prepared = prepare_seed(loaded.vocab, text)
        assert named(prepared.warning()) == unknown
        seen = longest_input(loaded.model)
        try:
            out = "".join(stream(loaded.model, loaded.vocab, prepared, 3, SampleSettings(rng_seed=1)))
        finally:
            del loaded.model.forward
        assert len(out) == 3 and all(c in ALPHABET.stoi for c in out)
        assert seen[0] <= context_window(loaded.model), f"{family} read {seen[0]} characters at once"


@FASTER
@given(text=texts)
def test_any_text_traces_or_gets_one_line(tiny_models, text, tmp_path_factory, capsys):
    weights = tiny_models["mercutio"].path
    out = tmp_path_factory.mktemp("trace") / "t.npz"
    with pytest.raises(SystemExit) as exited:
        cli.trace_main([text, "--weights", str(weights), "--out", str(out), "--max-chars", "2000"])
    err = capsys.readouterr().err
    known = [c for c in text if c in ALPHABET.stoi]
    if known:
        assert exited.value.code == 0, err
        import numpy as np

        assert np.load(out)["c"].shape[0] == min(len(known), 2000)
    else:
        assert exited.value.code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@FASTER
@given(text=texts)
@example(text="-:")  # a seed that begins with '-' is still the seed, not an option
def test_any_seed_on_the_command_line_prints_or_gets_one_line(tiny_models, text, capsys):
    weights = tiny_models["romeo"].path
    with pytest.raises(SystemExit) as exited:
        cli.sample_main(["--weights", str(weights), "--seed", text, "-n", "4", "--rng-seed", "3"])
    out, err = capsys.readouterr()
    assert exited.value.code == 0, err
    assert len(out) >= 4 and "Traceback" not in err


def test_the_long_seed_property_is_not_vacuous(tiny_models):
    """A 100,000-character seed really is cut to the window (and the check above would see a longer one)."""
    loaded = tiny_models["benvolio"]
    seen = longest_input(loaded.model)
    try:
        with torch.inference_mode():
            loaded.model(torch.zeros(1, 5000, dtype=torch.long))
        assert seen[0] == 5000
        seen[0] = 0
        list(stream(loaded.model, loaded.vocab, "a" * 100_000, 1, SampleSettings(rng_seed=1)))
    finally:
        del loaded.model.forward
    assert seen[0] == context_window(loaded.model) < 100_000


async def test_the_seed_box_takes_any_text(tiny_models, tmp_path):
    from shakes_tui.tui.widgets.generation_pane import GenerationPane
    from textual.widgets import Input
    from textual.worker import WorkerState

    from tests.tui_helpers import make_app, settle

    app = make_app(tmp_path, weights_dir=tiny_models["romeo"].path.parent)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        for seed in [*SPECIAL, "", "To be\x00" * 20_000]:
            app.query_one("#length", Input).value = "5"
            app.query_one("#seed", Input).value = seed
            app.query_one("#seed", Input).focus()
            await pilot.press("enter")
            await settle(pilot, app)
            for family in family_names():
                assert len(app.query_one(f"#gen-{family}", GenerationPane).text) == 5, (family, seed[:20])
        assert not [w for w in app.workers if w.state == WorkerState.ERROR]
        assert not [n for n in app._notifications if n.severity == "error"]


# ---- a run's metrics file from elsewhere: every line is an event within the contract's bounds, or skipped -------
def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


hostile_values = st.one_of(
    st.floats(),  # NaN, ±Infinity, ±1e308
    st.integers(-10**40, 10**40), st.just(10**30), st.just(-1),
    st.text(max_size=30), st.sampled_from(["[/nope]", "[/]", "[bold red]fake[/]", "[link=x]y", *SPECIAL]),
    st.builds(lambda n: "x" * n, st.integers(4000, 20_000)),
    st.none(), st.booleans(), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.lists(st.integers(), max_size=3),
)
GOOD_EVENTS = [encode(e) for e in [
    Start(model="mercutio", step=0, params=10, device="cpu", config={}, model_config={}),
    Train(step=10, loss=2.5, lr=0.001, chars_per_s=5000.0, elapsed=1.5),
    Eval(step=10, train_loss=2.4, val_loss=2.6, sample="to sea"),
    Checkpoint(step=10, path="w.safetensors"),
    Finished(step=10, reason="done", elapsed=1.5, val_loss=2.0),
    Failed(step=11, reason="x")]]


def within_the_contract(event) -> None:
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            lo, hi = f.metadata.get("range", runs.NUMBERS)
            assert math.isfinite(value) and lo <= value <= hi, (f.name, value)
        if isinstance(value, str):
            assert len(value) <= max(runs.TEXT_CHARS, runs.SAMPLE_CHARS), f.name


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(GOOD_EVENTS), changes=st.dictionaries(st.sampled_from(
    ["step", "loss", "lr", "chars_per_s", "elapsed", "train_loss", "val_loss", "sample", "model", "params", "device",
     "path", "reason", "time", "world_size", "pid", "seconds", "eval_seconds", "config"]), hostile_values,
    min_size=1, max_size=3))
@example(base=GOOD_EVENTS[2], changes={"sample": "[/nope]" * 1000})
def test_any_line_decodes_to_an_event_within_bounds_or_is_refused(base, changes):
    line = json.dumps({**json.loads(base), **changes})
    try:
        event = decode(line)
    except BadLine as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    within_the_contract(event)


@settings(max_examples=100, deadline=None)
@given(line=st.binary(max_size=200) | st.builds(_nested, st.integers(1, 200_000)) | st.text(max_size=200))
def test_any_bytes_decode_or_are_refused(line):
    with contextlib.suppress(BadLine):  # anything else it raised would fail the test
        within_the_contract(decode(line))


# ---- numbers on the command line: beyond a flag's limit is one line before any work, whatever the size -----------
LIMITED = [(cli.train_main, ["--model", "romeo"], flag, limit) for flag, limit in
           [("--threads", 1024), ("--n-layer", 128), ("--n-hidden", 16384), ("--n-embd", 16384),
            ("--eval-batches", 10_000)]] + [(cli.sample_main, [], "-n", 100_000_000),
                                            (cli.sample_main, [], "--threads", 1024)]


@FAST
@given(case=st.sampled_from(LIMITED), excess=st.integers(1, 10**40))
def test_a_number_beyond_a_flags_limit_is_one_line_and_status_2(case, excess, capsys):
    main, argv, flag, limit = case
    with pytest.raises(SystemExit) as exited:
        main([*argv, flag, str(limit + excess)])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and f"{limit:,}" in err and len(err.strip().splitlines()) == 1, err
