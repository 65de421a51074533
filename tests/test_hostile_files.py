"""Hostile weights files through every door: the loader, each command-line tool, and the app.

Each must give one clear line naming the file (CLIs: exit status 2), allocate nothing big, and
never run a pickle's code.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shakes_tui.engine import cli
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.runs import SAMPLE_CHARS
from shakes_tui.engine.shipped import SHIPPED_DIR as WEIGHTS_DIR
from shakes_tui.engine.weights import load_weights

from tests.conftest import SMALL_TEXT
from tests.hostile import ALPHABET, hostile_weights

KINDS = ["truncated", "random-bytes", "empty", "pickle", "torch-pickle", "oversized-header", "oversized-metadata",
         "negative-width", "string-width", "huge-width", "big-declared-width", "dropout-5", "unknown-setting",
         "short-vocabulary", "dict-vocabulary", "repeated-vocabulary", "vocab-not-json", "unknown-family",
         "nan-weights", "wrong-shape", "nested-header", "nested-config", "surrogate-vocabulary"]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "PWNED"
    files = hostile_weights(folder, marker)
    assert set(files) == set(KINDS) | {"good"}
    yield files
    assert not marker.exists(), "a pickle in a weights file was executed"


@pytest.mark.parametrize("kind", KINDS)
def test_the_loader_refuses_with_one_line_naming_the_file(bad_files, kind):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ShakesError) as caught:
        load_weights(bad_files[kind])
    message = str(caught.value)
    assert str(bad_files[kind]) in message and "\n" not in message
    assert "weights_only" not in message
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"{kind}: the peak grew by {grown_mb:.0f} MB before refusing"


def test_the_good_file_loads(bad_files):
    assert load_weights(bad_files["good"]).vocab == ALPHABET


def _tool_args(tool: str, path, tmp_path, data) -> list[str]:
    return {
        "sample": ["--weights", str(path), "-n", "5"],
        "eval": ["--weights", str(path), "--data", str(data)],
        "trace": ["some text", "--weights", str(path), "--out", str(tmp_path / "t.npz")],
        "train": ["--init", str(path), "--data", str(data), "--max-steps", "1", "--out", str(tmp_path / "run")],
    }[tool]


@pytest.mark.parametrize("tool", ["sample", "eval", "trace", "train"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_tool_refuses_with_one_line_and_status_2(bad_files, tool, kind, tmp_path, capsys):
    data = tmp_path / "text.txt"
    data.write_text(SMALL_TEXT)
    main = getattr(cli, f"{tool}_main")
    with pytest.raises(SystemExit) as exited:
        main(_tool_args(tool, bad_files[kind], tmp_path, data))
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 2, err
    assert len(err.splitlines()) == 1 and str(bad_files[kind]) in err, err
    assert "Traceback" not in err and "weights_only" not in err
    assert not (tmp_path / "t.npz").exists()


@pytest.mark.parametrize("kind", ["nan-weights", "huge-width", "pickle", "truncated"])
async def test_the_app_opens_and_only_the_bad_files_pane_says_so(bad_files, kind, tmp_path):
    from shakes_tui.tui.widgets.generation_pane import GenerationPane

    from tests.tui_helpers import make_app, settle

    folder = tmp_path / "weights"
    folder.mkdir()
    for name in ("benvolio", "romeo"):
        shutil.copy(WEIGHTS_DIR / f"{name}.safetensors", folder)
    shutil.copy(bad_files[kind], folder / "mercutio.safetensors")
    app = make_app(tmp_path, weights_dir=folder)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert app.bank.get("benvolio").loaded is not None and app.bank.get("romeo").loaded is not None
        slot = app.bank.get("mercutio")
        assert slot.loaded is None and "mercutio.safetensors" in slot.error
        shown = str(app.query_one("#gen-mercutio", GenerationPane).render())
        assert "loading" not in shown.lower()


# ---- a run's metrics file from elsewhere, watched (shakes-tui --watch) ---------------------------------------------
TRAIN = '{"type": "train", "step": %s, "loss": %s, "lr": 0.001, "chars_per_s": 100, "elapsed": 1.0}'
MARKUP = "[/nope] [/] [bold red]not bold[/bold red] [link=http://x]y"


def hostile_metrics(run: Path, *, history: int = 0, sample_chars: int = 100) -> dict:
    """A metrics file whose model name and sample hold markup, with out-of-range lines among good ones;
    history: that many more good train events; sample_chars: the sample's length. What should be shown."""
    run.mkdir(parents=True)
    bad = [TRAIN % (5, "NaN"), TRAIN % (5, "Infinity"), TRAIN % (5, "-Infinity"), TRAIN % (5, "1e308"),
           TRAIN % (5, "-1e308"), TRAIN % (10**30, 2.0), TRAIN % (-3, 2.0),
           '{"type": "eval", "step": 5, "train_loss": 2, "val_loss": NaN, "sample": "x"}']
    sample = (MARKUP * (sample_chars // len(MARKUP) + 1))[:sample_chars]
    with open(run / "metrics.jsonl", "w") as f:
        f.write(json.dumps({"type": "start", "model": MARKUP, "step": 0, "params": 1, "device": "[/]",
                            "config": {}, "model_config": {}}) + "\n")
        f.write("\n".join(bad[:4]) + "\n" + TRAIN % (1, 3.5) + "\n" + "\n".join(bad[4:]) + "\n")
        f.write("".join(TRAIN % (k + 2, 3.0) + "\n" for k in range(history)))
        f.write(json.dumps({"type": "eval", "step": history + 1, "train_loss": 2.5, "val_loss": 2.75,
                            "sample": sample}) + "\n")
    return {"train": 1 + history, "skipped": len(bad), "sample": sample[:SAMPLE_CHARS]}


async def key_changes_the_tab(pilot, app, seconds: float = 5.0) -> float:
    """Press F1 (or F2) and wait for the tab to change: the seconds it took."""
    from textual.widgets import TabbedContent

    tabs = app.query_one(TabbedContent)
    key, wanted = ("f1", "generate") if tabs.active == "train" else ("f2", "train")
    start = time.monotonic()
    await pilot.press(key)
    while tabs.active != wanted and time.monotonic() - start < seconds:
        await pilot.pause(0.02)
    assert tabs.active == wanted, f"{key} did not change the tab in {seconds} s"
    return time.monotonic() - start


async def watch_until_read(pilot, app, model: str, expected: int, seconds: float = 240.0) -> list[float]:
    """Press a key every half second while the run's history comes in: how long each took to show."""
    from shakes_tui.tui.widgets.loss_chart import LossChart

    waits, deadline = [], time.monotonic() + seconds
    while len(app.query_one(LossChart).train_points.get(model, [])) < expected and time.monotonic() < deadline:
        waits.append(await key_changes_the_tab(pilot, app))
        await pilot.pause(0.5)
    assert len(app.query_one(LossChart).train_points[model]) == expected
    return waits


def shown(app) -> tuple[str, str, str]:
    """The runs table's first row's model, the sample's text and the sample's title, as drawn."""
    from textual.widgets import DataTable, Static

    table = app.query_one(DataTable)
    sample = app.query_one("#sample", Static)
    return str(table.get_row_at(0)[0]), str(sample.render()), str(sample.border_title)


async def test_watching_a_file_with_markup_and_out_of_range_numbers_skips_and_counts_them(tmp_path):
    from tests.tui_helpers import make_app

    run = tmp_path / "elsewhere"
    expected = hostile_metrics(run)
    app = make_app(tmp_path, watch=[run])
    async with app.run_test(size=(120, 36)) as pilot:
        await watch_until_read(pilot, app, MARKUP, expected["train"])
        await key_changes_the_tab(pilot, app)
        model, sample, _ = shown(app)
        assert model == MARKUP and sample == expected["sample"]  # the text itself: no markup was applied
        assert [s for s, _ in app.query_one("LossChart").train_points[MARKUP]] == [1]
        said = [n.message for n in app._notifications]
        assert any(f"skipped {expected['skipped']} unreadable line(s)" in m for m in said), said
        assert app.is_running


@pytest.mark.slow
async def test_watching_a_long_history_with_a_50_mb_sample_stays_responsive(tmp_path):
    from tests.tui_helpers import make_app

    run = tmp_path / "elsewhere"
    expected = hostile_metrics(run, history=200_000, sample_chars=50_000_000)
    app = make_app(tmp_path, watch=[run])
    async with app.run_test(size=(120, 36)) as pilot:
        waits = await watch_until_read(pilot, app, MARKUP, expected["train"])
        await pilot.pause(1.0)  # the sample is the history's last event
        _, sample, title = shown(app)
        assert sample == expected["sample"] and len(sample) == SAMPLE_CHARS and f"step {200_001}" in title
        print(f"while reading: {len(waits)} key presses, slowest shown after {max(waits):.2f} s")
        assert len(waits) >= 2 and max(waits) < 2.0, waits  # it was read while keys were pressed, which answered


async def test_watching_a_fifo_says_so_once_and_the_app_goes_on(tmp_path):
    from tests.tui_helpers import make_app, settle

    run = tmp_path / "elsewhere"
    run.mkdir()
    os.mkfifo(run / "metrics.jsonl")
    app = make_app(tmp_path, watch=[run])
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(100):
            await pilot.pause(0.1)
            if app._notifications:
                break
        await settle(pilot, app)
        said = [n.message for n in app._notifications]
        assert len(said) == 1 and "is a FIFO, not a regular file" in said[0], said
        await key_changes_the_tab(pilot, app)


def test_shakes_tui_watch_refuses_a_fifo_in_one_line(tmp_path):
    run = tmp_path / "elsewhere"
    run.mkdir()
    os.mkfifo(run / "metrics.jsonl")
    result = subprocess.run([sys.executable, "-m", "shakes_tui.tui", "--watch", str(run)], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"shakes-tui: error: --watch {run}: its metrics.jsonl is a FIFO, not a regular file"], result.stderr
