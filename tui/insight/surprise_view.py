"""Surprise: the text once per model, each character on the colour of what it cost that model; under the cursor,
what each model expected there instead."""

from __future__ import annotations

from rich.text import Text
from shakes_tui.engine import figures
from shakes_tui.engine.inspect.surprise import Surprise
from shakes_tui.engine.models import display_name, get_family
from shakes_tui.tui.palette import SURPRISE_TOP, append_on, colour, shown, surprise_colour
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static


class SurpriseView(Vertical, can_focus=True):
    DEFAULT_CSS = """
    SurpriseView { height: 1fr; }
    SurpriseView .surprise-text { height: 1fr; border: round $panel; padding: 0 1; overflow-y: auto; }
    SurpriseView:focus-within .surprise-text { border: round $accent; }
    SurpriseView #guesses { height: auto; max-height: 4; padding: 0 1; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "◀", show=False), Binding("right", "move(1)", "▶", show=False),
        Binding("home", "move(-100000)", show=False), Binding("end", "move(100000)", show=False),
    ]
    cursor = reactive(1)

    def __init__(self, names: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.names = names
        self.results: dict[str, Surprise] = {}
        self.errors: dict[str, str] = {}
        self.sources: dict[str, str] = {}  # whose weights each result is from: "shipped", or a run's step

    def compose(self) -> ComposeResult:
        for name in self.names:
            block = Static("waiting for the models…", id=f"surprise-{name}", classes="surprise-text")
            block.border_title = title(name)
            yield block
        yield Static("", id="guesses")

    def show(self, results: dict[str, Surprise], errors: dict[str, str], sources: dict[str, str] | None = None) -> None:
        self.results, self.errors, self.sources = results, errors, sources or {}
        longest = max((len(s.text) for s in results.values()), default=2)
        self.cursor = min(max(self.cursor, 1), longest - 1)
        self.redraw()

    def figure(self) -> figures.Figure | None:
        """What x exports: the surprise of every model measured, as drawn."""
        if not self.results:
            return None
        labels = {m: f"{display_name(m)} ({self.sources.get(m, 'shipped')})" for m in self.results}
        return figures.surprise(self.results, labels)

    def action_move(self, by: int) -> None:
        longest = max((len(s.text) for s in self.results.values()), default=2)
        self.cursor = min(max(self.cursor + by, 1), longest - 1)

    def watch_cursor(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()  # the guesses fit the width

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        for name in self.names:
            block = self.query_one(f"#surprise-{name}", Static)
            s = self.results.get(name)
            if s is None:
                block.update(self.errors.get(name, "waiting for the models…"))
                continue
            source = f" · {self.sources[name]}" if name in self.sources else ""
            block.border_title = f"{title(name)} · mean {s.mean:.3f} nats/char over {len(s.loss)} chars{source}"
            block.update(coloured_text(s, self.cursor))
        self.query_one("#guesses", Static).update(self.guesses())

    def guesses(self) -> Text:
        """A line per model: the character under the cursor, its cost, and as many of the model's top-5 guesses
        as the width holds (a line never wraps, so that narrow, every model's line still shows)."""
        out = Text()
        width = max(self.size.width - 2, 30)  # the padding
        for name, s in self.results.items():
            j = self.cursor - 1  # the prediction for character `cursor` was made after reading text[:cursor]
            if not 0 <= j < len(s.loss):
                continue
            line = f" {shown(s.text[self.cursor])!r} cost {s.loss[j]:.2f}  expected"
            for c, p in s.top[j]:
                guess = f"  {shown(c)!r} {p:.0%}"
                if 9 + len(line) + len(guess) > width:
                    break
                line += guess
            out.append(f"{display_name(name):<9}", style=f"bold {colour(name)}")
            out.append(line + "\n")
        out.append(f"colour: 0 to {SURPRISE_TOP:.0f}+ nats · ◀ ▶ move the cursor", style="dim")
        return out


def title(name: str) -> str:
    return f"{display_name(name)} · {get_family(name).short_role}"


def coloured_text(s: Surprise, cursor: int) -> Text:
    out = Text()
    for t, ch in enumerate(s.text):
        bg = surprise_colour(s.loss[t - 1]) if t > 0 else None
        append_on(out, ch, bg, reverse=t == cursor, bold=t == cursor)
    return out
