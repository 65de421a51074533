"""The run directory: the one contract between a trainer and whoever watches it.

    RUN_DIR/metrics.jsonl        one JSON event per line, append-only
    RUN_DIR/checkpoint.pt        everything needed to resume exactly (tensors only; weights_only loads it)
    RUN_DIR/weights.safetensors  the model at the last checkpoint, in the self-describing weights format
    RUN_DIR/best.safetensors     the model at the evaluation with the lowest validation estimate so far

Each event type is a dataclass below; ``encode`` writes one as a line, ``decode`` reads a line back and
refuses anything that is not a well-formed event (a ``Follower`` skips and counts such lines).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, get_type_hints

import torch

from engine.atomic import atomic_path
from engine.errors import ShakesError

METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.pt"
WEIGHTS = "weights.safetensors"
BEST_WEIGHTS = "best.safetensors"
NAN_OK = {"nan_ok": True}  # field metadata: a loss may be NaN or infinite; every other number is finite


# ---- the events ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    kind: ClassVar[str] = "start"
    model: str
    step: int  # 0 for a fresh run, the checkpoint's step for a resumed one
    params: int
    device: str
    config: dict  # the TrainConfig
    model_config: dict
    time: float | None = None  # seconds since the epoch, set by the writer


@dataclass(frozen=True)
class Train:
    kind: ClassVar[str] = "train"
    step: int
    loss: float = field(metadata=NAN_OK)  # mean training loss since the last train event
    lr: float
    chars_per_s: float
    elapsed: float  # training seconds so far
    time: float | None = None


@dataclass(frozen=True)
class Eval:
    kind: ClassVar[str] = "eval"
    step: int
    train_loss: float = field(metadata=NAN_OK)
    val_loss: float = field(metadata=NAN_OK)
    sample: str
    time: float | None = None


@dataclass(frozen=True)
class Checkpoint:
    kind: ClassVar[str] = "checkpoint"
    step: int
    path: str  # the weights file written with the checkpoint
    time: float | None = None


@dataclass(frozen=True)
class Finished:
    kind: ClassVar[str] = "finished"
    step: int
    reason: str  # done, max_steps, max_seconds, signal, ...
    elapsed: float
    val_loss: float | None = field(metadata=NAN_OK)  # the best validation estimate
    time: float | None = None


@dataclass(frozen=True)
class Failed:
    kind: ClassVar[str] = "failed"
    step: int
    reason: str
    time: float | None = None


Event = Start | Train | Eval | Checkpoint | Finished | Failed
EVENT_TYPES: dict[str, type] = {cls.kind: cls for cls in (Start, Train, Eval, Checkpoint, Finished, Failed)}
FINAL_EVENTS = (Finished, Failed)


def encode(event: Event) -> str:
    """One line of JSON (without the newline): time first, then the type, then the fields."""
    values = dataclasses.asdict(event)
    return json.dumps({"time": values.pop("time"), "type": event.kind, **values})


class BadLine(ValueError):
    """A line of a metrics file that is not a well-formed event."""


def decode(line: bytes | str) -> Event:
    """The event on one line; raises BadLine for anything else. Unknown extra keys are ignored."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        values = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadLine(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(values, dict):
        raise BadLine("not a JSON object")
    cls = EVENT_TYPES.get(values.get("type")) if isinstance(values.get("type"), str) else None
    if cls is None:
        raise BadLine(f"unknown event type {values.get('type')!r}")
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in values:
            if f.default is dataclasses.MISSING:
                raise BadLine(f"{cls.kind} event without {f.name}")
            continue
        kwargs[f.name] = _checked(cls.kind, f, hints[f.name], values[f.name])
    return cls(**kwargs)


_HINTS: dict[type, dict] = {}


