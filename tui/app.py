"""The app: layout, key bindings, and the wiring of messages between panes and workers."""

from __future__ import annotations

import functools
import gc
import sys
from pathlib import Path

import torch
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from engine.models import family_names
from engine.runs import Checkpoint, RunDir, Start, new_run_path
from engine.shipped import SHIPPED_DIR
from tui import jobs
from tui.bank import ModelBank, gated_model
from tui.messages import CheckpointLoaded, GenerationProgress, ModelsLoaded, TraceReady, TrainingEnded, TrainingEvents
from tui.training import TrainingJob
from tui.widgets.gates_pane import GatesPane
from tui.widgets.generation_pane import GenerationPane
from tui.widgets.seed_bar import SeedBar
from tui.widgets.training_pane import TrainingPane

MAX_TRACE_CHARS = 1000  # the gate view is read character by character; 5,000 would cost 700 MB and 2 s
REDRAW_SECONDS = 0.1  # streaming panes are redrawn together, ten times a second
FOCUS_TARGETS = {"generate": "#seed", "train": "#model-select", "gates": "#heatmap"}


def while_running(handler):
    """Worker threads may post a message just before the app shuts down; Textual still delivers it
    after the screens are gone. Such a message has nothing left to update: drop it."""

    @functools.wraps(handler)
    def guarded(self, *args):
        if self.is_running:
            return handler(self, *args)

    return guarded


