"""The family registry: a family is described once, and a new one needs no change anywhere else."""

import json
import math
from dataclasses import dataclass

import pytest
import torch
from shakes_tui.engine import cli
from shakes_tui.engine.data.corpus import Corpus
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.evaluate import split_loss
from shakes_tui.engine.generation.sampling import SampleSettings, sample_text
from shakes_tui.engine.models import Family, Preset, build_model, family_names, get_family, make_config, registered
from shakes_tui.engine.models.recurrent import RecurrentCharModel, RecurrentConfig
from shakes_tui.engine.runs import Eval, RunDir
from shakes_tui.engine.training.trainer import Trainer, default_config, resume_trainer
from shakes_tui.engine.weights import load_weights
from shakes_tui.tui.palette import FAMILY_COLOURS, colour
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from textual.color import Color
from textual.widgets import Select
from torch import nn

from tests.conftest import SMALL_TEXT
from tests.test_cli import run_cli
from tests.tui_helpers import make_app, settle


@dataclass
class GruConfig(RecurrentConfig):
    n_hidden: int = 24
    n_layer: int = 1


class Gru(RecurrentCharModel):
    """A throwaway fourth family: a GRU, written in a few lines on the shared recurrent body."""

    family = "gru"
    module_type = nn.GRU

    def step(self, x: torch.Tensor, state: torch.Tensor):
        out, state = self.rnn(x[:, None], state)
        return out[:, 0], state


GRU = Family("gru", Gru, GruConfig, role="gated recurrent unit", short_role="GRU", display_name="Gregory",
             train_defaults={"batch_size": 4, "seq_len": 16, "lr": 1e-2},
             presets={"default": Preset(), "tiny": Preset(model={"n_embd": 8, "n_hidden": 12})})


def test_a_family_registered_in_a_test_trains_samples_and_evaluates(tmp_path, small_text_file, capsys):
    corpus = Corpus.from_text(SMALL_TEXT)
    with registered(GRU):
        assert "gru" in family_names()
        cfg = default_config("gru", max_steps=40, eval_interval=10, eval_batches=2, log_interval=5, device="cpu",
                             sample_chars=12)
        assert (cfg.batch_size, cfg.seq_len, cfg.lr) == (4, 16, 1e-2)  # the entry's training defaults
        trainer = Trainer(cfg, corpus, RunDir(tmp_path / "run"))
        assert trainer.run() == "finished"
        evals = [e for e in RunDir(tmp_path / "run").events() if isinstance(e, Eval)]
        assert evals[-1].val_loss < evals[0].val_loss and len(evals[-1].sample) == 12
        resumed = resume_trainer(RunDir(tmp_path / "run"), corpus, overrides={"max_steps": 45})
        assert resumed.run() == "finished" and resumed.step == 45

        loaded = load_weights(tmp_path / "run" / "weights.safetensors")  # built through the registry
        assert isinstance(loaded.model, Gru) and loaded.family == "gru"
        text = sample_text(loaded.model, loaded.vocab, "WARDEN:\n", 30, SampleSettings(rng_seed=3))
        assert len(text) == 30 and text == sample_text(loaded.model, loaded.vocab, "WARDEN:\n", 30,
                                                       SampleSettings(rng_seed=3))
        loss = split_loss(loaded.model, corpus.val)
        assert math.isfinite(loss) and loss < math.log(len(corpus.vocab))

        code, out, _ = run_cli(cli.eval_main, ["--weights", str(tmp_path / "run" / "weights.safetensors"),
                                               "--data", str(small_text_file), "--json"], capsys)
        assert code == 0 and json.loads(out)[str(tmp_path / "run" / "weights.safetensors")]["family"] == "gru"
        code, _, err = run_cli(cli.train_main, ["--model", "gru", "--preset", "tiny", "--data", str(small_text_file),
                                                "--out", str(tmp_path / "cli"), "--max-steps", "3", "--device",
                                                "cpu"], capsys)
        assert code == 0 and "finished at step 3" in err
        assert load_weights(tmp_path / "cli" / "weights.safetensors").model.config.n_hidden == 12
    assert "gru" not in family_names()
    with pytest.raises(ShakesError, match="unknown model 'gru'"):
        get_family("gru")


def test_capabilities_are_asked_of_the_model():
    models = {name: build_model(name, make_config(name, 65, "tiny")) for name in ("benvolio", "mercutio", "romeo")}
    assert [m.max_context() for m in models.values()] == [None, None, 32]
    assert [m.has_gates for m in models.values()] == [False, True, False]
    assert [m.is_recurrent for m in models.values()] == [True, True, False]


def test_a_preset_brings_the_training_settings_it_needs(tmp_path, small_text_file, capsys):
    """Romeo's tiny preset has a block of 32: its windows shrink with it (no --seq-len needed)."""
    assert default_config("romeo", preset="tiny").seq_len == 32
    assert default_config("romeo", preset="tiny", seq_len=16).seq_len == 16  # an explicit setting wins
    code, _, err = run_cli(cli.train_main, ["--model", "romeo", "--preset", "tiny", "--data", str(small_text_file),
                                            "--out", str(tmp_path / "run"), "--max-steps", "2", "--device", "cpu"],
                           capsys)
    assert code == 0 and "finished at step 2" in err


def test_a_window_longer_than_the_context_is_refused_before_anything_is_written(tmp_path):
    cfg = default_config("romeo", preset="tiny", seq_len=64, device="cpu")
    with pytest.raises(ShakesError, match="--seq-len 64 is longer than romeo's context of 32"):
        Trainer(cfg, Corpus.from_text(SMALL_TEXT), RunDir(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


async def test_a_fourth_family_shows_in_the_app_with_its_name_and_a_colour_of_its_own(tmp_path):
    """One registry entry: the app's panes, header, Train tab and colours follow (no shipped weights: it says so)."""
    with registered(GRU):
        app = make_app(tmp_path)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot, app)
            pane = app.query_one("#gen-gru", GenerationPane)
            assert pane.border_title.startswith("Gregory · GRU")
            assert app.sub_title == "Benvolio (RNN) · Mercutio (LSTM) · Romeo (Transformer) · Gregory (GRU)"
            assert ("Gregory", "gru") in [(str(label), value) for label, value in
                                         app.query_one("#model-select", Select)._options]
            colours = [app.query_one(f"#gen-{name}", GenerationPane).styles.border_title_color for name in app.names]
            assert colours[-1] == Color.parse(colour("gru")) and len(set(colours)) == 4
            assert [colour(name) for name in app.names] == list(FAMILY_COLOURS[:4])  # in registry order
    assert colour("gru") == FAMILY_COLOURS[3]  # a name not registered: the next place's colour
