"""The rules that keep evaluations within their share of a run and a run within its time budget."""

import time

import pytest
import torch
from shakes_tui.engine.data.corpus import Corpus
from shakes_tui.engine.runs import Eval, Finished, RunDir, Train
from shakes_tui.engine.training.pacing import EvalPacing
from shakes_tui.engine.training.trainer import Budget, Trainer, default_config

from tests.conftest import SMALL_TEXT


def test_an_evaluation_waits_until_it_fits_in_its_share():
    pacing = EvalPacing(share=0.1)
    pacing.record_eval(1.0)  # the first evaluation took 1 s
    assert not pacing.allows(elapsed=10.0)  # 2 s of 11 would be 18 %
    assert pacing.allows(elapsed=19.0)  # 2 s of 20 is 10 %


def test_a_time_budget_keeps_room_for_the_final_evaluation():
    pacing = EvalPacing(share=0.1, budget_s=100.0)
    pacing.record_eval(3.0)
    pacing.record_eval(3.0)
    assert pacing.spent == 6.0
    assert not pacing.allows(elapsed=90.0)  # a third and the final one would make 12 s of 100


def test_training_stops_early_enough_for_the_last_evaluation_and_checkpoint():
    pacing = EvalPacing(budget_s=120.0)
    pacing.record_eval(4.0)
    pacing.last_checkpoint = 1.0
    budget = Budget(max_seconds=120.0)
    assert budget.spent(10, 114.9, reserve=pacing.reserve()) is None
    assert budget.spent(10, 115.0, reserve=pacing.reserve()) == "max_seconds"
    assert Budget(max_steps=100).spent(10, 1e9, reserve=pacing.reserve()) is None  # no time budget: steps decide


def test_one_evaluation_may_take_a_quarter_of_the_share():
    assert EvalPacing(share=0.1, budget_s=120.0).eval_time_cap() == 3.0
    assert EvalPacing().eval_time_cap() is None


def test_pacing_survives_a_checkpoint_and_old_checkpoints_start_from_zero():
    pacing = EvalPacing()
    pacing.record_eval(2.5)
    restored = EvalPacing()
    restored.load_state_dict(pacing.state_dict())
    assert (restored.spent, restored.last_cost) == (2.5, 2.5)
    restored.load_state_dict({})
    assert (restored.spent, restored.last_cost) == (0.0, 0.0)


def test_a_step_budget_decays_from_the_end_of_the_warm_up():
    budget = Budget(max_steps=1100, warmup_steps=100)
    assert budget.progress(100, 0.0) == 0.0  # the cosine starts where the warm-up ends, as nanoGPT's does
    assert budget.progress(600, 0.0) == pytest.approx(0.5)
    assert budget.progress(1100, 0.0) == 1.0


def test_the_run_clock_counts_evaluations_and_they_keep_to_their_share(tmp_path):
    corpus = Corpus.from_text(SMALL_TEXT)
    cfg = default_config("mercutio", preset="tiny", batch_size=4, seq_len=16, eval_interval=1, eval_seconds=0.0,
                         eval_batches=4, log_interval=1, max_seconds=3.0, warmup_steps=3, device="cpu",
                         sample_chars=10, eval_share=0.1)
    started = time.perf_counter()
    assert Trainer(cfg, corpus, RunDir(tmp_path / "run")).run() == "finished"
    wall = time.perf_counter() - started
    events = RunDir(tmp_path / "run").events()
    evals = [e for e in events if isinstance(e, Eval)]
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.reason == "max_seconds"
    assert finished.eval_seconds == pytest.approx(sum(e.seconds for e in evals), abs=0.05)
    assert all(e.elapsed >= e.seconds - 0.01 for e in evals)  # each evaluation's time is in the run's elapsed time
    # the clock is the whole run's (events round elapsed to 0.01 s, so allow the half-hundredth rounding adds)
    assert finished.elapsed <= wall + 0.005 and finished.elapsed >= 3.0 * 0.8
    assert finished.elapsed < 3.0 + 2.0  # the final evaluation and checkpoint fit (about) within the budget
    # asked for an evaluation at every step, the run paced them to about a tenth of its time
    first = evals[0].seconds
    assert finished.eval_seconds - first - evals[-1].seconds <= 0.15 * finished.elapsed + 0.1  # (slack: a shared CPU)
    trains = [e for e in events if isinstance(e, Train)]
    assert len(evals) < len(trains)


def test_a_share_of_1_evaluates_at_every_interval_asked(tmp_path):
    corpus = Corpus.from_text(SMALL_TEXT)
    cfg = default_config("benvolio", preset="tiny", batch_size=4, seq_len=16, eval_interval=2, eval_batches=2,
                         max_steps=8, device="cpu", sample_chars=10, eval_share=1.0)
    assert Trainer(cfg, corpus, RunDir(tmp_path / "run")).run() == "finished"
    assert [e.step for e in RunDir(tmp_path / "run").events() if isinstance(e, Eval)] == [0, 2, 4, 6, 8]


@pytest.mark.parametrize("model", ["benvolio", "mercutio", "romeo"])
def test_each_model_has_a_quick_preset_that_builds_and_trains(tmp_path, model):
    cfg = default_config(model, preset="quick", max_steps=2, eval_batches=1, device="cpu", sample_chars=5)
    assert cfg.seq_len == 64 and cfg.batch_size in (16, 32)
    corpus = Corpus.from_text(SMALL_TEXT * 4)
    trainer = Trainer(cfg, corpus, RunDir(tmp_path / "run"))
    assert trainer.run() == "finished"
    config = trainer.model.config
    assert config.dropout == 0.0
    assert (config.n_layer, getattr(config, "n_embd", None) if model == "romeo" else config.n_hidden) == {
        "benvolio": (1, 256), "mercutio": (1, 384), "romeo": (2, 128)}[model]
    assert model != "romeo" or config.rope  # rotary positions: they won the two-minute runs (model card)


def test_the_train_tab_defaults_to_quick_on_a_cpu(monkeypatch):
    from shakes_tui.tui.training import TrainingSettings

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert TrainingSettings().preset == "quick"
    assert TrainingSettings(preset="tiny").preset == "tiny"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert TrainingSettings().preset == "default"
