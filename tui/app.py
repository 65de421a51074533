"""The app: layout, key bindings, and the wiring of messages between panes and workers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from shakes_tui.engine.models import family_names
from shakes_tui.engine.shipped import SHIPPED_DIR
from shakes_tui.tui import workers
from shakes_tui.tui.bank import ModelBank, gated_model
from shakes_tui.tui.commands import ShakesCommands
from shakes_tui.tui.insight.messages import CopyingReady
from shakes_tui.tui.insight.pane import InsightPane
from shakes_tui.tui.live_weights import LiveWeights
from shakes_tui.tui.messages import GenerationProgress, ModelsLoaded, while_running
from shakes_tui.tui.training import TrainingSettings
from shakes_tui.tui.widgets.gates_pane import GatesPane
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from shakes_tui.tui.widgets.generation_row import GenerationRow
from shakes_tui.tui.widgets.help_screen import HelpScreen
from shakes_tui.tui.widgets.seed_bar import SeedBar
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

SHORT_SUB_TITLE = "RNN · LSTM · Transformer"  # under WIDE_TITLE columns the header would cut the long one
WIDE_TITLE = 96
FOCUS_TARGETS = {"generate": "#seed", "train": "#model-select", "gates": "#heatmap", "insight": "#insight-pane"}


class ShakesApp(LiveWeights, App):
    TITLE = "shakes-tui"
    SUB_TITLE = "Benvolio (RNN) · Mercutio (LSTM) · Romeo (Transformer)"
    CSS_PATH = ["app.tcss", "widgets/training_pane.tcss", "insight/pane.tcss"]
    BINDINGS = [*(Binding(f"f{i}", f"show_tab('{tab}')", tab.capitalize(), show=False)  # the tabs name their keys
                  for i, tab in enumerate(("generate", "train", "gates", "insight"), start=1)),
                Binding("question_mark", "help", "Help"), Binding("ctrl+q", "quit", "Quit"),
                Binding("escape", "leave_field", "leave field", show=False)]
    COMMANDS = App.COMMANDS | {ShakesCommands}

    def __init__(self, *, weights_dir: Path = SHIPPED_DIR, training: TrainingSettings | None = None,
                 watch: list[Path] | None = None, after_load: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.names = family_names()
        self.gated = gated_model(self.names)  # the model whose gates the Gates tab shows
        self.bank = ModelBank(weights_dir, self.names)
        self.training, self.watch_dirs, self.after_load = training or TrainingSettings(), watch or [], after_load
        self.round_no = 0  # generation rounds: each stream started gets the next number ...
        self.rounds: dict[str, int] = {}  # ... and a model's older streams are stale from then on
        self.request: SeedBar.Submitted | None = None  # the last seed and its settings (live weights rewrite it)
        self.noticed: set[str] = set()  # notices already shown for this seed: once, not once per model

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
        self.sub_title = self.SUB_TITLE if event.size.width >= WIDE_TITLE else SHORT_SUB_TITLE

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

    def action_leave_field(self) -> None:
        """Esc in a text field hands the keys back to the app (? for help, F1-F4, a pane's own keys)."""
        if isinstance(self.focused, Input):
            self.focused.blur()

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

    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.group}: {event.worker.error}", title="Background task failed",
                        severity="error", markup=False)

    async def action_quit(self) -> None:
        """Running training is stopped with a checkpoint first."""
        await self.query_one(TrainingPane).stop_all()
        self.exit()
