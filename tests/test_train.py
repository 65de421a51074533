import math
import threading

import pytest
import torch
from shakes_tui.engine.data.corpus import Corpus
from shakes_tui.engine.runs import Eval, Failed, Finished, RunDir, Train, follow
from shakes_tui.engine.training.trainer import DEFAULT_SECONDS, Budget, Trainer, default_config, lr_at, resume_trainer

from tests.conftest import SMALL_TEXT


def tiny_config(model="mercutio", **kw):
    values = {"preset": "tiny", "batch_size": 4, "seq_len": 16, "eval_interval": 5, "eval_batches": 2,
              "log_interval": 1, "max_steps": 20, "warmup_steps": 3, "device": "cpu", "sample_chars": 10,
              "eval_share": 1.0}  # evaluations at the steps asked for: most tests check when they happen
    return default_config(model, **{**values, **kw})


@pytest.fixture
def corpus():
    return Corpus.from_text(SMALL_TEXT)


@pytest.mark.parametrize("model", ["benvolio", "mercutio", "romeo"])
def test_training_writes_events_and_loss_falls(tmp_path, corpus, model):
    trainer = Trainer(tiny_config(model, max_steps=60, lr=1e-2), corpus, RunDir(tmp_path / "run"))
    assert trainer.run() == "finished"
    events = RunDir(tmp_path / "run").events()
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "finished" and "checkpoint" in kinds and "train" in kinds
    evals = [e for e in events if isinstance(e, Eval)]
    assert evals[-1].val_loss < evals[0].val_loss
    assert isinstance(evals[0].sample, str) and len(evals[0].sample) == 10
    assert (tmp_path / "run" / "weights.safetensors").is_file()
    assert (tmp_path / "run" / "best.safetensors").is_file()


@pytest.mark.parametrize("model, dropout, extra", [("mercutio", None, {}), ("romeo", None, {}), ("romeo", 0.2, {}),
                                                  ("benvolio", None, {"reset_prob": 0.5, "ema": 0.9})])
def test_resume_continues_exactly(tmp_path, corpus, model, dropout, extra):
    """With dropout too: the masks come from the generator the checkpoint restores (Romeo's CPU masks included);
    with state resets and a weight average too (Mercutio resets at its default rate)."""
    overrides = dict(extra) if dropout is None else {"model_overrides": {"dropout": dropout}, **extra}
    straight = Trainer(tiny_config(model, **overrides), corpus, RunDir(tmp_path / "a"))
    straight.run()

    def stop_at_10(t):
        if t.step == 10:
            t.request_stop("test")

    first = Trainer(tiny_config(model, **overrides), corpus, RunDir(tmp_path / "b"), on_step=stop_at_10)
    first.run()
    assert first.step == 10
    resume_trainer(RunDir(tmp_path / "b"), corpus).run()

    def losses(path):
        return {e.step: e.loss for e in RunDir(path).events() if isinstance(e, Train)}

    a, b = losses(tmp_path / "a"), losses(tmp_path / "b")
    assert sorted(a) == sorted(b) == list(range(1, 21))
    assert all(math.isclose(a[s], b[s], rel_tol=1e-5) for s in a), (a, b)


def test_nan_loss_stops_with_failed_event_and_keeps_checkpoint(tmp_path, corpus):
    def poison(t):
        if t.step == 6:
            with torch.no_grad():
                t.model.head.weight.fill_(float("nan"))

    trainer = Trainer(tiny_config(checkpoint_interval=5), corpus, RunDir(tmp_path / "run"), on_step=poison)
    assert trainer.run() == "failed"
    events = RunDir(tmp_path / "run").events()
    assert isinstance(events[-1], Failed) and "nan" in events[-1].reason
    ckpt = RunDir(tmp_path / "run").load_checkpoint()
    assert ckpt["step"] == 5 and torch.isfinite(ckpt["model"]["head.weight"]).all()


def test_stop_request_checkpoints_and_finishes(tmp_path, corpus):
    trainer = Trainer(tiny_config(max_steps=10_000), corpus, RunDir(tmp_path / "run"),
                      on_step=lambda t: t.step == 3 and t.request_stop("signal"))
    assert trainer.run() == "finished"
    last = RunDir(tmp_path / "run").events()[-1]
    assert isinstance(last, Finished) and (last.reason, last.step) == ("signal", 3)
    assert RunDir(tmp_path / "run").load_checkpoint()["step"] == 3


