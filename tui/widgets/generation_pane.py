"""One model's continuation, streaming in as it is generated."""

from __future__ import annotations

import time

from rich.text import Text
from shakes_tui.engine.inspect.copying import Copying
from shakes_tui.engine.models import display_name, family_names, get_family
from shakes_tui.tui.bank import Slot
from shakes_tui.tui.palette import colour
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

RATE_SECONDS = 1.0  # how often the streaming rate under a pane is written again
BORDER = 6  # columns of a pane's border line that its title or subtitle cannot use: corners, dashes, spaces
SOURCE_AT_LEAST = 18  # columns for "Mercutio · shipped": in fewer, a title is the model (and "live") alone


class GenerationPane(VerticalScroll):
    DEFAULT_CSS = """
    GenerationPane {
        border: round $panel; width: 1fr; height: 1fr; padding: 0 1;
        scrollbar-gutter: stable; scrollbar-size-vertical: 1;
    }
    GenerationPane:focus-within, GenerationPane:focus { border: round $accent; }
    GenerationPane .body { width: 1fr; }
    """
    can_focus = True
    BINDINGS = [Binding("b", "back_to_shipped", "back to shipped weights")]

    def __init__(self, name: str) -> None:
        super().__init__(id=f"gen-{name}")
        self.model_name = name
        self.seed = ""
        self.text = ""
        self.slot: Slot | None = None
        self.copying: Copying | None = None  # after a generation: how much of it was found in the training text
        self.progress: tuple[int, float, bool] | None = None  # characters, rate, done: what the subtitle says
        self._rate_shown_at = -RATE_SECONDS  # when the streaming rate was last written in the border
        self._lines_shown: int | None = None  # lines of the streaming tail on screen, None when not streaming

    def compose(self) -> ComposeResult:
        yield Static(classes="body")

    def on_mount(self) -> None:
        self.styles.border_title_color = colour(self.model_name)
        self.show_title()
        self.show_message("loading weights…")

    @property
    def room(self) -> int:
        """Columns of the border line that its title or subtitle can use."""
        return self.outer_size.width - BORDER

    def on_resize(self) -> None:
        self.show_title()
        if self.progress is not None:
            self.show_progress()

    def show_title(self) -> None:
        if self.slot is None:
            self.border_title = display_name(self.model_name)
        else:
            self.border_title = pane_title(self.slot, self.copying, self.room)

    def show_progress(self) -> None:
        self.border_subtitle = progress_text(*self.progress, self.room)

    def set_slot(self, slot: Slot) -> None:
        self.slot, self.copying, self.progress, self.tooltip = slot, None, None, None
        self.show_title()
        if slot.loaded is None:
            self.border_subtitle = "no weights"
            self.show_message(f"No weights: {slot.error}\n\nTrain it in the Train tab (F2).")
        elif not self.text:
            self.border_subtitle = slot.source
            self.show_message("Type a seed above and press Enter. (Esc, then ?: help)")

    def action_back_to_shipped(self) -> None:
        self.app.action_back_to_shipped(self.model_name)

    def show_message(self, message: str) -> None:
        self.query_one(".body", Static).update(Text(message, style="italic dim"))

    def start(self, seed: str) -> None:
        self.seed, self.text, self.copying, self.progress, self.tooltip = seed, "", None, None, None
        self.show_title()
        self.border_subtitle = "streaming…"
        self._rate_shown_at = -RATE_SECONDS
        self._render_text()

    def update_text(self, text: str, chars_per_s: float, done: bool) -> None:
        self.text = text
        now = time.monotonic()
        if done or now - self._rate_shown_at >= RATE_SECONDS:  # a rate redrawn each frame repaints the border
            self.progress = (len(text), chars_per_s, done)
            self.show_progress()
            self._rate_shown_at = now
        self._render_text(tail_lines=None if done else max(self.scrollable_content_region.height, 1))
        if done:  # the streaming tail fits the pane: only the whole text has an end to scroll to
            self.call_after_refresh(self.scroll_end, animate=False)  # once it is laid out

    def show_copying(self, copying: Copying) -> None:
        """After a generation: does the model write or recite? (its longest stretch found in the training text)"""
        self.copying = copying
        self.tooltip = explained(copying)
        self.show_title()

    def _render_text(self, tail_lines: int | None = None) -> None:
        """The seed (dim) and the continuation. While streaming, only the last lines that fit are drawn,
        wrapped here: once they fill the pane the body keeps its height, so a redraw repaints this pane's
        text and nothing else (no layout of the screen), and costs the same at the 5,000th character as
        at the 50th."""
        seed, text = self.seed, self.text
        if tail_lines is not None:
            cut = tail_start(seed + text, tail_lines)
            seed, text = seed[cut:], text[max(cut - len(seed), 0):]
        body = Text(seed, style="dim")
        body.append(text, style=colour(self.model_name))
        static = self.query_one(".body", Static)
        width = self.scrollable_content_region.width
        if tail_lines is None or width <= 0:
            self._lines_shown = None
            static.update(body)
            return
        lines = Content.from_rich_text(body).wrap(width)[-tail_lines:]
        static.update(Content("\n").join(lines), layout=len(lines) != self._lines_shown)
        self._lines_shown = len(lines)


