"""Every message the workers post to the app. A progress message replaces its older copy still in the queue."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from shakes_tui.engine.runs import Event
from textual.message import Message


def while_running(handler):
    """Worker threads may post a message just before the app shuts down; Textual still delivers it
    after the screens are gone. Such a message has nothing left to update: drop it."""

    @functools.wraps(handler)
    def guarded(self, *args):
        if self.is_running:
            return handler(self, *args)

    return guarded


@dataclass
class ModelsLoaded(Message):
    pass


@dataclass
class GenerationProgress(Message):
    """The whole continuation so far: a newer one makes an older, queued one redundant."""

    model: str
    round_no: int  # the generation round it belongs to: a new seed starts the next round
    text: str
    chars_per_s: float
    done: bool = False
    notice: str | None = None  # e.g. seed characters that were dropped

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, GenerationProgress) and message.model == self.model
                and message.round_no == self.round_no and not message.done)


@dataclass
class TrainingEvents(Message):
    model: str
    events: list[Event] = field(default_factory=list)
    warning: str | None = None  # said once per run when its metrics file had unreadable lines


@dataclass
class TrainingEnded(Message):
    model: str
    returncode: int | None
    error: str = ""


@dataclass
class CheckpointLoaded(Message):
    """A model's slot has new weights (a checkpoint, or the shipped ones again), or could not load them."""

    model: str
    source: str  # as the slot names it: "shipped", or run_source's words
    error: str | None = None


@dataclass
class CellFound(Message):
    """The unit of the traced text that best follows a feature (engine/inspect/cells.py), or why there is none."""

    feature: str
    text: str  # the traced text it was ranked on
    cell: object | None  # a cells.Cell, numbered from 1
    why: str = ""


@dataclass
class TraceReady(Message):
    text: str
    arrays: dict  # gate -> (T, layers, units) numpy array


@dataclass
class Resumable(Message):
    """Runs under the runs folder that stopped before their budget (or were left running with nothing running
    them): (model, run folder, how it ended) each, oldest first (engine.training.resumable)."""

    runs: list[tuple[str, Path, str]]


@dataclass
class FiguresWritten(Message):
    """x wrote the current view as a figure: the files, and what could not be written (no matplotlib, an error)."""

    paths: list[Path]
    note: str | None = None
    error: str | None = None
