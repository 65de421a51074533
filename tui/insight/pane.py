"""The Insight tab: five views of the same text (1 surprise, 2 span, 3 attention, 4 saturation, 5 compare: the text
against itself with one place changed), measured in thread workers that post their results here; ``t`` switches the
text between the seed and a validation passage."""

from __future__ import annotations

import functools
from collections.abc import Callable

from shakes_tui.engine import figures
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.context import first_family_with
from shakes_tui.engine.models import display_name
from shakes_tui.tui.bank import ModelBank, Slot
from shakes_tui.tui.export import EXPORT
from shakes_tui.tui.insight import jobs
from shakes_tui.tui.insight.attention_view import AttentionMap, AttentionView
from shakes_tui.tui.insight.compare_view import CompareView
from shakes_tui.tui.insight.messages import (
    AttentionReady,
    CompareReady,
    SaturationReady,
    SpanProgress,
    SpanReady,
    SurpriseReady,
)
from shakes_tui.tui.insight.saturation_view import SaturationView
from shakes_tui.tui.insight.span_view import SpanView
from shakes_tui.tui.insight.surprise_view import SurpriseView
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Static

VIEWS = {"surprise": "1 surprise", "span": "2 memory span", "attention": "3 attention", "saturation": "4 saturation",
         "compare": "5 compare"}
SHORT = 16  # rows: below this the views drop borders and spacing to keep their content
MAX_CHARS = 600  # the views are read character by character


