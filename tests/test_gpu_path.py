"""The GPU path: bf16 and fp16 weights, weights moving between devices, --compile, and bench/gpu.sh."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from shakes_tui.bench.gpu_report import chars_per_second, time_to_target
from shakes_tui.engine import devices
from shakes_tui.engine.data.corpus import Corpus, Vocab
from shakes_tui.engine.models import build_model, make_config
from shakes_tui.engine.runs import Eval, RunDir, Start, Train
from shakes_tui.engine.training.trainer import Trainer
from shakes_tui.engine.weights import load_weights, save_weights

from tests.conftest import SMALL_TEXT
from tests.test_train import tiny_config

ROOT = Path(__file__).resolve().parents[1]
VOCAB = Vocab("abcdefghijklmnopqrst")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


@pytest.mark.parametrize("family", ["benvolio", "mercutio", "romeo"])
def test_bf16_stored_weights_load_as_float32_on_the_cpu(tmp_path, family):
    torch.manual_seed(0)
    model = build_model(family, make_config(family, 20, "tiny")).eval()
    loaded = load_weights(save_weights(tmp_path / "m.safetensors", model, VOCAB, dtype="bfloat16"), device="cpu")
    params = list(loaded.model.parameters())
    assert {p.dtype for p in params} == {torch.float32} and {p.device.type for p in params} == {"cpu"}
    idx = torch.randint(20, (2, 12))
    with torch.no_grad():
        assert torch.allclose(model(idx)[0], loaded.model(idx)[0], atol=5e-2)


@needs_cuda
@pytest.mark.parametrize("model", ["mercutio", "romeo"])
def test_weights_trained_on_a_gpu_load_on_the_cpu_and_back(tmp_path, model):
    corpus = Corpus.from_text(SMALL_TEXT)
    trainer = Trainer(tiny_config(model, device="cuda", max_steps=5), corpus, RunDir(tmp_path / "run"))
    assert trainer.run() == "finished"
    on_cpu = load_weights(trainer.run_dir.weights_path, device="cpu")
    on_gpu = load_weights(trainer.run_dir.weights_path, device="cuda")
    back = load_weights(save_weights(tmp_path / "from-cpu.safetensors", on_cpu.model, on_cpu.vocab), device="cuda")
    idx = torch.randint(len(corpus.vocab), (2, 16))
    with torch.no_grad():
        cpu_logits = on_cpu.model(idx)[0]
        assert torch.allclose(cpu_logits, on_gpu.model(idx.cuda())[0].cpu(), atol=1e-3)
        assert torch.equal(on_gpu.model(idx.cuda())[0], back.model(idx.cuda())[0])


def test_compile_falls_back_to_eager_off_cuda_and_trains_the_same(tmp_path):
    corpus = Corpus.from_text(SMALL_TEXT)
    plain = Trainer(tiny_config("romeo", max_steps=6), corpus, RunDir(tmp_path / "plain"))
    asked = Trainer(tiny_config("romeo", max_steps=6, compile=True), corpus, RunDir(tmp_path / "asked"))
    assert asked.train_forward is asked.model and "CUDA" in asked.compile_note
    plain.run(), asked.run()

    def losses(run):
        return [e.loss for e in run.events() if isinstance(e, Train)]

    assert losses(asked.run_dir) == losses(plain.run_dir)
    start = asked.run_dir.events()[0]
    assert isinstance(start, Start) and start.compiled is False


def test_compile_says_what_is_missing_on_cuda(monkeypatch):
    cuda = torch.device("cuda")
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: None)
    assert "Triton" in devices.compile_unavailable(cuda)
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(devices.shutil, "which", lambda name: None)
    assert "C compiler" in devices.compile_unavailable(cuda)
    monkeypatch.setattr(devices.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert devices.compile_unavailable(cuda) is None


def test_gpu_bench_reads_speed_and_time_to_target_from_a_run(tmp_path):
    corpus = Corpus.from_text(SMALL_TEXT)
    Trainer(tiny_config("romeo", max_steps=40, lr=1e-2), corpus, RunDir(tmp_path / "run")).run()
    run = RunDir(tmp_path / "run")
    evals = [e for e in run.events() if isinstance(e, Eval)]
    assert chars_per_second(run) > 0
    reached = time_to_target(run, evals[-1].val_loss)
    first = next(e for e in evals if e.val_loss <= evals[-1].val_loss)
    assert reached["step"] == first.step and reached["wall_s"] >= 0 and reached["train_s"] >= 0
    assert time_to_target(run, min(e.val_loss for e in evals) - 0.01) is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: bench/gpu.sh would run for minutes")
def test_gpu_bench_says_clearly_that_there_is_no_cuda():
    result = subprocess.run(["bash", str(ROOT / "bench" / "gpu.sh")], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 2 and "no CUDA GPU here" in result.stderr and "nothing was measured" in result.stderr
