"""Seed entry: the text to continue, and the sampling controls."""

from __future__ import annotations

from dataclasses import dataclass

from shakes_tui.engine.generation.sampling import DEFAULT_TEMPERATURE, RNG_SEED, TEMPERATURE, TOP_K, SampleSettings
from shakes_tui.engine.numbers import Number
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label

DEFAULT_SEED = "ROMEO:\n"
MAX_LENGTH = 5000
LENGTH = Number(int, lambda v: 1 <= v <= MAX_LENGTH, f"from 1 to {MAX_LENGTH}")
NARROW = 68  # columns: below this the settings row packs closer, and "rng seed" is called "rng"


class SeedBar(Widget):
    DEFAULT_CSS = """
    SeedBar { height: auto; }
    SeedBar #seed { width: 1fr; }
    SeedBar Horizontal { height: auto; }
    SeedBar Label { padding: 0 1 0 2; }
    SeedBar .num { width: 8; padding: 0 1; }
    SeedBar .num:focus { background: $accent 40%; text-style: bold; }
    SeedBar Button { min-width: 12; }
    SeedBar.-narrow Label { padding: 0 1; }
    """

    vocab_size: int | None = None  # set by the app once the models are loaded

    @dataclass
    class Submitted(Message):
        seed: str
        settings: SampleSettings
        length: int

    @dataclass
    class Invalid(Message):
        reason: str

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Input(DEFAULT_SEED.replace("\n", "\\n"), placeholder="seed text (\\n for a new line)", id="seed")
            yield Button("Generate", id="generate", variant="primary")
        with Horizontal():
            yield Label("temp")
            yield Input(f"{DEFAULT_TEMPERATURE:g}", id="temperature", classes="num", compact=True, tooltip="0 = greedy")
            yield Label("top-k")
            yield Input("", placeholder="all", id="top-k", classes="num", compact=True)
            yield Label("length")
            yield Input("300", id="length", classes="num", compact=True)
            yield Label("rng seed", id="rng-label")
            yield Input("", placeholder="random", id="rng-seed", classes="num", compact=True)

    def on_resize(self, event) -> None:
        narrow = event.size.width < NARROW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self.query_one("#rng-label", Label).update("rng" if narrow else "rng seed")

    @property
    def seed_text(self) -> str:
        return self.query_one("#seed", Input).value.replace("\\n", "\n")

    @on(Input.Submitted)
    @on(Button.Pressed, "#generate")
    def submit(self, event: Message) -> None:
        event.stop()
        try:
            settings, length = self.read_settings()
        except ValueError as exc:
            self.post_message(self.Invalid(str(exc)))
            return
        self.post_message(self.Submitted(self.seed_text, settings, length))

    def read_settings(self) -> tuple[SampleSettings, int]:
        temperature = _number(self, "temperature", TEMPERATURE, "temperature")
        top_k = self._capped_top_k(_number(self, "top-k", TOP_K, "top-k", optional=True))
        length = _number(self, "length", LENGTH, "length")
        rng_seed = _number(self, "rng-seed", RNG_SEED, "rng seed", optional=True)
        return SampleSettings(temperature, top_k, rng_seed), length

    def _capped_top_k(self, top_k: int | None) -> int | None:
        """More than the vocabulary means all of it: say so, and show the cap in the field."""
        if top_k is None or not self.vocab_size or top_k <= self.vocab_size:
            return top_k
        self.notify(f"top-k {top_k} is more than the {self.vocab_size} characters the models know: "
                    f"using {self.vocab_size}, which is all of them", severity="warning")
        self.query_one("#top-k", Input).value = str(self.vocab_size)
        return self.vocab_size


def _number(bar: SeedBar, widget_id: str, number: Number, label: str, optional: bool = False):
    """A box's number (BadNumber, a ValueError, names the box when there is none), or None for an empty optional one."""
    raw = bar.query_one(f"#{widget_id}", Input).value.strip()
    if not raw and optional:
        return None
    return number.parse(raw, label)