def test_time_budget_stops_and_spans_the_schedule(tmp_path, corpus):
    trainer = Trainer(tiny_config(max_steps=None, max_seconds=0.5), corpus, RunDir(tmp_path / "run"))
    trainer.run()
    assert RunDir(tmp_path / "run").events()[-1].reason == "max_seconds"
    # training stops early enough for the final evaluation and checkpoint to fit (their time is estimated
    # from the last ones), so the schedule ends close to, not always past, the budget
    assert trainer.progress() >= 0.8


def test_lr_warms_up_then_decays():
    cfg = default_config("romeo", lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(cfg, 0, 0.0) == pytest.approx(0.1)
    assert lr_at(cfg, 10, 0.0) == pytest.approx(1.0)
    assert lr_at(cfg, 500, 0.5) == pytest.approx(0.55)
    assert lr_at(cfg, 1000, 1.0) == pytest.approx(0.1)


def test_follower_sees_a_run_as_it_happens(tmp_path, corpus):
    seen = []
    watcher = threading.Thread(target=lambda: seen.extend(follow(tmp_path / "run", poll=0.01)))
    watcher.start()
    Trainer(tiny_config(), corpus, RunDir(tmp_path / "run")).run()
    watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert seen == RunDir(tmp_path / "run").events()


def test_evaluates_at_the_start_and_on_a_clock(tmp_path, corpus):
    trainer = Trainer(tiny_config(max_steps=12, eval_interval=1000, eval_seconds=0.0), corpus,
                      RunDir(tmp_path / "run"))
    trainer.run()
    steps = [e.step for e in RunDir(tmp_path / "run").events() if isinstance(e, Eval)]
    assert steps == list(range(13))  # step 0, then every step since the clock allows it, none twice


def test_a_validation_split_shorter_than_the_window_still_gets_an_estimate(tmp_path):
    corpus = Corpus.from_text("abcdefgh" * 40)  # 32 validation characters, windows of 64
    trainer = Trainer(tiny_config("benvolio", seq_len=64, max_steps=2), corpus, RunDir(tmp_path / "run"))
    assert trainer.run() == "finished"
    assert all(math.isfinite(e.val_loss) for e in RunDir(tmp_path / "run").events() if isinstance(e, Eval))


def test_fine_tuning_starts_from_the_given_weights(tmp_path, corpus):
    """--init: step 0 of the new run evaluates exactly the weights it was given."""
    from shakes_tui.engine.evaluate import split_loss
    from shakes_tui.engine.weights import load_weights

    Trainer(tiny_config("mercutio", max_steps=30, lr=1e-2), corpus, RunDir(tmp_path / "a")).run()
    start = tmp_path / "a" / "weights.safetensors"
    tuned = Trainer(tiny_config("mercutio", max_steps=5, init_from=str(start), model_overrides={"dropout": 0.3}),
                    corpus, RunDir(tmp_path / "b"))
    assert tuned.model.config.dropout == 0.3
    fresh = Trainer(tiny_config("mercutio", max_steps=5), corpus, RunDir(tmp_path / "c"))
    given = load_weights(start).model
    with torch.no_grad():
        for name, t in given.state_dict().items():
            assert torch.equal(tuned.model.state_dict()[name], t), name
    assert split_loss(tuned.model.eval(), corpus.val) == pytest.approx(split_loss(given, corpus.val))
    assert split_loss(tuned.model, corpus.val) < split_loss(fresh.model.eval(), corpus.val)
    assert tuned.run() == "finished"
    assert load_weights(tmp_path / "b" / "weights.safetensors").summary["init_from"] == str(start)
    start.unlink()  # a fine-tuned run resumes from its own checkpoint alone
    resumed = resume_trainer(RunDir(tmp_path / "b"), corpus, overrides={"max_steps": 8})
    assert resumed.run() == "finished" and resumed.step == 8 and resumed.model.config.dropout == 0.3


@pytest.mark.parametrize("change, message", [
    ({"model": "benvolio"}, "holds mercutio, not benvolio"),
    ({"model_overrides": {"n_hidden": 32}}, "n_hidden cannot change"),
    ({"text": "only these few letters, none capital"}, "another alphabet"),
])
def test_fine_tuning_refuses_what_cannot_fit(tmp_path, corpus, change, message):
    from shakes_tui.engine.errors import ShakesError

    Trainer(tiny_config("mercutio", max_steps=1), corpus, RunDir(tmp_path / "a")).run()
    text = change.pop("text", None)
    cfg = tiny_config(change.pop("model", "mercutio"), init_from=str(tmp_path / "a" / "weights.safetensors"),
                      **change)
    with pytest.raises(ShakesError, match=message):
        Trainer(cfg, Corpus.from_text(text * 40) if text else corpus, RunDir(tmp_path / "b"))


def test_building_a_trainer_writes_nothing_and_leaves_the_global_rng_alone(tmp_path, corpus):
    torch.manual_seed(99)
    before = torch.get_rng_state()
    trainer = Trainer(tiny_config(max_steps=2), corpus, RunDir(tmp_path / "run"))
    assert torch.equal(torch.get_rng_state(), before)
    assert not (tmp_path / "run").exists()
    again = Trainer(tiny_config(max_steps=2), corpus, RunDir(tmp_path / "other"))
    assert all(torch.equal(a, b) for a, b in zip(trainer.model.parameters(), again.model.parameters(), strict=True))
    assert trainer.run() == "finished" and (tmp_path / "run" / "metrics.jsonl").is_file()


@pytest.mark.parametrize("steps, seconds, step, elapsed, spent, progress", [
    (100, None, 50, 9999.0, None, 0.5),  # a step budget alone: time does not count
    (100, None, 100, 1.0, "max_steps", 1.0),
    (None, 10.0, 7, 5.0, None, 0.5),
    (None, 10.0, 7, 10.0, "max_seconds", 1.0),
    (100, 10.0, 80, 5.0, None, 0.8),  # both: whichever runs out first
    (None, None, 0, DEFAULT_SECONDS, "max_seconds", 1.0),  # neither: the default time
])
def test_the_budget_is_steps_or_seconds_whichever_runs_out_first(steps, seconds, step, elapsed, spent, progress):
    budget = Budget(steps, seconds)
    assert budget.spent(step, elapsed) == spent
    assert budget.progress(step, elapsed) == pytest.approx(progress)


def test_checkpoints_come_by_time_as_well_as_by_steps(tmp_path, corpus, monkeypatch):
    """checkpoint_seconds: a checkpoint (and the weights live panes load) every so many seconds of training,
    whatever the step interval. The trainer's clock advances one second per reading."""
    import types

    import shakes_tui.engine.training.trainer as trainer_module

    clock = iter(range(10**6))
    monkeypatch.setattr(trainer_module, "time", types.SimpleNamespace(perf_counter=lambda: float(next(clock))))

    def checkpoints(name: str, **kw) -> list[int]:
        cfg = tiny_config(max_steps=12, checkpoint_interval=1000, eval_interval=1000, eval_seconds=10**6,
                          max_seconds=10**6, **kw)
        Trainer(cfg, corpus, RunDir(tmp_path / name)).run()
        return [e.step for e in RunDir(tmp_path / name).events() if e.kind == "checkpoint"]

    assert checkpoints("steps") == [12]  # by steps only: the one written at the stop
    timed = checkpoints("timed", checkpoint_seconds=10.0)
    assert len(timed) >= 3 and timed[-1] == 12 and timed == sorted(set(timed))


def test_the_trainer_is_given_the_identity_of_its_text(tmp_path, corpus):
    text = {"data_path": "/somewhere/text.txt", "data_sha256": "ab" * 32}
    trainer = Trainer(tiny_config(max_steps=2), corpus, RunDir(tmp_path / "run"), text=text)
    trainer.run()
    start = RunDir(tmp_path / "run").events()[0]
    assert start.data_path == text["data_path"]
    assert RunDir(tmp_path / "run").load_checkpoint()["data_sha256"] == text["data_sha256"]


def test_a_stopped_runs_checkpoint_keeps_the_schedules_clock_at_its_last_step(tmp_path, corpus, monkeypatch):
    """Stopping costs an evaluation and a checkpoint: that time is not the schedule's, so a resumed run's first
    learning rate follows on from the last before the stop (a time budget's cosine)."""
    import types

    import shakes_tui.engine.training.trainer as trainer_module

    clock = iter(range(10**6))
    monkeypatch.setattr(trainer_module, "time", types.SimpleNamespace(perf_counter=lambda: float(next(clock))))

    def stop_at_5(t):
        if t.step == 5:
            t.request_stop("signal")

    cfg = tiny_config(max_steps=None, max_seconds=1000.0, eval_interval=1000, eval_seconds=10**6)
    Trainer(cfg, corpus, RunDir(tmp_path / "run"), on_step=stop_at_5).run()
    last_train = [e for e in RunDir(tmp_path / "run").events() if isinstance(e, Train)][-1]
    finished = RunDir(tmp_path / "run").events()[-1]
    saved = RunDir(tmp_path / "run").load_checkpoint()["elapsed"]
    assert last_train.step == 5 and saved == last_train.elapsed < finished.elapsed, (last_train, saved, finished)
