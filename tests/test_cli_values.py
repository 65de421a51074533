"""Nonsense values on every command line: one line, exit status 2, nothing run and nothing overwritten."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from shakes_tui.engine import cli

from tests.hostile import good_weights
from tests.test_cli import run_cli

NO_CUDA = not torch.cuda.is_available()
HUGE = "99999999999999999999999"


@pytest.mark.parametrize("main, argv, message", [
    (cli.sample_main, ["--model", "benvolio", "--temperature", "nan"], "temperature"),
    (cli.sample_main, ["--model", "benvolio", "--temperature", "inf"], "temperature"),
    (cli.sample_main, ["--model", "benvolio", "--temperature", "-1"], "temperature"),
    (cli.sample_main, ["--model", "benvolio", "--rng-seed", "99999999999999999999"], "rng-seed"),
    (cli.sample_main, ["--model", "benvolio", "--rng-seed", "-1"], "rng-seed"),
    (cli.sample_main, ["--model", "benvolio", "--top-k", "0"], "top-k"),
    (cli.sample_main, ["--model", "benvolio", "-n", "-1"], "-n"),
    (cli.sample_main, ["--model", "benvolio", "-n", "lots"], "-n"),
    (cli.sample_main, ["--model", "tybalt"], "tybalt"),
    (cli.eval_main, ["--device", "nonsense"], "device"),
    (cli.eval_main, ["--threads", "-1"], "--threads"),
    (cli.eval_main, ["--threads", "0"], "--threads"),
    (cli.train_main, ["--model", "benvolio", "--threads", "-1"], "--threads"),
    (cli.train_main, ["--model", "benvolio", "--device", "nonsense"], "device"),
    (cli.train_main, ["--model", "benvolio", "--seed", "99999999999999999999"], "seed"),
    (cli.train_main, ["--model", "benvolio", "--max-seconds", "nan"], "max-seconds"),
    (cli.train_main, ["--model", "benvolio", "--lr", "inf"], "lr"),
    (cli.train_main, ["--model", "benvolio", "--bogus"], "--bogus"),
    (cli.train_main, ["--model", "benvolio", "--eval-share", "0"], "--eval-share"),
    (cli.trace_main, [""], "empty"),
    (cli.trace_main, ["\u05d0\u05d1\u05d2"], "none of"),
    (cli.trace_main, ["hi", "--max-chars", "0"], "--max-chars"),
    *[(main, [*argv, "--threads", HUGE], "from 1 to 1,024") for main, argv in
      [(cli.train_main, ["--model", "romeo"]), (cli.sample_main, []), (cli.eval_main, []), (cli.trace_main, ["hi"])]],
    (cli.train_main, ["--model", "mercutio", "--n-hidden", HUGE], "--n-hidden"),
    (cli.train_main, ["--model", "romeo", "--n-embd", HUGE], "--n-embd"),
    (cli.train_main, ["--model", "romeo", "--n-layer", HUGE], "from 1 to 128"),
    (cli.sample_main, ["-n", HUGE], "from 0 to 100,000,000"),
    (cli.train_main, ["--model", "romeo", "--eval-batches", HUGE], "from 1 to 10,000"),
    (cli.train_main, ["--model", "romeo", "--lr", "1e30"], "at most 1"),
    (cli.train_main, ["--model", "romeo", "--weight-decay", "1e30"], "from 0 to 1"),
])
def test_nonsense_values_get_one_line_and_status_2(capsys, tmp_path, monkeypatch, main, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(main, argv, capsys)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and not out
    assert not any(tmp_path.iterdir()), "a refused command left files behind"


@pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("main, argv", [(cli.eval_main, []), (cli.train_main, ["--model", "benvolio"])])
def test_cuda_without_cuda_is_one_line(capsys, main, argv):
    code, _, err = run_cli(main, ["--device", "cuda", *argv], capsys)
    assert code == 2 and "CUDA" in err and len(err.strip().splitlines()) == 1


def test_a_tiny_temperature_is_greedy(capsys):
    greedy = run_cli(cli.sample_main, ["--model", "benvolio", "-n", "40", "--temperature", "0"], capsys)
    tiny = run_cli(cli.sample_main, ["--model", "benvolio", "-n", "40", "--temperature", "1e-45"], capsys)
    assert tiny[0] == 0 and tiny == greedy


def test_a_batch_that_cannot_fit_is_refused_before_allocating(tmp_path, small_text_file, capsys):
    argv = ["--model", "benvolio", "--preset", "tiny", "--data", str(small_text_file), "--out", str(tmp_path / "r"),
            "--batch-size", "100000000", "--max-steps", "1"]
    code, _, err = run_cli(cli.train_main, argv, capsys)
    assert code == 2 and "--batch-size" in err and len(err.strip().splitlines()) == 1, err


def test_trace_never_overwrites_without_force(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trace.npz").write_bytes(b"precious")
    code, _, err = run_cli(cli.trace_main, ["To be"], capsys)
    assert code == 2 and "--force" in err and (tmp_path / "trace.npz").read_bytes() == b"precious"
    code, _, _ = run_cli(cli.trace_main, ["To be", "--force"], capsys)
    assert code == 0 and str(np.load(tmp_path / "trace.npz")["text"]) == "To be"


def test_a_long_trace_is_capped_with_a_notice(tmp_path, capsys):
    out = tmp_path / "t.npz"
    code, _, err = run_cli(cli.trace_main, ["ab " * 40_000, "--out", str(out), "--max-chars", "300"], capsys)
    assert code == 0 and "first 300 of 120,000" in err
    assert np.load(out)["c"].shape[0] == 300


def test_train_out_never_overwrites_a_folder_holding_weights(tmp_path, small_text_file, capsys):
    folder = tmp_path / "mine"
    precious = good_weights(folder / "weights.safetensors")
    before = precious.read_bytes()
    argv = ["--model", "benvolio", "--preset", "tiny", "--data", str(small_text_file), "--out", str(folder),
            "--max-steps", "2", "--seq-len", "16", "--batch-size", "2"]
    code, _, err = run_cli(cli.train_main, argv, capsys)
    assert code == 2 and "weights.safetensors" in err and len(err.strip().splitlines()) == 1
    assert precious.read_bytes() == before and sorted(os.listdir(folder)) == ["weights.safetensors"]


def test_eval_never_prints_or_records_nan(tmp_path, small_text_file, capsys):
    from safetensors.torch import load_file
    from shakes_tui.engine.data.corpus import Vocab

    from tests.conftest import SMALL_TEXT
    from tests.hostile import with_metadata

    good = good_weights(tmp_path / "good.safetensors", "benvolio", Vocab.from_text(SMALL_TEXT))
    tensors = load_file(str(good))
    tensors["head.weight"] = tensors["head.weight"].sign() * 3e38  # finite weights whose logits overflow
    path = with_metadata(good, tmp_path / "overflow.safetensors", tensors=tensors)
    before = path.read_bytes()
    code, out, err = run_cli(cli.eval_main, ["--weights", str(path), "--data", str(small_text_file), "--json",
                                             "--record"], capsys)
    assert code == 2 and "NaN" not in out and "nothing recorded" in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == before


@pytest.mark.parametrize("box, value", [("temperature", "nan"), ("temperature", "inf"), ("temperature", "-1"),
                                        ("rng-seed", "99999999999999999999"), ("top-k", "0")])
async def test_the_apps_boxes_refuse_nonsense_with_one_notice(tmp_path, box, value):
    from textual.widgets import Input
    from textual.worker import WorkerState

    from tests.tui_helpers import make_app, settle

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.query_one(f"#{box}", Input).value = value
        app.query_one("#seed", Input).value = "To be"
        app.query_one("#seed", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        notices = list(app._notifications)
        assert [n.title for n in notices] == ["Cannot generate"], [n.message for n in notices]
        assert not [w for w in app.workers if w.state == WorkerState.ERROR]
