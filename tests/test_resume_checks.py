"""A resume continues the same run on the same text, or says why not, in one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shakes_tui.engine import cli

from tests.test_cli import run_cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--preset", "tiny", "--seq-len", "16", "--batch-size", "4", "--eval-batches", "2", "--device", "cpu",
        "--threads", "1"]
LOWER = "the quick brown fox jumps over the lazy dog while we write our own small text\n" * 60
UPPER = LOWER.upper()


def lines(run: Path) -> list[dict]:
    """The run's events as plain JSON objects (torn or damaged lines skipped)."""
    out = []
    for line in (run / "metrics.jsonl").read_bytes().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


@pytest.fixture
def lower_run(tmp_path, capsys):
    text = tmp_path / "lower.txt"
    text.write_text(LOWER)
    run = tmp_path / "run"
    code, _, err = run_cli(cli.train_main, ["--model", "benvolio", "--data", str(text), "--out", str(run),
                                            "--max-steps", "4", *TINY], capsys)
    assert code == 0, err
    return run, text


def resume(run: Path, capsys, *extra: str):
    return run_cli(cli.train_main, ["--resume", str(run), "--max-steps", "6", *extra], capsys)


def test_resume_reads_the_runs_own_text_without_data(lower_run, capsys):
    run, text = lower_run
    code, _, err = resume(run, capsys)  # no --data, no SHAKES_DATA, an empty cache: the recorded text
    assert code == 0, err
    starts = [e for e in lines(run) if e["type"] == "start"]
    assert len(starts) == 2 and starts[-1]["step"] == 4


def test_resume_accepts_the_same_text_elsewhere(lower_run, tmp_path, capsys):
    run, text = lower_run
    moved = tmp_path / "elsewhere" / "copy.txt"
    moved.parent.mkdir()
    shutil.move(text, moved)
    code, _, err = resume(run, capsys)
    assert code == 2 and "is gone" in err and len(err.strip().splitlines()) == 1
    code, _, err = resume(run, capsys, "--data", str(moved))
    assert code == 0, err


@pytest.mark.parametrize("change", ["edited", "other-text"])
def test_resume_refuses_another_text(lower_run, tmp_path, capsys, change):
    run, text = lower_run
    before = (run / "checkpoint.pt").read_bytes()
    if change == "edited":
        text.write_text(LOWER.replace("fox", "cat"))  # the same alphabet size, another text
        code, _, err = resume(run, capsys)
        assert "has changed" in err
    else:
        other = tmp_path / "upper.txt"
        other.write_text(UPPER)  # as many characters, another alphabet: once silently accepted
        code, _, err = resume(run, capsys, "--data", str(other))
        assert "not the text this run was trained on" in err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert (run / "checkpoint.pt").read_bytes() == before


def test_resume_refuses_another_alphabet_even_without_a_recorded_text(lower_run, tmp_path, capsys):
    """Runs from before texts were recorded: the vocabulary itself is compared, not only its size."""
    import torch

    run, _ = lower_run
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    for key in ("data_path", "data_sha256"):
        ckpt.pop(key, None)
    torch.save(ckpt, run / "checkpoint.pt")
    other = tmp_path / "upper.txt"
    other.write_text(UPPER)
    before = (run / "weights.safetensors").read_bytes()
    code, _, err = resume(run, capsys, "--data", str(other))
    assert code == 2 and "alphabet" in err and len(err.strip().splitlines()) == 1, err
    assert (run / "weights.safetensors").read_bytes() == before


def test_resume_with_another_model_is_refused(lower_run, capsys):
    run, _ = lower_run
    code, _, err = resume(run, capsys, "--model", "romeo")
    assert code == 2 and "benvolio" in err and "romeo" in err and len(err.strip().splitlines()) == 1


def test_a_torn_last_line_does_not_swallow_the_resumes_start(lower_run, capsys):
    run, _ = lower_run
    with open(run / "metrics.jsonl", "ab") as f:
        f.write(b'{"time": 1, "type": "train", "step": 9, "lo')  # a line cut by a crash
    code, _, err = resume(run, capsys)
    assert code == 0, err
    starts = [e for e in lines(run) if e["type"] == "start"]
    assert len(starts) == 2 and starts[-1]["step"] == 4


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_request_is_honoured_during_a_long_evaluation(tmp_path, small_text_file, sig):
    run = tmp_path / "run"
    argv = ["--model", "benvolio", "--data", str(small_text_file), "--out", str(run), "--max-steps", "50", *TINY,
            "--eval-batches", "10000", "--quiet"]  # the most allowed, after TINY, whose --eval-batches 2 it overrides
    process = subprocess.Popen([sys.executable, "-m", "shakes_tui.engine", "train", *argv], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(e["type"] == "start" for e in _maybe_lines(run)):
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the first evaluation's ten thousand batches
    process.send_signal(sig)
    try:
        code = process.wait(timeout=30)
    finally:
        process.kill()
    assert code == 0, process.stderr.read().decode()
    assert lines(run)[-1]["type"] == "finished" and lines(run)[-1]["reason"] == "signal"
    assert (run / "checkpoint.pt").is_file()


def _maybe_lines(run: Path) -> list[dict]:
    return lines(run) if (run / "metrics.jsonl").exists() else []


def test_the_checkpoint_keeps_the_text_identity(lower_run):
    import torch

    run, text = lower_run
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    start = next(e for e in lines(run) if e["type"] == "start")
    assert ckpt["data_path"] == start["data_path"] == str(text.resolve())
    assert ckpt["data_sha256"] == start["data_sha256"] and len(ckpt["data_sha256"]) == 64
    assert os.path.getsize(text) > 0
