"""Training when writes fail: a clear line, a `failed` event where one can be written, the last
checkpoint intact; and run folders that cannot be made."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from shakes_tui.engine import cli

from tests.test_cli import run_cli
from tests.test_resume_checks import ROOT, TINY, lines


@pytest.fixture
def run(tmp_path, small_text_file, capsys) -> Path:
    path = tmp_path / "run"
    code, _, err = run_cli(cli.train_main, ["--model", "mercutio", "--data", str(small_text_file), "--out",
                                            str(path), "--max-steps", "4", *TINY], capsys)
    assert code == 0, err
    return path


def error_lines(stderr: str) -> list[str]:
    """The error lines of a trainer's stderr (its first line says what it trains and where); no traceback."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.strip().splitlines() if "error" in line]


def resume_in_child(run: Path, steps: int, **popen) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "shakes_tui.engine",
            "train", "--resume", str(run), "--max-steps", str(steps), "--quiet",
            "--threads", "1", "--data", str(run.parent / "small.txt")]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180, **popen)


@pytest.mark.parametrize("name", ["checkpoint.pt", "weights.safetensors", "best.safetensors", "metrics.jsonl"])
def test_a_folder_where_a_file_should_go_is_refused_before_training(run, name):
    target = run / name
    target.unlink()
    target.mkdir()
    kept = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    result = resume_in_child(run, 8)
    message = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(message) == 1 and name in message[0], result.stderr
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == kept


@pytest.mark.parametrize("name", ["checkpoint.pt", "weights.safetensors", "best.safetensors"])
def test_a_folder_appearing_during_training_fails_the_run_clearly(run, name):
    argv = [sys.executable, "-m", "shakes_tui.engine",
            "train", "--resume", str(run), "--max-steps", "100000", "--quiet",
            "--threads", "1", "--checkpoint-interval", "5", "--eval-interval", "5", "--data",
            str(run.parent / "small.txt")]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len([e for e in lines(run) if e["type"] == "start"]) < 2:
        time.sleep(0.02)
    while time.monotonic() < deadline:
        try:
            (run / name).unlink(missing_ok=True)
            (run / name).mkdir()
            break
        except FileExistsError:  # the trainer wrote it again in between
            continue
    try:
        code = process.wait(timeout=120)
    finally:
        process.kill()
    message = error_lines(process.stderr.read())
    assert code != 0 and len(message) == 1 and name in message[0], message
    assert lines(run)[-1]["type"] == "failed" and name in lines(run)[-1]["reason"]
    if name != "checkpoint.pt":
        torch.load(run / "checkpoint.pt", weights_only=True)  # the last checkpoint stays loadable


def test_a_file_size_limit_fails_clearly_and_keeps_the_last_checkpoint(run):
    before = (run / "checkpoint.pt").read_bytes()
    limit = (run / "metrics.jsonl").stat().st_size + 8_000  # room for events, none for weights or a checkpoint
    assert limit < len(before)

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = resume_in_child(run, 30, preexec_fn=small_files)
    assert result.returncode not in (0, -25), result.stderr  # -25: killed by SIGXFSZ
    assert len(error_lines(result.stderr)) == 1, result.stderr
    assert (run / "checkpoint.pt").read_bytes() == before
    assert lines(run)[-1]["type"] == "failed"
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")], "a temporary file was left behind"


def test_deleting_the_run_folder_while_training_ends_the_trainer_clearly(tmp_path, small_text_file):
    run = tmp_path / "run"
    argv = [sys.executable, "-m", "shakes_tui.engine",
            "train", "--model", "benvolio", "--data", str(small_text_file), "--out",
            str(run), "--max-steps", "100000", "--quiet", *TINY]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (run / "checkpoint.pt").exists():
        time.sleep(0.05)
    shutil.rmtree(run)
    try:
        code = process.wait(timeout=60)
    finally:
        process.kill()
    err = error_lines(process.stderr.read())
    assert code != 0 and len(err) == 1 and "metrics.jsonl" in err[0], err


@pytest.mark.parametrize("out", ["/proc/shakes-run", "FILE/run"])
def test_an_out_that_cannot_be_a_folder_is_one_line(tmp_path, small_text_file, capsys, out):
    (tmp_path / "FILE").write_text("not a folder")
    out = out.replace("FILE", str(tmp_path / "FILE"))
    code, _, err = run_cli(cli.train_main, ["--model", "benvolio", "--data", str(small_text_file), "--out", out,
                                            "--max-steps", "2", *TINY], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_shakes_tui_refuses_a_file_as_runs_dir(tmp_path):
    (tmp_path / "FILE").write_text("x")
    result = subprocess.run([sys.executable, "-c", "from shakes_tui.tui.cli import main; main()", "--runs-dir",
                             str(tmp_path / "FILE")], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr

