"""Hostile checkpoints: `shakes-train --resume` refuses each with one line and never runs a pickle's code."""

from __future__ import annotations

import pytest
import torch
from shakes_tui.engine import cli
from shakes_tui.engine.runs import RunDir

from tests.hostile import hostile_checkpoints
from tests.test_cli import run_cli

TINY = ["--preset", "tiny", "--seq-len", "16", "--batch-size", "4", "--eval-batches", "2", "--device", "cpu"]
KINDS = ["truncated", "random-bytes", "not-a-zip", "pickle", "torch-pickle", "zip-without-data", "only-step",
         "wrong-shape", "nan-weights", "step-not-a-number", "wrong-vocab-size", "oversized-config"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_text):
    run = tmp_path_factory.mktemp("run") / "r"
    with pytest.raises(SystemExit):
        cli.train_main(["--model", "mercutio", "--data", str(small_text), "--out", str(run), "--max-steps", "3",
                        *TINY])
    return RunDir(run)


@pytest.fixture(scope="module")
def small_text(tmp_path_factory):
    from tests.conftest import SMALL_TEXT

    path = tmp_path_factory.mktemp("text") / "small.txt"
    path.write_text(SMALL_TEXT)
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_resume_refuses_a_hostile_checkpoint_with_one_line(trained, small_text, kind, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    good = torch.load(trained.checkpoint_path, weights_only=True)
    content = hostile_checkpoints(marker, good)[kind]
    run = RunDir(tmp_path / "run").create()
    run.metrics_path.write_bytes(trained.metrics_path.read_bytes())
    if isinstance(content, bytes):
        run.checkpoint_path.write_bytes(content)
    else:
        torch.save(content, run.checkpoint_path)
    before = run.checkpoint_path.read_bytes()
    code, _, err = run_cli(cli.train_main, ["--resume", str(run.path), "--data", str(small_text), "--max-steps", "5"],
                           capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "checkpoint" in err, err
    assert "weights_only" not in err and "Traceback" not in err
    assert not marker.exists(), "a pickle in a checkpoint was executed"
    assert run.checkpoint_path.read_bytes() == before and not run.weights_path.exists()
