"""torchrun data parallel: two CPU processes (gloo) train exactly as one process on the same global batch."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from shakes_tui.engine.data.corpus import Corpus
from shakes_tui.engine.runs import Eval, RunDir, Start, Train
from shakes_tui.engine.training.trainer import Trainer, resume_trainer

from tests.conftest import SMALL_TEXT
from tests.test_train import tiny_config

ROOT = Path(__file__).resolve().parents[1]


def torchrun(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "shakes_tui.engine", "train", "--data", str(tmp_path / "small.txt"), "--device", "cpu",
               "--threads", "1", "--quiet", *argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)


def single_process(tmp_path: Path, model: str, name: str) -> RunDir:
    """The same run in this one process: 10 steps, then resumed to 20 (dropout 0: the batches are the only
    randomness, and the two processes split each global batch between them)."""
    corpus = Corpus.from_text(SMALL_TEXT)
    config = tiny_config(model, max_steps=10, batch_size=4, model_overrides={"dropout": 0.0},
                         log_interval=10, eval_share=1.0)  # as the command line logs and evaluates
    Trainer(config, corpus, RunDir(tmp_path / name)).run()
    resume_trainer(RunDir(tmp_path / name), corpus, overrides={"max_steps": 20}).run()
    return RunDir(tmp_path / name)


def losses(run: RunDir, kind: type, field: str) -> dict[int, float]:
    return {e.step: getattr(e, field) for e in run.events() if isinstance(e, kind)}


@pytest.mark.parametrize("model", ["romeo", "mercutio"])
def test_two_gloo_processes_train_as_one_on_the_same_global_batch_and_resume(tmp_path, model):
    (tmp_path / "small.txt").write_text(SMALL_TEXT, encoding="utf-8")
    flags = ["--model", model, "--preset", "tiny", "--batch-size", "4", "--seq-len", "16", "--dropout", "0",
             "--eval-interval", "5", "--eval-batches", "2", "--eval-share", "1", "--warmup-steps", "3",
             "--out", "ddp"]
    first = torchrun(tmp_path, *flags, "--max-steps", "10")
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = torchrun(tmp_path, "--resume", "ddp", "--max-steps", "20")
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    ddp, one = RunDir(tmp_path / "ddp"), single_process(tmp_path, model, "one")
    events = ddp.events()
    starts = [e for e in events if isinstance(e, Start)]
    assert [e.world_size for e in starts] == [2, 2]  # the first run and the resumed one
    steps = [e.step for e in events if isinstance(e, Train)]
    assert steps == sorted(set(steps)), "a step was written twice: only rank 0 may write"
    a, b = losses(ddp, Train, "loss"), losses(one, Train, "loss")
    assert sorted(a) == sorted(b) == [10, 20]  # each the mean of ten steps' global-batch losses
    assert all(math.isclose(a[s], b[s], rel_tol=1e-4, abs_tol=1e-4) for s in a), (a, b)
    va, vb = losses(ddp, Eval, "val_loss"), losses(one, Eval, "val_loss")
    assert va.keys() == vb.keys() and all(math.isclose(va[s], vb[s], abs_tol=1e-3) for s in va), (va, vb)


def test_the_global_batch_must_divide_among_the_processes(tmp_path):
    (tmp_path / "small.txt").write_text(SMALL_TEXT, encoding="utf-8")
    result = torchrun(tmp_path, "--model", "romeo", "--preset", "tiny", "--batch-size", "3", "--seq-len", "16",
                      "--max-steps", "2", "--out", "odd")
    assert result.returncode != 0 and "must divide among 2 processes" in result.stderr