class InsightPane(Vertical, can_focus=True):
    """Its layout: pane.tcss."""
    BINDINGS = [Binding(str(i + 1), f"view('{name}')", name.capitalize()) for i, name in enumerate(VIEWS)] + [
        Binding("t", "toggle_text", "seed/passage"), EXPORT]

    def __init__(self, bank: ModelBank, names: tuple[str, ...], data: str | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bank, self.names, self.corpus = bank, names, jobs.Corpus(data)
        self.attending = first_family_with("has_attention", names)  # the model whose attention is drawn
        self.gated = first_family_with("has_gates", names)  # the model whose gates saturate
        self.seed, self.source, self.view = "", "seed", "surprise"
        self.span_pending: set[str] = set()  # models the running span worker will measure

    def compose(self) -> ComposeResult:
        yield Static("", id="insight-info")
        with ContentSwitcher(initial="surprise", id="insight-views"):
            yield SurpriseView(self.names, id="surprise")
            yield SpanView(self.names, id="span")
            yield AttentionView(self.attending, id="attention")
            yield SaturationView(self.gated, id="saturation")
            yield CompareView(self.names, id="compare")

    def on_mount(self) -> None:
        self.describe()

    def on_resize(self, event) -> None:
        self.describe()  # its labels fit the width
        short = event.size.height < SHORT  # 60x15: a line of text per model, not none
        if short != self.has_class("-short"):
            self.set_class(short, "-short")
            self.refresh(layout=True)  # the new rules change sizes: lay out now, not at the next unrelated repaint

    def run_in_thread(self, fn, *args, group: str) -> None:
        self.run_worker(functools.partial(fn, self.post_message, *args), thread=True, group=group, exclusive=True,
                        exit_on_error=False)

    def describe(self) -> None:
        labels = {n: (label if self.size.width >= 110 else label.replace("memory ", "")) for n, label in VIEWS.items()}
        views = " · ".join(f"[b]{label}[/]" if name == self.view else label for name, label in labels.items())
        self.query_one("#insight-info", Static).update(f"{views}   ·   {measured_on(self.view, self.source)}")

    # ---- what the app tells the pane ------------------------------------------------------------
    def set_seed(self, seed: str) -> None:
        self.seed = seed
        if self.source == "seed":
            self.measure()

    def model_changed(self, name: str) -> None:
        """New weights for one model (loaded, or a live checkpoint): measure it again."""
        self.query_one(SpanView).set_status(name, "new weights")
        self.say_what_is_missing(name)
        self.measure()
        if self.view == "span":
            self.measure_span(restart=True)

    def say_what_is_missing(self, name: str | None = None) -> None:
        """After loading (every model) or new weights (one): a view whose model has no weights (missing or damaged)
        says so instead of waiting; one whose model has weights again waits for its measure."""
        for slot, view, _ in (v for v in self.one_model_views() if name in (None, v[0].name)):
            self.query_one(view).show_unavailable("" if slot.loaded else no_weights_words(slot, view.SHOWS))

    def check_copying(self, model: str, round_no: int, text: str) -> None:
        self.run_in_thread(jobs.check_copying, self.corpus, model, round_no, text, group=f"copying-{model}")

    # ---- measuring ------------------------------------------------------------------------------
    def text(self) -> str | None:
        if self.source == "seed":
            return self.seed[:MAX_CHARS]
        try:
            return self.corpus.passage()
        except ShakesError as exc:  # the views stay on the seed, and the header says so
            self.source = "seed"
            self.describe()
            self.notify(str(exc), title="No validation passage", severity="error", markup=False)
            return None

    def slots(self) -> list[Slot]:
        return [self.bank.get(name) for name in self.names]

    def one_model_views(self) -> list[tuple[Slot, type, Callable]]:
        """(slot, view, the job that measures it) for each view of one model, where a model has its kind."""
        views = ((self.attending, AttentionView, jobs.measure_attention),
                 (self.gated, SaturationView, jobs.measure_saturation))
        return [(self.bank.get(name), view, job) for name, view, job in views if name is not None]

    def measure(self) -> None:
        text = self.text()
        if not text or len(text) < 2:
            return
        self.run_in_thread(jobs.measure_surprise, self.slots(), text, group="insight-surprise")
        for slot, _, job in self.one_model_views():
            if slot.loaded is not None:
                self.run_in_thread(job, slot, text, group=f"insight-{job.__name__}")
        self.query_one(CompareView).follow(text)
        self.measure_compare()  # when shown; action_view measures it on the way in

    def measure_compare(self, texts: tuple[str, str] | None = None) -> None:
        """Compare the view's two texts (or these, which it then shows) on every model, when the view is shown."""
        view = self.query_one(CompareView)
        if texts is not None:
            view.set_texts(*texts)
        if self.view == "compare" and not view.problem and view.text_a and view.text_b:
            self.run_in_thread(jobs.measure_compare, self.slots(), view.text_a, view.text_b, group="insight-compare")

    @on(CompareView.Edited)
    def compare_edited(self) -> None:
        self.measure_compare()

    def measure_span(self, restart: bool = False) -> None:
        """Measure every model that has no curves for its present weights, one after another, in one worker
        (a new worker replaces the running one, so it takes over whatever that one had left)."""
        view = self.query_one(SpanView)
        for slot in self.slots():
            if slot.loaded is None:
                view.set_status(slot.name, slot.error or "not loaded")
        todo = [s for s in self.slots() if s.loaded is not None and s.name not in view.results]
        names = {s.name for s in todo}
        if not todo or (names <= self.span_pending and not restart):
            return
        self.span_pending = names
        for slot in todo:
            view.set_status(slot.name, "waiting for its turn…")
        self.run_in_thread(jobs.measure_span, todo, self.corpus, group="insight-span")

    def figure(self) -> figures.Figure | None:
        """The view shown, as a figure for slides (None: it has nothing drawn yet)."""
        sources = {name: self.bank.get(name).source or "shipped" for name in self.names}
        if self.view == "surprise":
            return self.query_one(SurpriseView).figure()
        if self.view == "span":
            return self.query_one(SpanView).figure(sources)
        if self.view == "attention":
            return self.query_one(AttentionView).figure(sources.get(self.attending, "shipped"))
        if self.view == "compare":
            return self.query_one(CompareView).figure(sources)
        return self.query_one(SaturationView).figure()

    # ---- keys -------------------------------------------------------------------------------------
    def action_view(self, name: str) -> None:
        self.view = name
        self.query_one("#insight-views", ContentSwitcher).current = name
        self.describe()
        self.focus()
        if name == "span":
            self.measure_span()
        if name == "compare":
            self.measure_compare()

    def focus(self, scroll_visible: bool = True):
        """Focus goes to the view's own widget where it has keys (cursor, layer, head), else to the pane."""
        target = {"surprise": SurpriseView, "attention": AttentionMap}.get(self.view)
        if target is not None:
            return self.query_one(target).focus(scroll_visible)
        return super().focus(scroll_visible)

    def action_toggle_text(self) -> None:
        self.source = "passage" if self.source == "seed" else "seed"
        self.describe()
        self.measure()

    # ---- results ----------------------------------------------------------------------------------
    @on(SurpriseReady)
    def show_surprise(self, event: SurpriseReady) -> None:
        self.query_one(SurpriseView).show(event.results, event.errors, event.sources)

    @on(SpanProgress)
    def span_progress(self, event: SpanProgress) -> None:
        self.query_one(SpanView).set_status(event.model, f"computing… {event.done}/{event.total}")

    @on(SpanReady)
    def show_span(self, event: SpanReady) -> None:
        self.span_pending.discard(event.model)
        self.query_one(SpanView).show(event)

    @on(AttentionReady)
    def show_attention(self, event: AttentionReady) -> None:
        self.query_one(AttentionView).show(event.attention, event.error)

    @on(CompareReady)
    def show_compare(self, event: CompareReady) -> None:
        self.query_one(CompareView).show(event.text_a, event.text_b, event.results, event.errors)

    @on(SaturationReady)
    def show_saturation(self, event: SaturationReady) -> None:
        self.query_one(SaturationView).show(event.saturation, event.source, event.error)


def measured_on(view: str, source: str) -> str:
    """What the view measures: the seed or a validation passage (t switches); the span, held-out text always."""
    if view == "span":
        return f"on {jobs.APP_SPAN.positions} validation positions"
    return f"on {'the seed' if source == 'seed' else 'a validation passage'} (t switches)"


def no_weights_words(slot: Slot, shows: str) -> str:
    return f"No {display_name(slot.name)} weights, so no {shows} to show: {slot.error or 'not loaded'}"
