"""The work done off the event loop: each function runs in a thread worker, checks for cancellation
as it goes, touches no widget, and only posts messages (to the app or the pane that started it)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch
from shakes_tui.engine import figures
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.generation.sampling import SampleSettings, prepare_seed, stream
from shakes_tui.engine.inspect.cells import FEATURES, rank_units
from shakes_tui.engine.runs import Follower, Start
from shakes_tui.engine.shipped import shipped_path
from shakes_tui.engine.training.resumable import resumable
from shakes_tui.tui.bank import ModelBank, Slot
from shakes_tui.tui.messages import (
    CellFound,
    CheckpointLoaded,
    FiguresWritten,
    GenerationProgress,
    ModelsLoaded,
    Resumable,
    TraceReady,
    TrainingEnded,
    TrainingEvents,
)
from shakes_tui.tui.training import TrainingProcess
from textual.message import Message
from textual.worker import get_current_worker

Post = Callable[[Message], object]


def export_figure(post: Post, figure: figures.Figure, folder: Path) -> None:
    """Write FOLDER/<view>-<time>.csv, .png and .svg (a -2, -3 ... where that name is taken)."""
    stem = f"{figure.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    taken = {p.stem for p in folder.glob(f"{stem}*")} if folder.is_dir() else set()
    stem = next(f"{stem}-{n}" if n > 1 else stem for n in range(1, len(taken) + 2) if
                (f"{stem}-{n}" if n > 1 else stem) not in taken)
    try:
        post(FiguresWritten(*figures.export(figure, folder, stem)))
    except (OSError, ShakesError) as exc:
        post(FiguresWritten([], error=str(exc)))


def load_models(post: Post, bank: ModelBank) -> None:
    bank.load_shipped()
    post(ModelsLoaded())


clock = time.perf_counter  # tests put a fake clock here, for reproducible rates
FRAME_SECONDS = 0.1  # the one throttle of streaming text: each stream posts at most ten times a second
BACKGROUND_NICE = 10  # heavy threads run at lower CPU priority than the event loop


def lower_priority() -> None:
    """Make the calling thread yield the CPU to the event loop (Linux: per-thread niceness)."""
    with contextlib.suppress(AttributeError, OSError):  # elsewhere the GIL switch interval must do
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)


def generate(post: Post, slot: Slot, seed: str, settings: SampleSettings, length: int, round_no: int) -> None:
    """Stream one model's continuation, posting the whole text so far at most once a frame."""
    worker = get_current_worker()
    lower_priority()
    prepared = prepare_seed(slot.loaded.vocab, seed)
    text, start, last_post = "", clock(), -FRAME_SECONDS
    for ch in stream(slot.loaded.model, slot.loaded.vocab, prepared, length, settings):
        if worker.is_cancelled:
            return
        text += ch
        now = clock()
        if now - last_post >= FRAME_SECONDS:
            post(GenerationProgress(slot.name, round_no, text, len(text) / max(now - start, 1e-6)))
            last_post = now
    post(GenerationProgress(slot.name, round_no, text, len(text) / max(clock() - start, 1e-6),
                            done=True, notice=prepared.warning()))


def trace(post: Post, slot: Slot, text: str) -> None:
    if slot.loaded is None or not text:
        return
    lower_priority()
    prepared = prepare_seed(slot.loaded.vocab, text)
    arrays = slot.loaded.model.trace(torch.tensor(prepared.ids))
    if not get_current_worker().is_cancelled:
        post(TraceReady(slot.loaded.vocab.decode(prepared.ids), arrays))


def find_cell(post: Post, feature: str, states: dict, text: str) -> None:
    """Rank every traced unit against one feature of the text (cells.rank_units) and post the best."""
    lower_priority()
    ranking = rank_units(states, text, top=1, features={feature: FEATURES[feature]})
    best = ranking.best.get(feature)
    post(CellFound(feature, text, best[0] if best else None, ranking.absent.get(feature, "")))


def follow_run(post: Post, model: str | None, run_path: Path, process: TrainingProcess | None,
               poll: float = 0.2) -> None:
    """Post a run's new events, a batch at a time, until its process ends (or, when only watching, until
    cancelled or the file is refused). A watched run (model None) is named by its first batch's start event,
    else by its folder."""
    worker = get_current_worker()
    lower_priority()  # a long history is decoded here: the event loop goes first
    follower = Follower(run_path)

    def should_stop() -> bool:
        return worker.is_cancelled or (process is not None and not process.running)

    read_since = time.perf_counter()
    for events in follower.batches(poll=poll, should_stop=should_stop, until_final=False):
        if model is None:
            model = next((e.model for e in events if isinstance(e, Start)), run_path.name)
        post(TrainingEvents(model, events, follower.take_warning()))
        if not follower.at_end:  # a long history, a chunk at a time: the event loop gets as long as each took
            time.sleep(min(time.perf_counter() - read_since, 0.25))
        read_since = time.perf_counter()
    if warning := follower.take_warning():  # a file refused (a FIFO): said once, in one line
        post(TrainingEvents(model or run_path.name, [], warning))
    if process is not None and not worker.is_cancelled:
        error = process.last_error()
        process.discard_if_never_started()
        post(TrainingEnded(model, process.returncode, error))


def reload_checkpoint(post: Post, bank: ModelBank, model: str, weights: Path, source: str) -> None:
    slot = bank.load(model, weights, source)
    post(CheckpointLoaded(model, source, slot.error))


def reload_shipped(post: Post, bank: ModelBank, model: str) -> None:
    slot = bank.load(model, shipped_path(model, bank.weights_dir), "shipped")
    post(CheckpointLoaded(model, "shipped", slot.error))


def find_resumable(post: Post, runs_dir: Path) -> None:
    post(Resumable(resumable(runs_dir)))
