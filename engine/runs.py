"""The run directory: the one contract between a trainer and whoever watches it.

    RUN_DIR/metrics.jsonl        one JSON event per line, append-only
    RUN_DIR/checkpoint.pt        everything needed to resume exactly (tensors only; weights_only loads it)
    RUN_DIR/weights.safetensors  the model at the last checkpoint, in the self-describing weights format
    RUN_DIR/best.safetensors     the model at the evaluation with the lowest validation estimate so far

Each event type is a dataclass below; ``encode`` writes one as a line, ``decode`` reads a line back and
refuses anything that is not a well-formed event (a ``Follower`` skips and counts such lines). A file from
elsewhere is held to the contract: every number finite and within its field's range, every string bounded
(a sample is cut to SAMPLE_CHARS), every line at most MAX_LINE_BYTES, and the file a regular one.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import stat
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
# What one event may hold. A number field's metadata may narrow its range (default NUMBERS); a string field's
# may say to cut it (a sample), else a string longer than TEXT_CHARS refuses the line.
NUMBERS = (0, 10**15)  # steps, seconds, counts, rates: none is negative or beyond a machine's lifetime
LOSS = {"range": (0, 1e6)}  # nats per character: ln(vocabulary) at the start, a few hundred at a model's worst
SAMPLE_CHARS = 4000  # a validation sample is a few hundred characters; a longer one is cut on reading
TEXT_CHARS = 4096  # a model name, a device, a path, a reason
MAX_LINE_BYTES = 64 << 20  # a longer line is skipped unread (and counted)
READ_BYTES = 1 << 20  # a follower reads at most this much at a time, so a long history comes in chunks


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
    # processes training it together (torchrun); only rank 0 writes the run
    world_size: int = field(default=1, metadata={"range": (1, 10**6)})
    compiled: bool = False  # trained through torch.compile (--compile on CUDA)
    time: float | None = None  # seconds since the epoch, set by the writer


@dataclass(frozen=True)
class Train:
    kind: ClassVar[str] = "train"
    step: int
    loss: float = field(metadata=LOSS)  # mean training loss since the last train event
    lr: float
    chars_per_s: float
    elapsed: float  # the run's seconds so far (evaluations and checkpoints included)
    time: float | None = None


@dataclass(frozen=True)
class Eval:
    kind: ClassVar[str] = "eval"
    step: int
    train_loss: float = field(metadata=LOSS)
    val_loss: float = field(metadata=LOSS)
    sample: str = field(metadata={"cut": SAMPLE_CHARS})
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
    val_loss: float | None = field(metadata=LOSS)  # the best validation estimate
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
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
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
    """value if it fits the field's type (an int is a fine float; a bool is neither) and its bounds, else
    BadLine: numbers finite and within the field's range, strings cut (a sample) or at most TEXT_CHARS."""
    optional = hint in (float | None, str | None, int | None)
    base = {float | None: float, str | None: str, int | None: int}.get(hint, hint)
    name = f"{kind}.{f.name}"
    if value is None and optional:
        return None
    if base in (float, int) and isinstance(value, base | int) and not isinstance(value, bool):
        lo, hi = f.metadata.get("range", NUMBERS)
        if not ((isinstance(value, int) or math.isfinite(value)) and lo <= value <= hi):  # (10**400 overflows a float)
            raise BadLine(f"{name} is {_short(value)}, not a number from {lo:g} to {hi:g}")
        return float(value) if base is float else value
    if base is str and isinstance(value, str):
        if "cut" in f.metadata:
            return value[: f.metadata["cut"]]
        if len(value) > TEXT_CHARS:
            raise BadLine(f"{name} is {len(value):,} characters long, more than {TEXT_CHARS:,}")
        return value
    if base in (dict, bool) and isinstance(value, base):
        return value
    raise BadLine(f"{name} is {_short(value)}, not {getattr(base, '__name__', base)}")


