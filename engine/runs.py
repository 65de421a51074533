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
import errno
import json
import math
import os
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, get_type_hints

import torch
from shakes_tui.engine.atomic import atomic_path
from shakes_tui.engine.errors import ShakesError

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
    data_path: str | None = None  # the training text, as found (a resume reads it again) ...
    data_sha256: str | None = None  # ... and its checksum (a resume refuses a text that differs)
    pid: int | None = None  # the trainer's process (the app tells a run left running from a live one)
    world_size: int = 1  # processes training it together (torchrun); only rank 0 writes the run
    compiled: bool = False  # trained through torch.compile (--compile on CUDA)
    time: float | None = None  # seconds since the epoch, set by the writer


@dataclass(frozen=True)
class Train:
    kind: ClassVar[str] = "train"
    step: int
    loss: float = field(metadata=NAN_OK)  # mean training loss since the last train event
    lr: float
    chars_per_s: float
    elapsed: float  # the run's seconds so far (evaluations and checkpoints included)
    time: float | None = None


@dataclass(frozen=True)
class Eval:
    kind: ClassVar[str] = "eval"
    step: int
    train_loss: float = field(metadata=NAN_OK)
    val_loss: float = field(metadata=NAN_OK)
    sample: str
    seconds: float | None = None  # how long this evaluation took (counted in the run's elapsed time)
    elapsed: float | None = None  # the run's seconds so far, this evaluation included
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
    elapsed: float  # the whole run's seconds: training, evaluations and checkpoints
    val_loss: float | None = field(metadata=NAN_OK)  # the best validation estimate
    eval_seconds: float | None = None  # how many of them went to evaluations
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
    optional = hint in (float | None, str | None, int | None)
    base = {float | None: float, str | None: str, int | None: int}.get(hint, hint)
    if value is None and optional:
        return None
    if base is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) and not f.metadata.get("nan_ok"):
            raise BadLine(f"{kind}.{f.name} is {value}, not a finite number")
        return float(value)
    if base is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base in (str, dict, bool) and isinstance(value, base):
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
        reader never sees half of it. A file that does not end in a newline (a line torn by a crash)
        gets one first, so the torn line stays alone and this event stays whole."""
        event = dataclasses.replace(event, time=round(time.time(), 3))
        line = (encode(event) + "\n").encode("utf-8")
        f = self._writer()
        if f.seek(0, os.SEEK_END) > 0 and (f.seek(-1, os.SEEK_END), f.read(1))[1] != b"\n":
            line = b"\n" + line
        f.write(line)
        f.flush()
        return event

    def _writer(self):
        """The metrics file, held open; OSError if the path no longer leads to it (the run folder was
        deleted or replaced while training): better to stop than to write into a stranger's folder."""
        if getattr(self, "_file", None) is None:
            self._file = open(self.metrics_path, "a+b")  # noqa: SIM115 (held for the writer's life)
            weakref.finalize(self, self._file.close)
        held = os.fstat(self._file.fileno())
        try:
            now = os.stat(self.metrics_path)
        except FileNotFoundError:
            now = None
        if now is None or (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            raise OSError(errno.ENOENT, "the run folder was deleted or replaced while training",
                          str(self.metrics_path))
        return self._file

    def events(self) -> list[Event]:
        return Follower(self.path).read_new()

    def save_checkpoint(self, payload: dict) -> None:
        with atomic_path(self.checkpoint_path) as tmp:
            try:
                torch.save(payload, tmp)
            except RuntimeError as exc:  # torch's zip writer reports a failed write (disk full, EFBIG) so
                raise OSError(errno.EIO, str(exc).strip().splitlines()[0], str(self.checkpoint_path)) from None

    def load_checkpoint(self, map_location: str | torch.device = "cpu") -> dict:
        if not self.checkpoint_path.is_file():
            raise ShakesError(f"no checkpoint to resume in {self.path}")
        try:
            return torch.load(self.checkpoint_path, map_location=map_location, weights_only=True)
        except Exception:  # a damaged or foreign file can raise many kinds of error; torch's text would
            # suggest unpickling it (weights_only=False), which must never be done with a stranger's file
            raise ShakesError(f"{self.checkpoint_path}: not a checkpoint this program wrote (damaged, or not "
                              "ours); it was not loaded") from None


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
