"""Attention (Romeo's): a heatmap of queries (rows) against the keys they may see (columns), one layer and head at
a time; below it, the text coloured by where the query under the cursor looks."""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text
from shakes_tui.engine import figures
from shakes_tui.engine.inspect.attention import Attention
from shakes_tui.engine.models import display_name
from shakes_tui.tui.palette import append_on, shown, text_colour, weight_colour
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

LABEL = 2  # columns for the row label (the query's character)


class AttentionMap(Widget, can_focus=True):
    """Rows: the queries around the cursor; columns: the keys up to the last row shown."""

    DEFAULT_CSS = """
    AttentionMap { height: 1fr; border: round $panel; }
    AttentionMap:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "query ▲", show=False), Binding("down", "move(1)", "query ▼", show=False),
        Binding("left", "move(-1)", show=False), Binding("right", "move(1)", show=False),
        Binding("home", "move(-100000)", show=False), Binding("end", "move(100000)", show=False),
        Binding("l", "layer(1)", "layer"), Binding("h", "head(1)", "head"),
        Binding("L", "layer(-1)", show=False), Binding("H", "head(-1)", show=False),
    ]
    cursor, layer_no, head_no = reactive(0), reactive(0), reactive(0)

    def __init__(self, model: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = model  # whose attention is drawn (None: no model has attention)
        self.attention: Attention | None = None
        self.unavailable = ""  # why there is nothing to draw, once known

    def set_attention(self, attention: Attention) -> None:
        self.attention = attention
        self.cursor = min(self.cursor, len(attention.text) - 1) if self.cursor else len(attention.text) - 1
        self.layer_no = min(self.layer_no, attention.weights.shape[0] - 1)
        self.head_no = min(self.head_no, attention.weights.shape[1] - 1)
        self.refresh()

    def action_move(self, by: int) -> None:
        if self.attention is not None:
            self.cursor = int(np.clip(self.cursor + by, 0, len(self.attention.text) - 1))

    def action_layer(self, by: int) -> None:
        if self.attention is not None:
            self.layer_no = (self.layer_no + by) % self.attention.weights.shape[0]

    def action_head(self, by: int) -> None:
        if self.attention is not None:
            self.head_no = (self.head_no + by) % self.attention.weights.shape[1]

    def weights(self) -> np.ndarray:
        return self.attention.weights[self.layer_no, self.head_no]

    def render(self) -> Text:
        if self.attention is None:
            if self.unavailable or not self.model:
                return Text(self.unavailable or "no model has attention")
            return Text(f"waiting for {display_name(self.model)}…")
        self.border_title = f"layer {self.layer_no + 1}/{self.attention.weights.shape[0]} · head {self.head_no + 1}/" \
                            f"{self.attention.weights.shape[1]} · rows: queries, columns: keys"
        self.border_subtitle = "l/h layer/head (L/H back) · arrows: query"
        rows, cols = max(1, self.content_size.height - 1), max(1, self.content_size.width - LABEL)
        text, w = self.attention.text, self.weights()
        cursor = min(self.cursor, len(text) - 1)  # set for a text still being measured (the tour's): it waits
        first = int(np.clip(cursor - rows // 2, 0, max(0, len(text) - rows)))
        last = min(len(text), first + rows)
        k0 = max(0, last - cols)
        out = Text("\u00a0" * LABEL + "".join(shown(c) for c in text[k0:last]) + "\n", style="dim")
        for q in range(first, last):
            out.append(shown(text[q]) + ("▶" if q == cursor else " "), style="bold" if q == cursor else "")
            for k in range(k0, last):
                bg = weight_colour(w[q, k]) if k <= q else None
                cell = Style(bgcolor=bg, color=text_colour(bg)) if bg else Style()
                out.append("▁" if (q == cursor and k <= q) else " ", style=cell)
            out.append("\n")
        return out


class AttentionView(Vertical):
    SHOWS = "attention"
    DEFAULT_CSS = """
    AttentionView { height: 1fr; }
    AttentionView #attention-info { height: 1; padding: 0 1; }
    AttentionView #attention-text { height: auto; max-height: 8; border: round $panel; padding: 0 1; }
    """

    def __init__(self, model: str | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = model

    def compose(self) -> ComposeResult:
        yield Static("", id="attention-info")
        yield AttentionMap(self.model, id="attention-map")
        yield Static("", id="attention-text")

    def on_mount(self) -> None:
        heatmap = self.query_one(AttentionMap)
        for name in ("cursor", "layer_no", "head_no"):
            self.watch(heatmap, name, lambda _: self.describe(), init=False)

    def show(self, attention: Attention | None, error: str | None = None) -> None:
        if attention is None:
            self.query_one("#attention-info", Static).update(error or "")
            return
        self.query_one(AttentionMap).set_attention(attention)
        self.describe()

    def figure(self, source: str) -> figures.Figure | None:
        """What x exports: the layer and head shown, over the whole text."""
        heatmap = self.query_one(AttentionMap)
        if heatmap.attention is None:
            return None
        return figures.attention(heatmap.attention, heatmap.layer_no, heatmap.head_no,
                                 f"{display_name(self.model)} ({source})")

    def show_unavailable(self, why: str) -> None:
        """Why there is nothing to draw; "" once the model has weights again (its map then waits for them)."""
        heatmap = self.query_one(AttentionMap)
        if not why and not heatmap.unavailable:
            return  # new weights for a model that had some: keep the map until its new one comes
        heatmap.attention, heatmap.unavailable = None, why
        heatmap.refresh()
        self.query_one("#attention-info", Static).update("")
        self.query_one("#attention-text", Static).update("")

    def describe(self) -> None:
        heatmap = self.query_one(AttentionMap)
        if heatmap.attention is None:
            return
        text = heatmap.attention.text
        q = min(heatmap.cursor, len(text) - 1)  # a cursor set for a text still being measured (the tour's) waits
        w = heatmap.weights()[q]
        best = np.argsort(w[:q + 1])[::-1][:3]
        where = "  ".join(f"{shown(text[k])!r} {q - k} back {w[k]:.0%}" for k in best)
        self.query_one("#attention-info", Static).update(
            f"query {q} {shown(text[q])!r} looks at: {where}")
        out = Text()
        for k, ch in enumerate(text):
            append_on(out, ch, weight_colour(w[k]) if k <= q else None, underline=k == q)
        box = self.query_one("#attention-text", Static)
        box.border_title = "the text coloured by where the query looks"
        box.update(out)
