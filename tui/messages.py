"""Every message the workers post to the app. High-rate ones replace their older copies in the queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from engine.runs import Event


@dataclass
class ModelsLoaded(Message):
    pass


@dataclass
class GenerationProgress(Message):
    """The whole continuation so far: a newer one makes an older, queued one redundant."""

    model: str
    run_id: int
    text: str
    chars_per_s: float
    done: bool = False
    notice: str | None = None  # e.g. seed characters that were dropped

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, GenerationProgress) and message.model == self.model
                and message.run_id == self.run_id and not message.done)


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
    model: str
    step: int
    error: str | None = None


@dataclass
class TraceReady(Message):
    text: str
    arrays: dict  # gate -> (T, layers, units) numpy array
