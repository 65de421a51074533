"""The app: layout, key bindings, and the wiring of messages between panes and workers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.lesson import Step, load_tour
from shakes_tui.engine.models import family_names, get_family
from shakes_tui.engine.shipped import SHIPPED_DIR
from shakes_tui.tui import workers
from shakes_tui.tui.bank import ModelBank, gated_model, run_source
from shakes_tui.tui.cli import DEFAULT_TOUR
from shakes_tui.tui.commands import ShakesCommands
from shakes_tui.tui.export import FIGURES_DIR
from shakes_tui.tui.insight.messages import CopyingReady
from shakes_tui.tui.insight.pane import InsightPane
from shakes_tui.tui.messages import CheckpointLoaded, FiguresWritten, GenerationProgress, ModelsLoaded, while_running
from shakes_tui.tui.tour import Tour, TourFigures
from shakes_tui.tui.training import TrainingSettings
from shakes_tui.tui.widgets.gates_pane import GatesPane
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from shakes_tui.tui.widgets.generation_row import GenerationRow
from shakes_tui.tui.widgets.help_screen import HelpScreen
from shakes_tui.tui.widgets.loss_chart import LossChart
from shakes_tui.tui.widgets.seed_bar import SeedBar, SeedInput
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

HEADER_ROOM = 41  # columns the header takes beside its subtitle: under this and the long one, it would cut it
FOCUS_TARGETS = {"generate": "#seed", "train": "#model-select", "gates": "#heatmap", "insight": "#insight-pane"}


class ShakesApp(App):
    TITLE = "shakes-tui"
    CSS_PATH = ["app.tcss", "widgets/training_pane.tcss", "insight/pane.tcss"]
    BINDINGS = [*(Binding(f"f{i}", f"show_tab('{tab}')", tab.capitalize(), show=False)  # the tabs name their keys
                  for i, tab in enumerate(("generate", "train", "gates", "insight"), start=1)),
                Binding("question_mark", "help", "Help"), Binding("ctrl+q", "quit", "Quit"),
                Binding("escape", "leave_field", "leave field, then ? Help"),  # in the footer where ? is typed
                Binding("escape", "leave_field(True)", show=False),  # elsewhere in a text field, and the tour
                Binding("n", "tour(1)", "next step", show=False), Binding("p", "tour(-1)", "step back", show=False)]
    COMMANDS = App.COMMANDS | {ShakesCommands}

    def __init__(self, *, weights_dir: Path = SHIPPED_DIR, training: TrainingSettings | None = None,
                 watch: list[Path] | None = None, after_load: Callable[[], None] = lambda: None,
                 tour: list[Step] | None = None, figures_dir: Path = FIGURES_DIR) -> None:
        super().__init__()
        self.names = family_names()
        self.sub_titles = sub_titles(self.names)
        self.sub_title = self.sub_titles[0]
        self.gated = gated_model(self.names)  # the model whose gates the Gates tab shows
        self.bank = ModelBank(weights_dir, self.names)
        self.training, self.watch_dirs, self.after_load = training or TrainingSettings(), watch or [], after_load
        self.round_no = 0  # generation rounds: each stream started gets the next number ...
        self.rounds: dict[str, int] = {}  # ... and a model's older streams are stale from then on
        self.request: SeedBar.Submitted | None = None  # the last seed and its settings (live weights rewrite it)
        self.noticed: set[str] = set()  # notices already shown for this seed: once, not once per model
        self.figures_dir = figures_dir
        self.tour_at_start = tour is not None
        self.tour = Tour(self, tour) if tour is not None else None  # the default tour is read when first asked for

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="train" if self.watch_dirs else "generate"):  # not switched on mount: the
            # first tab's own activation could arrive after the switch and bring the Generate tab back
            with TabPane("Generate (F1)", id="generate"):
                yield SeedBar()
                yield GenerationRow(self.names, current=lambda e: e.round_no == self.rounds.get(e.model))
            with TabPane("Train (F2)", id="train"):
                yield TrainingPane(self.names, self.training)
            with TabPane("Gates (F3)", id="gates"):
                yield GatesPane()
            with TabPane("Insight (F4)", id="insight"):
                yield InsightPane(self.bank, self.names, self.training.data, id="insight-pane")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        long, short = self.sub_titles
        self.sub_title = long if event.size.width >= len(long) + HEADER_ROOM else short
        if self.tour is not None:
            self.tour.fit(event.size.height)

    def on_mount(self) -> None:
        self.run_in_thread(workers.load_models, self.bank, group="load")
        for run_dir in self.watch_dirs:
            self.query_one(TrainingPane).follow_run_dir(Path(run_dir))
        self.query_one(FOCUS_TARGETS["train"] if self.watch_dirs else "#seed").focus()

    def run_in_thread(self, fn, *args, group: str) -> Worker:
        return self.run_worker(functools.partial(fn, self.post_message, *args), thread=True, group=group,
                               exclusive=True, exit_on_error=False)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(FOCUS_TARGETS[tab]).focus()  # also when the tab was already showing

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_export_figure(self) -> None:
        """x: the Train tab's loss chart, the Gates heatmap or the Insight view shown, as CSV, PNG and SVG (written
        in a thread worker; a notice names the files)."""
        tab = self.query_one(TabbedContent).active
        source = {"train": LossChart, "gates": GatesPane, "insight": InsightPane}.get(tab)
        if source is None:
            self.notify("x exports the Train chart, the Gates heatmap or the Insight view shown", timeout=4)
            return
        figure = self.query_one(source).figure()
        if figure is None:
            self.notify("Nothing drawn here yet to export", timeout=4)
            return
        self.run_in_thread(workers.export_figure, figure, self.figures_dir, group="export-figure")

    @on(FiguresWritten)
    def figures_written(self, event: FiguresWritten) -> None:
        if event.error:
            self.notify(event.error, title="Figure not written", severity="error")
            return
        first, *others = event.paths
        names = ", ".join([str(first), *(p.suffix for p in others)])  # shakes-figures/span-....csv, .png, .svg
        self.notify(names + (f"\n{event.note}" if event.note else ""), title="Figure written",
                    severity="warning" if event.note else "information", timeout=8)

    def action_leave_field(self, quietly: bool = False) -> None:
        """Esc in a text field hands the keys back to the app (? for help, F1-F4, a pane's own keys); elsewhere
        it leaves the tour."""
        if isinstance(self.focused, Input):
            self.focused.blur()
        elif self.tour is not None and self.tour.is_open:
            self.tour.close()

    def action_start_tour(self) -> None:
        if self.tour is None:
            try:
                self.tour = Tour(self, load_tour(DEFAULT_TOUR, self.names))
            except ShakesError as exc:
                self.notify(str(exc), title="No tour", severity="error", markup=False)
                return
        self.tour.open()

    def action_tour(self, by: int) -> None:
        if self.tour is not None:
            self.tour.move(by)

    @on(TourFigures)
    def tour_figures(self, event: TourFigures) -> None:
        if self.tour is not None:
            self.tour.figures_ready(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field" and not parameters:  # the footer's, while a ? would be typed
            return isinstance(self.focused, Input) and not (isinstance(self.focused, SeedInput)
                                                              and self.focused.replaces_all())
        return True

    def get_system_commands(self, screen):
        """Textual's own, less its Screenshot (it saves to a Downloads folder that may not exist): ours says where."""
        return (c for c in super().get_system_commands(screen) if c.title != "Screenshot")

    @on(TabbedContent.TabActivated)
    def focus_tab(self, event: TabbedContent.TabActivated) -> None:
        """Give each tab's main widget the focus, so keys work at once (and focus never stays hidden)."""
        found = self.query(FOCUS_TARGETS.get(event.pane.id or "", "#none"))
        if found and not found.first().has_focus:  # none while the app shuts down
            found.first().focus()

    @on(ModelsLoaded)
    @while_running
    def models_loaded(self) -> None:
        self.after_load()
        for name in self.names:
            self.query_one(f"#gen-{name}", GenerationPane).set_slot(self.bank.get(name))
        sizes = [len(slot.loaded.vocab.chars) for slot in map(self.bank.get, self.names) if slot.loaded is not None]
        self.query_one(SeedBar).vocab_size = max(sizes, default=None)
        if self.gated is not None and self.bank.get(self.gated).loaded is None:
            self.query_one(GatesPane).set_unavailable(self.gated, self.bank.get(self.gated).error or "")
        self.retrace(self.query_one(SeedBar).seed_text)
        self.query_one(InsightPane).say_what_is_missing()
        self.query_one(InsightPane).set_seed(self.query_one(SeedBar).seed_text)
        if self.tour_at_start:
            self.tour_at_start = False
            self.tour.open()

    @on(SeedBar.Submitted)
    def generate(self, event: SeedBar.Submitted) -> None:
        self.noticed, self.request = set(), event
        for name in self.names:
            self.generate_one(name)
        self.retrace(event.seed)
        self.query_one(InsightPane).set_seed(event.seed)

    def generate_one(self, name: str) -> None:
        """(Re)write one model's continuation of the last seed; its round number retires any older stream."""
        slot, pane, event = self.bank.get(name), self.query_one(f"#gen-{name}", GenerationPane), self.request
        self.round_no += 1
        self.rounds[name] = self.round_no
        pane.set_slot(slot)
        if slot.loaded is None:
            return
        pane.start(event.seed)
        self.run_in_thread(workers.generate, slot, event.seed, event.settings, event.length, self.round_no,
                           group=f"gen-{name}")

    @on(SeedBar.Invalid)
    def invalid_settings(self, event: SeedBar.Invalid) -> None:
        self.notify(event.reason, title="Cannot generate", severity="error", markup=False)

    @on(GenerationProgress)
    @while_running
    def show_progress(self, event: GenerationProgress) -> None:
        if event.round_no != self.rounds.get(event.model):
            return  # a cancelled stream's last words
        self.query_one(GenerationRow).show(event)
        if event.done and event.notice and event.notice not in self.noticed:  # once, not once per model
            self.noticed.add(event.notice)
            self.notify(event.notice, title="Seed", severity="warning", markup=False)
        if event.done and event.model == self.gated:
            self.retrace(self.request.seed + event.text)
        if event.done:
            self.query_one(InsightPane).check_copying(event.model, event.round_no, event.text)

    @on(CopyingReady)
    @while_running
    def show_copying(self, event: CopyingReady) -> None:
        if event.round_no == self.rounds.get(event.model):
            self.query_one(f"#gen-{event.model}", GenerationPane).show_copying(event.copying)

    @on(Input.Changed, "#seed")
    def seed_changed(self, event: Input.Changed) -> None:
        self.retrace(event.value.replace("\\n", "\n"), delay=0.3)

    def retrace(self, text: str, delay: float = 0.0) -> None:
        if self.gated is not None:
            self.query_one(GatesPane).trace(self.bank.get(self.gated), text, delay)

    # ---- live weights: a live run's checkpoint, or the shipped weights again -------------------------
    @on(TrainingPane.NewWeights)
    def load_live_weights(self, event: TrainingPane.NewWeights) -> None:
        source = run_source(event.path, event.step, event.val_loss, event.val_step)
        self.run_in_thread(workers.reload_checkpoint, self.bank, event.model, event.path, source,
                           group=f"reload-{event.model}")

    def action_back_to_shipped(self, model: str) -> None:
        """Undo live weights: the model's pane (and its text) return to the weights shipped with the app."""
        if self.bank.get(model).source == "shipped":
            self.notify(f"{model.capitalize()} already has the shipped weights", timeout=3)
            return
        self.run_in_thread(workers.reload_shipped, self.bank, model, group=f"reload-{model}")

    @on(CheckpointLoaded)
    @while_running
    def show_new_weights(self, event: CheckpointLoaded) -> None:
        """A model's weights changed: its panes show them (and rewrite the last seed with them)."""
        if event.error is not None:
            self.notify(event.error, title=f"{event.model.capitalize()}: weights not loaded", severity="error",
                        markup=False)
            return
        self.query_one(InsightPane).model_changed(event.model)
        if self.request is None:  # nothing generated yet: the pane's title says where its weights are from
            self.query_one(f"#gen-{event.model}", GenerationPane).set_slot(self.bank.get(event.model))
            if event.model == self.gated:
                self.retrace(self.query_one(SeedBar).seed_text)
        else:
            self.generate_one(event.model)  # the same seed and settings, written by the new weights

    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.group}: {event.worker.error}", title="Background task failed",
                        severity="error", markup=False)

    async def action_quit(self) -> None:
        """Running training is stopped with a checkpoint first."""
        await self.query_one(TrainingPane).stop_all()
        self.exit()


def sub_titles(names: tuple[str, ...]) -> tuple[str, str]:
    """The header's subtitles: the models and their architectures ("Benvolio (RNN) · ..."), and the
    architectures alone ("RNN · LSTM · Transformer") for a narrower terminal."""
    families = [get_family(name) for name in names]
    return (" · ".join(f"{f.display_name} ({f.architecture})" for f in families),
            " · ".join(f.architecture for f in families))