def _hints(cls: type) -> dict:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _checked(kind: str, f: dataclasses.Field, hint, value):
    """value if it fits the field's type (an int is a fine float; a bool is neither), else BadLine."""
    optional = hint in (float | None, str | None)
    base = float if hint in (float, float | None) else hint
    if value is None and optional:
        return None
    if base is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) and not f.metadata.get("nan_ok"):
            raise BadLine(f"{kind}.{f.name} is {value}, not a finite number")
        return float(value)
    if base is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base in (str, dict) and isinstance(value, base):
        return value
    raise BadLine(f"{kind}.{f.name} is {value!r}, not {getattr(base, '__name__', base)}")


# ---- the directory ---------------------------------------------------------------------------------
def new_run_path(runs_dir: str | os.PathLike, model: str) -> Path:
    """Where a new run of ``model`` goes: RUNS_DIR/MODEL-YYYYmmdd-HHMMSS (nothing is created)."""
    return Path(runs_dir) / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"


class RunDir:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS

    @property
    def best_weights_path(self) -> Path:
        return self.path / BEST_WEIGHTS

    def holds_run(self) -> bool:
        return self.metrics_path.exists()

    def create(self) -> RunDir:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def append(self, event: Event) -> Event:
        """The one writer: stamp the time and append one line, written with a single call so a
        reader never sees half of it."""
        event = dataclasses.replace(event, time=round(time.time(), 3))
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(encode(event) + "\n")
            f.flush()
        return event

    def events(self) -> list[Event]:
        return Follower(self.path).read_new()

    def save_checkpoint(self, payload: dict) -> None:
        with atomic_path(self.checkpoint_path) as tmp:
            torch.save(payload, tmp)

    def load_checkpoint(self, map_location: str | torch.device = "cpu") -> dict:
        if not self.checkpoint_path.is_file():
            raise ShakesError(f"no checkpoint to resume in {self.path}")
        try:
            return torch.load(self.checkpoint_path, map_location=map_location, weights_only=True)
        except Exception as exc:  # a damaged file can raise many kinds of error
            raise ShakesError(f"{self.checkpoint_path}: unreadable checkpoint ({exc})") from None


# ---- the reader ------------------------------------------------------------------------------------
class Follower:
    """Reads the events appended to a run's metrics file (the file may not exist yet).

    A last line without its newline waits for the rest. A line that is not a well-formed event is
    skipped and counted in ``skipped``; ``take_warning`` says so once. Nothing here raises into a viewer.
    """

    def __init__(self, run_path: str | os.PathLike) -> None:
        self.path = RunDir(run_path).metrics_path
        self.offset, self.buffer = 0, b""
        self.skipped, self._warned = 0, False

    def read_new(self) -> list[Event]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        lines = (self.buffer + data).split(b"\n")
        self.buffer = lines.pop()  # an unfinished last line waits for the rest
        events = []
        for line in lines:
            if line.strip():
                try:
                    events.append(decode(line))
                except BadLine:
                    self.skipped += 1
        return events

    def take_warning(self) -> str | None:
        """A one-line notice the first time a line has been skipped; None before and after."""
        if self.skipped == 0 or self._warned:
            return None
        self._warned = True
        return f"{self.path}: skipped {self.skipped} unreadable line(s) (torn or not an event)"

    def batches(self, *, poll: float = 0.2, should_stop: Callable[[], bool] = lambda: False,
                until_final: bool = True) -> Iterator[list[Event]]:
        """Yield each non-empty batch of new events as it is written.

        Ends after a finished/failed event when ``until_final``, or once ``should_stop()`` is true;
        ``should_stop`` is asked before each read, so what was written before it turned true is read.
        """
        while True:
            stop = should_stop()
            events = self.read_new()
            if events:
                yield events
            if stop or (until_final and any(isinstance(e, FINAL_EVENTS) for e in events)):
                return
            if not events:
                time.sleep(poll)


def follow(run_path: str | os.PathLike, *, poll: float = 0.2, should_stop: Callable[[], bool] = lambda: False,
           until_final: bool = True) -> Iterator[Event]:
    """Yield a run's events one by one as they are appended (see Follower.batches)."""
    for batch in Follower(run_path).batches(poll=poll, should_stop=should_stop, until_final=until_final):
        yield from batch
