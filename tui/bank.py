"""The models the app shows: one slot per family, loaded from shipped weights or a run's checkpoint."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.context import first_family_with
from shakes_tui.engine.models import display_name, get_family
from shakes_tui.engine.shipped import shipped_path
from shakes_tui.engine.weights import LoadedModel, load_weights


def gated_model(names: tuple[str, ...]) -> str | None:
    """The model whose gates the Gates tab shows: the first one that has gates."""
    return first_family_with("has_gates", names)


@dataclass
class Slot:
    name: str
    loaded: LoadedModel | None = None
    error: str | None = None
    source: str = ""  # "shipped", or which run, step and validation loss (run_source)

    @property
    def title(self) -> str:
        """Where the weights come from first: it is what changes (and what the pane must not hide)."""
        if self.loaded is None:
            return f"{get_family(self.name).display_name} · {self.size}"
        return f"{get_family(self.name).display_name} · {self.source} · {self.size}"

    @property
    def size(self) -> str:
        """What the model is and, once loaded, its parameter count: 'RNN 0.43M'."""
        role = get_family(self.name).short_role
        return role if self.loaded is None else f"{role} {self.loaded.model.num_params() / 1e6:.2f}M"

    @property
    def short_title(self) -> str:
        """For a pane too narrow for the title: the name, and whether the weights are not the shipped ones."""
        live = self.loaded is not None and self.source != "shipped"
        return display_name(self.name) + (" · live" if live else "")


def run_source(weights: Path, step: int, val_loss: float | None, val_step: int | None = None) -> str:
    """How a pane names weights from a training run: 'step 400 · val 1.82 · mercutio-20261129-101500', or
    'step 84 · val 4.17 at step 0 · …' when the validation loss is older than the weights."""
    val = "" if val_loss is None else f" · val {val_loss:.2f}"
    val += "" if val_loss is None or val_step in (None, step) else f" at step {val_step}"
    return f"step {step}{val} · {Path(weights).parent.name}"


class ModelBank:
    """Thread-safe: a worker may swap a slot while a generation thread holds the old model."""

    def __init__(self, weights_dir: Path, names: tuple[str, ...]) -> None:
        self.weights_dir, self.names = Path(weights_dir), names
        self._slots = {name: Slot(name) for name in names}
        self._lock = threading.Lock()

    def load_shipped(self) -> None:
        for name in self.names:
            self.load(name, shipped_path(name, self.weights_dir), "shipped")

    def load(self, name: str, path: Path, source: str) -> Slot:
        try:
            loaded = load_weights(path)
            if loaded.family != name:
                raise ShakesError(f"{path} holds {loaded.family}, not {name}")
            slot = Slot(name, loaded, None, source)
        except ShakesError as exc:
            slot = Slot(name, None, str(exc), source)
        with self._lock:
            if slot.loaded is not None or self._slots[name].loaded is None:
                self._slots[name] = slot
        return slot

    def get(self, name: str) -> Slot:
        with self._lock:
            return self._slots[name]