class ShakesApp(App):
    TITLE = "shakes-tui"
    SUB_TITLE = "Benvolio (RNN) · Mercutio (LSTM) · Romeo (Transformer)"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("f1", "show_tab('generate')", "Generate"),
        Binding("f2", "show_tab('train')", "Train"),
        Binding("f3", "show_tab('gates')", "Gates"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(self, *, weights_dir: Path = SHIPPED_DIR, runs_dir: Path = Path("runs"), data: str | None = None,
                 watch: list[Path] | None = None, train_extra: list[str] | None = None, preset: str = "default"):
        super().__init__()
        self.names = family_names()
        self.gated = gated_model(self.names)  # the model the Gates tab traces
        self.bank = ModelBank(weights_dir, self.names)
        self.runs_dir, self.data, self.watch_dirs = Path(runs_dir), data, watch or []
        self.train_extra, self.preset = train_extra or [], preset
        self.jobs: dict[str, TrainingJob] = {}
        self.run_id = 0
        self.seed = ""
        self._trace_timer = None  # a debounced trace of the seed being typed
        self.pending: dict[str, GenerationProgress] = {}  # newest progress per pane, drawn at REDRAW_SECONDS
        torch.set_num_threads(1)  # one core per generation thread; the event loop keeps its own
        sys.setswitchinterval(0.001)  # hand the GIL to the event loop often, not every 5 ms

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="generate"):
            with TabPane("Generate (F1)", id="generate"):
                yield SeedBar()
                with Horizontal(id="generations"):
                    for name in self.names:
                        yield GenerationPane(name)
            with TabPane("Train (F2)", id="train"):
                yield TrainingPane(self.names)
            with TabPane("Gates (F3)", id="gates"):
                yield GatesPane()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#seed", Input).focus()
        self.set_interval(REDRAW_SECONDS, self.flush_progress)
        self.run_in_thread(jobs.load_models, self.bank, group="load")
        for run_dir in self.watch_dirs:
            self.follow_run_dir(Path(run_dir))

    def run_in_thread(self, fn, *args, group: str, exclusive: bool = True) -> Worker:
        return self.run_worker(functools.partial(fn, self.post_message, *args), thread=True, group=group,
                               exclusive=exclusive, exit_on_error=False)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def focus_tab(self, event: TabbedContent.TabActivated) -> None:
        """Give each tab's main widget the focus, so keys work at once (and focus never stays hidden)."""
        target = FOCUS_TARGETS.get(event.pane.id or "")
        if target and not self.query_one(target).has_focus:
            self.query_one(target).focus()

    # ---- models and generation ---------------------------------------------------------------
    @on(ModelsLoaded)
    @while_running
    def models_loaded(self) -> None:
        calm_garbage_collector()
        for name in self.names:
            self.query_one(f"#gen-{name}", GenerationPane).set_slot(self.bank.get(name))
        self.retrace(self.query_one(SeedBar).seed_text)

    @on(SeedBar.Submitted)
    def generate(self, event: SeedBar.Submitted) -> None:
        self.run_id += 1
        self.seed = event.seed
        for name in self.names:
            slot, pane = self.bank.get(name), self.query_one(f"#gen-{name}", GenerationPane)
            if slot.loaded is None:
                pane.set_slot(slot)
                continue
            pane.start(event.seed)
            self.run_in_thread(jobs.generate, slot, event.seed, event.settings, event.length, self.run_id,
                               group=f"gen-{name}")
        self.retrace(event.seed)

    @on(SeedBar.Invalid)
    def invalid_settings(self, event: SeedBar.Invalid) -> None:
        self.notify(event.reason, title="Cannot generate", severity="error")

    @on(GenerationProgress)
    @while_running
    def queue_progress(self, event: GenerationProgress) -> None:
        """Keep only each pane's newest text; flush_progress draws them all in one frame."""
        if event.run_id == self.run_id:  # else a cancelled stream's last words
            self.pending[event.model] = event

    @while_running
    def flush_progress(self) -> None:
        pending, self.pending = self.pending, {}
        for event in pending.values():
            self.show_progress(event)

    def show_progress(self, event: GenerationProgress) -> None:
        self.query_one(f"#gen-{event.model}", GenerationPane).update_text(event.text, event.chars_per_s, event.done)
        if event.done and event.notice:
            self.notify(event.notice, title=event.model.capitalize(), severity="warning")
        if event.done and event.model == self.gated:
            self.retrace(self.seed + event.text)

    # ---- gates ---------------------------------------------------------------------------------
    @on(Input.Changed, "#seed")
    def seed_changed(self, event: Input.Changed) -> None:
        self.retrace(event.value.replace("\\n", "\n"), delay=0.3)

    def retrace(self, text: str, delay: float = 0.0) -> None:
        """Trace Mercutio's gates over text (its first MAX_TRACE_CHARS); a later request replaces any
        pending or running one."""
        text = text[:MAX_TRACE_CHARS]
        if self._trace_timer is not None:
            self._trace_timer.stop()
            self._trace_timer = None
        if delay:
            self._trace_timer = self.set_timer(delay, lambda: self.retrace(text))
            return
        if self.gated is not None:
            self.run_in_thread(jobs.trace, self.bank.get(self.gated), text, group="trace")

    @on(TraceReady)
    @while_running
    def show_trace(self, event: TraceReady) -> None:
        self.query_one(GatesPane).set_trace(event.text, event.arrays)

    # ---- training --------------------------------------------------------------------------------
    @on(TrainingPane.Command)
    def training_command(self, event: TrainingPane.Command) -> None:
        pane, job = self.query_one(TrainingPane), self.jobs.get(event.model)
        if event.action == "stop":
            if job and job.running:
                job.stop()
                pane.set_status(f"{event.model}: stopping after this step; a checkpoint is written")
            else:
                pane.set_status(f"{event.model} is not training")
            return
        if job and job.running:
            pane.set_status(f"{event.model} is already training")
            return
        resume = event.action == "resume"
        if resume and not (job and job.can_resume):
            pane.set_status(f"{event.model} has no stopped run to resume: press Start")
            return
        if not resume:
            run_dir = new_run_path(self.runs_dir, event.model)
            job = TrainingJob(event.model, run_dir, data=self.data, minutes=event.minutes, preset=self.preset,
                              extra=self.train_extra)
        job.minutes = event.minutes
        job.start(resume=resume)
        self.jobs[event.model] = job
        pane.set_row_status(event.model, "starting")
        pane.set_status(f"{event.model}: {'resumed' if resume else 'started'} in {job.run.path}")
        self.run_in_thread(jobs.follow_run, event.model, job.run.path, job, group=f"follow-{event.model}")

    def follow_run_dir(self, run_dir: Path) -> None:
        starts = [e for e in RunDir(run_dir).events() if isinstance(e, Start)]
        model = starts[0].model if starts else run_dir.name
        self.query_one(TrainingPane).set_status(f"watching {run_dir}")
        self.run_in_thread(jobs.follow_run, model, run_dir, None, group=f"watch-{run_dir}")

    @on(TrainingEvents)
    @while_running
    def show_training(self, event: TrainingEvents) -> None:
        pane = self.query_one(TrainingPane)
        pane.show_events(event.model, event.events)
        if event.warning:
            self.notify(event.warning, title=event.model.capitalize(), severity="warning")
        checkpoints = [e for e in event.events if isinstance(e, Checkpoint)]
        if checkpoints and pane.follow_checkpoints and event.model in self.names:
            last = checkpoints[-1]
            self.run_in_thread(jobs.reload_checkpoint, self.bank, event.model, Path(last.path), last.step,
                               group=f"reload-{event.model}")

    @on(TrainingEnded)
    @while_running
    def training_ended(self, event: TrainingEnded) -> None:
        pane = self.query_one(TrainingPane)
        if event.returncode not in (0, None):
            pane.set_row_status(event.model, "error")
            pane.set_status(f"{event.model} stopped with an error: {event.error or 'see stderr.log'}")
        else:
            pane.set_status(f"{event.model}: stopped with a checkpoint; Resume continues it")

    @on(CheckpointLoaded)
    @while_running
    def checkpoint_loaded(self, event: CheckpointLoaded) -> None:
        if event.error is None:
            self.query_one(f"#gen-{event.model}", GenerationPane).set_slot(self.bank.get(event.model))

    # ---- leaving -------------------------------------------------------------------------------
    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.group}: {event.worker.error}", title="Background task failed",
                        severity="error")

    def on_unmount(self) -> None:
        """However the app ends, no training child is left running without being told to stop."""
        for job in self.jobs.values():
            job.stop()

    async def action_quit(self) -> None:
        running = [job for job in self.jobs.values() if job.running]
        for job in running:
            job.stop()
        if running:
            self.notify("Stopping training: writing checkpoints…")
            await self.run_worker(functools.partial(_wait_all, running), thread=True).wait()
        self.exit()


def calm_garbage_collector() -> None:
    """Full collections over Textual's many objects stalled the event loop for 100-180 ms about
    once a second while three streams ran (measured: p99 lag 140 ms, 28 ms with GC off).
    Freeze what exists now (the app, the models: they live as long as the app) so collections
    skip it, and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _wait_all(running: list[TrainingJob]) -> None:
    for job in running:
        job.wait(timeout=60)
