"""Two texts compared, the memory experiment: text A and text B differ in one place (by default the seed and the seed
with one early word replaced; both editable), and each model's curve says how much its prediction still moves (KL)
as it reads on along the ending they share."""

from __future__ import annotations

from rich.text import Text
from shakes_tui.engine import figures
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.compare import FAR, Comparison, one_word_replaced
from shakes_tui.engine.models import display_name
from shakes_tui.tui.insight.span_view import SpanChart
from shakes_tui.tui.palette import colour
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

NEAR = (1, 8)  # characters after the difference, in the summary with FAR


def shown(text: str) -> str:
    return text.replace("\n", "\\n")


def read(value: str) -> str:
    return value.replace("\\n", "\n")


class CompareView(Vertical):
    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView #compare-texts { height: 1; margin: 1 0 0 0; }
    CompareView #compare-texts Input { width: 1fr; }
    CompareView #compare-texts Label { text-style: bold; }
    CompareView #compare-summary { height: auto; padding: 0 1; }
    """
    SHOWS = "comparison"

    class Edited(Message):
        """A person changed text A or B (Enter in its box): measure again."""

    def __init__(self, names: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.names = names
        self.text_a, self.text_b = "", ""
        self.measured_on = ""  # the Insight text A was last set from (a person's edits stand until it changes)
        self.results: dict[str, Comparison] = {}
        self.errors: dict[str, str] = {}
        self.problem = ""  # why there is nothing to compare (texts that end differently, no word to replace)

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare-texts"):
            yield Label(" A ")
            yield Input(placeholder="text A", id="compare-a", compact=True,
                        tooltip="text A (\\n for a new line; Enter measures)")
            yield Label(" B ")
            yield Input(placeholder="text B, ending as A does", id="compare-b", compact=True,
                        tooltip="text B: A with one place changed (\\n for a new line; Enter measures)")
        yield SpanChart("how much the prediction still moves, KL between A and B (log)", "KL", True,
                        x_label="characters after the difference", id="compare-chart")
        yield Static("", id="compare-summary")

    def follow(self, text: str) -> None:
        """The Insight text: a new one becomes A, against itself with one early word replaced; the same one again
        keeps the texts a person edited."""
        if text != self.measured_on:
            self.measured_on = text
            self.set_texts(text)

    def set_texts(self, text_a: str, text_b: str | None = None) -> None:
        """Text A, and B (by default A with one early word replaced); the boxes show them."""
        self.text_a, self.problem = text_a, ""
        if text_b is None:
            try:
                text_b = one_word_replaced(text_a)
            except ShakesError as exc:
                text_b, self.problem = text_a, str(exc)
        self.text_b = text_b
        self.results, self.errors = {}, {}
        if self.is_mounted:
            self.query_one("#compare-a", Input).value = shown(text_a)
            self.query_one("#compare-b", Input).value = shown(text_b)
            self.redraw()

    @on(Input.Submitted)
    def edited(self, event: Input.Submitted) -> None:
        event.stop()
        self.text_a = read(self.query_one("#compare-a", Input).value)
        self.text_b = read(self.query_one("#compare-b", Input).value)
        self.problem, self.results, self.errors = "", {}, {}
        self.redraw()
        self.post_message(self.Edited())

    def show(self, text_a: str, text_b: str, results: dict[str, Comparison], errors: dict[str, str]) -> None:
        if (text_a, text_b) != (self.text_a, self.text_b):
            return  # measured on texts since replaced
        self.results, self.errors = results, errors
        self.redraw()

    def figure(self, sources: dict[str, str]) -> figures.Figure | None:
        """What x exports: every model's comparison, as drawn (None: nothing measured yet)."""
        if not self.results:
            return None
        return figures.compare(self.results, {m: f"{display_name(m)} ({sources.get(m, 'shipped')})"
                                              for m in self.results})

    def show_unavailable(self, words: str) -> None:
        self.problem = words
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#compare-chart", SpanChart).draw(
            {n: (list(c.distance), c.kl) for n, c in self.results.items() if len(c.kl)})
        self.query_one("#compare-summary", Static).update(self.summary())

    def summary(self) -> Text:
        out = Text()
        if self.problem:
            return Text(self.problem)
        first = next(iter(self.results.values()), None)
        if first is not None:
            room = max(self.size.width - 32, 10)
            ending = shown(first.shared)
            out.append(f"shared after the difference: {ending if len(ending) <= room else ending[:room - 1] + '…'}\n",
                       style="dim")
        width = max(len(display_name(n)) for n in self.names) + 1
        narrow = self.size.width < 100
        for name in self.names:
            out.append(display_name(name).ljust(width), style=f"bold {colour(name)}")
            c = self.results.get(name)
            if c is None:
                out.append(f"{self.errors.get(name, 'measuring…')}\n")
                continue
            at = [d for d in (*NEAR, FAR) if c.kl_at(d) is not None]
            kls = ", ".join(f"{c.kl_at(d):.1e}" for d in at)
            losses = "" if narrow else f" · mean loss A {c.loss_a.mean():.3f}, B {c.loss_b.mean():.3f}"
            out.append(f"KL at {', '.join(map(str, at))} {'after' if narrow else 'characters after'}: {kls}{losses}\n")
        return out