def told(copying: Copying) -> tuple[str, str]:
    """A copying check in a title: its longer and its shorter form."""
    short = f" · copied {copying.longest}"
    return (short if copying.share is None else f"{short} · {copying.share:.0%} of 8-grams"), short


def explained(copying: Copying) -> str:
    """A copying check in words, for the pane's tooltip (a narrow title has room for the first figure only)."""
    grams = "" if copying.share is None else f"; {copying.share:.0%} of its 8-character windows occur there"
    return (f"Copied {copying.longest}: the longest stretch of this generation also found in the training text "
            f"is {copying.longest} characters{grams}. A model that recites its training text scores high here.")


def pane_title(slot: Slot, copying: Copying | None, room: int) -> str:
    """The first title, in order of preference, that fits ``room`` columns: the model, where its weights come
    from, what it is and its size (said to be the parameter count where there is room); after a generation, how
    much it copied too, and in place of the size where both do not fit. The copied figure shrinks first, then
    the source (to "live", or to nothing for the shipped weights), so that panes side by side read alike; a live
    run's source stays rather than the figure. Where nothing fits, the border cuts the end of the model and its
    source (never a figure)."""
    name = display_name(slot.name)
    if slot.loaded is None or room < SOURCE_AT_LEAST:
        return slot.short_title if room < len(slot.title) else slot.title
    head = f"{name} · {slot.source}"
    sized = [f"{head} · {slot.size} params", slot.title]
    alike = room - widest_gap(slot.name)  # a form fits if it would with the longest name and role: panes read alike
    if copying is None:
        return first_that_fits([*sized], alike) if len(sized[1]) <= alike else head
    long, short = told(copying)
    both = [f"{sized[0]}{long}", f"{sized[1]}{long}", f"{sized[0]}{short}", f"{sized[1]}{short}"]
    forms = [f"{title}{figure}" for title in (head, slot.short_title) for figure in (long, short)]
    return next((form for form in both if len(form) <= alike), None) or first_that_fits([*forms, head], room)


def widest_gap(name: str) -> int:
    """How many columns shorter this family's name and role are than the longest ones (Romeo's 'GPT' beside
    Mercutio's 'LSTM'): a title with the size or its label is chosen as if it had them."""
    names, roles = family_names(), [get_family(n).short_role for n in family_names()]
    return (max(map(len, names)) - len(name)) + (max(map(len, roles)) - len(get_family(name).short_role))


def first_that_fits(forms: list[str], room: int) -> str:
    """The first of ``forms`` (in order of preference) that fits ``room`` columns, else the last."""
    return next((form for form in forms if len(form) <= room), forms[-1])


def progress_text(chars: int, chars_per_s: float, done: bool, room: int) -> str:
    """A stream's state and rate under its pane, the longest form that fits ``room`` columns."""
    rate = f"{chars_per_s:,.0f} ch/s"
    if not done:
        forms = [f"streaming · {rate}", rate]
    else:
        forms = [f"done · {rate} · {chars} char{'' if chars == 1 else 's'}", f"done · {rate}", f"done {rate}"]
    return first_that_fits(forms, room)


def tail_start(s: str, lines: int, max_chars: int = 4000) -> int:
    """Index where the last `lines` lines of s begin (and at most max_chars from the end)."""
    i = len(s)
    for _ in range(lines):
        i = s.rfind("\n", 0, i)
        if i < 0:
            return max(0, len(s) - max_chars)
    return max(i + 1, len(s) - max_chars)