def _short(value) -> str:
    """A value for a message, never longer than a line (a 10**30 step, a long string)."""
    if isinstance(value, int) and abs(value) >= 10**15:  # (float() would overflow beyond 1e308)
        return f"{'-' if value < 0 else ''}about 1e+{math.floor(math.log10(abs(value)))}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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

    def metrics_kind(self) -> str | None:
        """What the metrics file is when it is there and not a regular file ('a FIFO', which would hang a reader);
        None for a regular file, or none written yet."""
        try:
            return not_regular(self.metrics_path.stat().st_mode)
        except OSError:
            return None

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
        return Follower(self.path).read_all()

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
def not_regular(mode: int) -> str | None:
    """What a file of this st_mode is when it is not a regular file ('a FIFO', ...); None for a regular one."""
    if stat.S_ISREG(mode):
        return None
    kinds = [(stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]
    return next((words for test, words in kinds if test(mode)), "not a plain file")


class Follower:
    """Reads the events appended to a run's metrics file (the file may not exist yet), at most READ_BYTES
    at a time (``at_end`` says whether the last read reached the end of the file).

    A last line without its newline waits for the rest. A line that is not a well-formed event, or is longer
    than MAX_LINE_BYTES, is skipped and counted in ``skipped``. A path that is not a regular file (a FIFO,
    which would block the reader) is never read: ``refused`` says why. ``take_warning`` says each once.
    Nothing here raises into a viewer.
    """

    def __init__(self, run_path: str | os.PathLike) -> None:
        self.path = RunDir(run_path).metrics_path
        self.offset, self.buffer, self.at_end = 0, bytearray(), True
        self.skipped, self.refused = 0, None
        self._dropping = False  # inside a line longer than MAX_LINE_BYTES: what remains of it is thrown away
        self._said: set[str] = set()

    def read_new(self, max_bytes: int = READ_BYTES) -> list[Event]:
        """The events completed by the next ``max_bytes`` of the file."""
        data = self._read(max_bytes)
        self.at_end = len(data) < max_bytes
        self.offset += len(data)
        return self._events_in(data)

    def read_all(self) -> list[Event]:
        """Every event written so far."""
        events = self.read_new()
        while not self.at_end:
            events += self.read_new()
        return events

    def _read(self, max_bytes: int) -> bytes:
        if self.refused:
            return b""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO's open must not block
        except OSError:
            return b""
        try:
            kind = not_regular(os.fstat(fd).st_mode)
            if kind:
                self.refused = f"{self.path} is {kind}, not a regular file: not read"
                return b""
            os.lseek(fd, self.offset, os.SEEK_SET)
            return os.read(fd, max_bytes)
        except OSError:
            return b""
        finally:
            os.close(fd)

    def _events_in(self, data: bytes) -> list[Event]:
        events, start = [], 0
        while (end := data.find(b"\n", start)) >= 0:
            piece, start = data[start:end], end + 1
            if self._dropping:  # the end of an over-long line, counted when it was dropped
                self._dropping = False
                continue
            line = bytes(self.buffer) + piece if self.buffer else piece
            self.buffer.clear()
            if len(line) > MAX_LINE_BYTES:
                self.skipped += 1
            elif line.strip():
                try:
                    events.append(decode(line))
                except BadLine:
                    self.skipped += 1
        if not self._dropping:
            self.buffer += data[start:]  # an unfinished last line waits for the rest
            if len(self.buffer) > MAX_LINE_BYTES:
                self.buffer.clear()
                self._dropping, self.skipped = True, self.skipped + 1
        return events

    def take_warning(self) -> str | None:
        """A one-line notice the first time the file is refused, or a line has been skipped; else None."""
        skipped = f"{self.path}: skipped {self.skipped} unreadable line(s) (torn, too big or not an event)"
        for kind, notice in (("refused", self.refused), ("skipped", self.skipped and skipped)):
            if notice and kind not in self._said:
                self._said.add(kind)
                return notice
        return None

    def batches(self, *, poll: float = 0.2, should_stop: Callable[[], bool] = lambda: False,
                until_final: bool = True) -> Iterator[list[Event]]:
        """Yield each non-empty batch of new events as it is written (a long history in chunks).

        Ends after a finished/failed event when ``until_final``, once ``should_stop()`` is true, or when the
        file is refused; ``should_stop`` is asked before each read, so what was written before it turned
        true is read.
        """
        stop = False
        while True:
            stop = stop or should_stop()
            events = self.read_new()
            if events:
                yield events
            if self.refused or (stop and self.at_end) or (
                    until_final and any(isinstance(e, FINAL_EVENTS) for e in events)):
                return
            if self.at_end and not events:
                time.sleep(poll)


def follow(run_path: str | os.PathLike, *, poll: float = 0.2, should_stop: Callable[[], bool] = lambda: False,
           until_final: bool = True) -> Iterator[Event]:
    """Yield a run's events one by one as they are appended (see Follower.batches)."""
    for batch in Follower(run_path).batches(poll=poll, should_stop=should_stop, until_final=until_final):
        yield from batch
