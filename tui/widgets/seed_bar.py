"""Seed entry: the text to continue, and the sampling controls."""

from __future__ import annotations

from dataclasses import dataclass

from shakes_tui.engine.generation.sampling import DEFAULT_TEMPERATURE, RNG_SEED, TEMPERATURE, TOP_K, SampleSettings
from shakes_tui.engine.numbers import Number
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label

DEFAULT_SEED = "ROMEO:\n"
PLACEHOLDER = DEFAULT_SEED.replace("\n", "\\n") + "   (the seed: type your own; \\n for a new line)"
MAX_LENGTH = 5000
LENGTH = Number(int, lambda v: 1 <= v <= MAX_LENGTH, f"from 1 to {MAX_LENGTH}")
NARROW = 68  # columns: below this the settings row packs closer, and "rng seed" is called "rng"


class SeedInput(Input):
    """The seed box. Empty, it shows the default seed as its placeholder (the first keystroke replaces it, and
    Enter continues the default). A ? that would replace the whole seed (an empty box, or all of it selected, as
    F1 leaves it) is not typed: it reaches the app, whose ? opens the help; anywhere else in a seed it is typed."""

    def replaces_all(self) -> bool:
        selection = self.selection
        return not self.value or {selection.start, selection.end} == {0, len(self.value)}

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if character == "?" and self.replaces_all():
            return False  # the footer shows the app's "? Help" then
        return super().check_consume_key(key, character)

    def _on_key(self, event: events.Key) -> None:
        if event.character == "?" and self.replaces_all():
            event.prevent_default()  # Input's handler (Textual calls each class's in turn) would type it

    def _on_input_changed(self) -> None:
        self.refresh_bindings()  # the footer's "? Help" comes and goes with what a ? would do


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
            yield SeedInput("", placeholder=PLACEHOLDER, id="seed")
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
        """The seed typed, \\n read as a new line; the default seed while the box is empty."""
        return self.query_one("#seed", Input).value.replace("\\n", "\n") or DEFAULT_SEED

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
