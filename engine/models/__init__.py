"""The three model families behind one interface, and their named presets.

    forward(idx, targets=None, state=None) -> (logits, loss, state)
"""

from __future__ import annotations

import dataclasses

from engine.errors import ShakesError
from engine.models.base import CharModel
from engine.models.lstm import Mercutio, MercutioConfig
from engine.models.rnn import Benvolio, BenvolioConfig
from engine.models.transformer import Romeo, RomeoConfig

FAMILIES: dict[str, tuple[type[CharModel], type]] = {
    "benvolio": (Benvolio, BenvolioConfig),
    "mercutio": (Mercutio, MercutioConfig),
    "romeo": (Romeo, RomeoConfig),
}

ROLES = {
    "benvolio": "vanilla RNN",
    "mercutio": "LSTM",
    "romeo": "Transformer",
}

# Named sizes. "default" is what ships; "tiny" is for tests and quick smoke runs.
PRESETS: dict[str, dict[str, dict]] = {
    "benvolio": {"default": {}, "tiny": {"n_embd": 8, "n_hidden": 16, "n_layer": 2, "dropout": 0.0}},
    "mercutio": {"default": {}, "tiny": {"n_embd": 8, "n_hidden": 16, "n_layer": 2, "dropout": 0.0}},
    "romeo": {"default": {}, "tiny": {"n_embd": 16, "n_head": 2, "n_layer": 2, "block_size": 32, "dropout": 0.0}},
}


def check_family(name: str) -> str:
    if name not in FAMILIES:
        raise ShakesError(f"unknown model {name!r}: choose one of {', '.join(FAMILIES)}")
    return name


def make_config(family: str, vocab_size: int, preset: str = "default", **overrides):
    check_family(family)
    if preset not in PRESETS[family]:
        raise ShakesError(f"unknown preset {preset!r} for {family}: choose one of {', '.join(PRESETS[family])}")
    config_cls = FAMILIES[family][1]
    fields = {f.name for f in dataclasses.fields(config_cls)}
    unknown = set(overrides) - fields
    if unknown:
        raise ShakesError(f"{family} has no setting {', '.join(sorted(unknown))}")
    values = {**PRESETS[family][preset], **{k: v for k, v in overrides.items() if v is not None}}
    config = config_cls(vocab_size=vocab_size, **values)
    if family == "romeo" and config.n_embd % config.n_head:
        raise ShakesError(f"romeo's n_embd ({config.n_embd}) must be a multiple of n_head ({config.n_head})")
    return config


def build_model(family: str, config) -> CharModel:
    return FAMILIES[check_family(family)][0](config)


def config_from_dict(family: str, values: dict):
    return FAMILIES[check_family(family)][1](**values)


__all__ = ["FAMILIES", "PRESETS", "ROLES", "CharModel", "build_model", "config_from_dict", "make_config"]
