"""The model families behind one interface, each described once in the registry.

    forward(idx, targets=None, state=None) -> (logits, loss, state)

A new family is one model module and one ``register(Family(...))`` entry (here, or from any code).
"""

from __future__ import annotations

from shakes_tui.engine.models.base import CharModel
from shakes_tui.engine.models.lstm import Mercutio, MercutioConfig
from shakes_tui.engine.models.registry import (
    Family,
    Preset,
    display_name,
    family_names,
    get_family,
    register,
    registered,
    unregister,
)
from shakes_tui.engine.models.rnn import Benvolio, BenvolioConfig
from shakes_tui.engine.models.transformer import Romeo, RomeoConfig

SAMPLED_BY_DEFAULT = "romeo"  # shakes-sample's model when none is named: the shipped one that writes best
RESET_PROB = 0.1  # recurrent models: a stream starts again from the learned initial state in 1 batch of 10
TINY_RECURRENT = Preset(model={"n_embd": 8, "n_hidden": 16, "n_layer": 2, "dropout": 0.0})

# Training defaults chosen to train well on a 2-core CPU and to scale to a GPU.
# "default" is the size that ships; "tiny" is for tests and smoke runs; "quick" learns in two minutes on a
# 2-core CPU (shakes-train --preset quick --max-seconds 120: the Train tab's default on a CPU). The quick sizes
# were measured in 120-s runs on this project's machine (full-validation loss in the model card).
register(Family("benvolio", Benvolio, BenvolioConfig, role="vanilla RNN", short_role="RNN",
                train_defaults={"batch_size": 32, "seq_len": 128, "lr": 2e-3, "weight_decay": 0.0,
                                "reset_prob": RESET_PROB},
                presets={"default": Preset(), "tiny": TINY_RECURRENT,
                         "quick": Preset(model={"n_hidden": 256, "n_layer": 1, "dropout": 0.0},
                                         train={"batch_size": 32, "seq_len": 64, "lr": 2e-3})}))
register(Family("mercutio", Mercutio, MercutioConfig, role="LSTM", short_role="LSTM",
                train_defaults={"batch_size": 32, "seq_len": 128, "lr": 2e-3, "weight_decay": 0.1,
                                "reset_prob": RESET_PROB},
                presets={"default": Preset(), "tiny": TINY_RECURRENT,
                         "quick": Preset(model={"n_hidden": 384, "n_layer": 1, "dropout": 0.0},
                                         train={"batch_size": 32, "seq_len": 64, "lr": 4e-3})}))
register(Family("romeo", Romeo, RomeoConfig, role="Transformer", short_role="GPT", architecture="Transformer",
                train_defaults={"batch_size": 32, "seq_len": 256, "lr": 1e-3, "weight_decay": 0.1},
                presets={"default": Preset(),
                         "tiny": Preset(model={"n_embd": 16, "n_head": 2, "n_layer": 2, "block_size": 32,
                                               "dropout": 0.0}, train={"seq_len": 32}),
                         "quick": Preset(model={"n_embd": 128, "n_head": 4, "n_layer": 2, "block_size": 64,
                                                "dropout": 0.0, "rope": True},
                                         train={"batch_size": 16, "seq_len": 64, "lr": 4e-3, "warmup_steps": 100})}))


def make_config(family: str, vocab_size: int, preset: str = "default", **overrides):
    return get_family(family).make_config(vocab_size, preset, **overrides)


def build_model(family: str, config) -> CharModel:
    return get_family(family).model_cls(config)


def config_from_dict(family: str, values: dict):
    return get_family(family).config_cls(**values)


__all__ = ["SAMPLED_BY_DEFAULT", "CharModel", "Family", "Preset", "build_model", "config_from_dict", "display_name",
           "family_names", "get_family", "make_config", "register", "registered", "unregister"]
