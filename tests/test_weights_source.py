"""Weights you can see and undo: each pane names its weights, live weights rewrite the seed, `b` goes back to
the shipped ones, and the Train tab fine-tunes from them."""

from __future__ import annotations

from pathlib import Path

import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.models import build_model, make_config
from shakes_tui.engine.runs import Checkpoint, Eval, RunDir, Start
from shakes_tui.engine.shipped import SHIPPED_DIR, shipped_path
from shakes_tui.engine.weights import load_weights, save_weights
from shakes_tui.tui.messages import GenerationProgress, TrainingEvents
from shakes_tui.tui.training import TrainingProcess, TrainingSettings
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.widgets import Checkbox

from tests.conftest import SMALL_TEXT
from tests.test_app import submit_seed
from tests.tui_helpers import make_app, settle, until


def run_weights(runs: Path, name: str = "benvolio-test") -> Path:
    """A 'checkpoint' of a tiny Benvolio written into a run folder, with SMALL_TEXT's alphabet."""
    vocab = Vocab.from_text(SMALL_TEXT + "Once")
    torch.manual_seed(0)
    model = build_model("benvolio", make_config("benvolio", len(vocab), "tiny")).eval()
    return save_weights(runs / name / "weights.safetensors", model, vocab)


def finished_texts(seen: list[GenerationProgress], model: str) -> list[tuple[int, str]]:
    return [(m.round_no, m.text) for m in seen if m.model == model and m.done]


async def test_live_weights_are_named_rewrite_the_seed_and_b_brings_back_the_shipped_ones(tmp_path):
    seen: list[GenerationProgress] = []
    app = make_app(tmp_path)
    hook = lambda m: isinstance(m, GenerationProgress) and seen.append(m)  # noqa: E731
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await settle(pilot, app)
        pane = app.query_one("#gen-benvolio", GenerationPane)
        assert "Benvolio · shipped · RNN" in pane.border_title
        await submit_seed(pilot, "Once", length="40")
        await until(pilot, lambda: len(finished_texts(seen, "benvolio")) == 1)
        (first_round, shipped_text), = finished_texts(seen, "benvolio")

        weights = run_weights(tmp_path / "runs")
        app.query_one(TrainingPane).post_message(TrainingEvents("benvolio", [
            Eval(step=20, train_loss=2.0, val_loss=1.8765, sample="x"), Checkpoint(step=20, path=str(weights))]))
        await until(pilot, lambda: len(finished_texts(seen, "benvolio")) == 2)
        assert app.bank.get("benvolio").source == "step 20 · val 1.88 · benvolio-test"
        assert "Benvolio · step 20 · val 1.88 · benvolio-test" in pane.border_title
        assert app.bank.get("benvolio").short_title == "Benvolio · live"  # what a narrow pane shows
        assert app.bank.get("mercutio").short_title == "Mercutio"
        (live_round, live_text) = finished_texts(seen, "benvolio")[1]
        assert live_round > first_round and live_text != shipped_text and pane.seed == "Once"
        assert [m for m in seen if m.model != "benvolio" and m.round_no > live_round] == []  # only its pane

        pane.focus()
        await pilot.press("b")
        await until(pilot, lambda: len(finished_texts(seen, "benvolio")) == 3)
        assert app.bank.get("benvolio").source == "shipped" and "shipped" in pane.border_title
        assert finished_texts(seen, "benvolio")[2][1] == shipped_text  # same seed, same RNG seed, same weights


async def test_back_to_shipped_when_already_shipped_only_says_so(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        said = []
        app.notify = lambda message, **kwargs: said.append(message)
        loaded = app.bank.get("mercutio").loaded
        app.query_one("#gen-mercutio", GenerationPane).focus()
        await pilot.press("b")
        await settle(pilot, app)
        assert said == ["Mercutio already has the shipped weights"] and app.bank.get("mercutio").loaded is loaded


def test_fine_tuning_starts_from_the_shipped_weights_at_a_lower_rate(tmp_path):
    settings = TrainingSettings(runs_dir=tmp_path, preset="quick")  # the Train tab's size on a CPU
    process = TrainingProcess("romeo", tmp_path / "run", settings, fine_tune=True)
    command = process.command(resume=False)
    assert command[command.index("--init") + 1] == "romeo"
    assert command[command.index("--preset") + 1] == "default"  # batches and context as the shipped weights had
    assert float(command[command.index("--lr") + 1]) < 1e-3  # Romeo's usual rate is 1e-3
    assert "--init" not in process.command(resume=True)  # a resumed run continues from its checkpoint


async def test_the_train_tab_fine_tunes_the_shipped_weights(tmp_path):
    shipped = load_weights(shipped_path("benvolio", SHIPPED_DIR))
    text = tmp_path / "same-alphabet.txt"  # SMALL_TEXT plus every other character the shipped model knows
    text.write_text(SMALL_TEXT + "".join(shipped.vocab.chars) + SMALL_TEXT, encoding="utf-8")
    app = make_app(tmp_path, data=text)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        app.query_one("#from-shipped", Checkbox).value = True
        await pilot.click("#start")
        process = app.query_one(TrainingPane).controller.processes["benvolio"]
        await until(pilot, lambda: any(isinstance(e, Start) for e in RunDir(process.run.path).events()), 60)
        start = next(e for e in RunDir(process.run.path).events() if isinstance(e, Start))
        assert start.config["init_from"] == str(shipped_path("benvolio", SHIPPED_DIR))
        assert start.model_config["n_hidden"] == shipped.model.config.n_hidden != 16  # not the tiny preset's size
        assert "fine-tuning the shipped weights" in str(app.query_one("#status").render())
        await app.action_quit()


def test_a_live_source_says_when_its_validation_loss_is_older_than_its_weights():
    from shakes_tui.tui.bank import run_source

    weights = Path("runs/mercutio-1/weights.safetensors")
    assert run_source(weights, 400, 1.8234, 400) == "step 400 · val 1.82 · mercutio-1"
    assert run_source(weights, 84, 4.172, 0) == "step 84 · val 4.17 at step 0 · mercutio-1"  # stopped after step 0
    assert run_source(weights, 20, None) == "step 20 · mercutio-1"
