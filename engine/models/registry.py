"""The registry of model families: each family is described once, here, by one ``Family`` entry.

A family brings its model class and config class, its name and role for people, named presets (each a model
size plus the training settings that go with it) and its training defaults. Everything else asks the
registry or the model (``max_context()``, ``has_gates``, ``is_recurrent``), never a family's name.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models.base import CharModel


@dataclass(frozen=True)
class Preset:
    model: dict = field(default_factory=dict)  # config values, e.g. {"n_hidden": 16}
    train: dict = field(default_factory=dict)  # training settings this size needs, e.g. {"seq_len": 32}


@dataclass(frozen=True)
class Family:
    name: str  # lower case, as on the command line and in weights files
    model_cls: type[CharModel]
    config_cls: type
    role: str  # e.g. "vanilla RNN"
    short_role: str  # e.g. "RNN", for narrow titles
    train_defaults: dict = field(default_factory=dict)  # TrainConfig values for this family
    presets: dict[str, Preset] = field(default_factory=lambda: {"default": Preset()})
    display_name: str = ""  # its name for people, e.g. "Benvolio" (default: the name, capitalised)
    architecture: str = ""  # e.g. "Transformer", as the app's subtitle names it (default: short_role)

    def __post_init__(self) -> None:
        object.__setattr__(self, "display_name", self.display_name or self.name.capitalize())
        object.__setattr__(self, "architecture", self.architecture or self.short_role)

    def preset(self, name: str) -> Preset:
        if name not in self.presets:
            raise ShakesError(f"unknown preset {name!r} for {self.name}: choose one of {', '.join(self.presets)}")
        return self.presets[name]

    def make_config(self, vocab_size: int, preset: str = "default", **overrides):
        fields = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = set(overrides) - fields
        if unknown:
            raise ShakesError(f"{self.name} has no setting {', '.join(sorted(unknown))}")
        values = {**self.preset(preset).model, **{k: v for k, v in overrides.items() if v is not None}}
        return self.config_cls(vocab_size=vocab_size, **values)


_FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    if family.model_cls.family != family.name:
        raise ValueError(f"{family.model_cls.__name__}.family is {family.model_cls.family!r}, not {family.name!r}")
    _FAMILIES[family.name] = family
    return family


def unregister(name: str) -> None:
    _FAMILIES.pop(name, None)


@contextlib.contextmanager
def registered(family: Family) -> Iterator[Family]:
    """Register a family for the duration of a block (tests, experiments)."""
    register(family)
    try:
        yield family
    finally:
        unregister(family.name)


def family_names() -> tuple[str, ...]:
    return tuple(_FAMILIES)


def display_name(name: str) -> str:
    """A family's name for people ("Benvolio"); a name that is not registered, as it is."""
    return _FAMILIES[name].display_name if name in _FAMILIES else name


def get_family(name: str) -> Family:
    if name not in _FAMILIES:
        raise ShakesError(f"unknown model {name!r}: choose one of {', '.join(_FAMILIES)}")
    return _FAMILIES[name]
