"""The run directory: the one contract between a trainer and whoever watches it.

    RUN_DIR/metrics.jsonl        one JSON event per line, append-only
    RUN_DIR/checkpoint.pt        everything needed to resume exactly (tensors only; weights_only loads it)
    RUN_DIR/weights.safetensors  the model at the last checkpoint, in the self-describing weights format
    RUN_DIR/best.safetensors     the model at the evaluation with the lowest validation estimate so far

Event types: start, train, eval, checkpoint, finished, failed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from engine.atomic import atomic_path
from engine.errors import ShakesError

METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.pt"
WEIGHTS = "weights.safetensors"
BEST_WEIGHTS = "best.safetensors"
FINAL_EVENTS = ("finished", "failed")


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

    def create(self) -> RunDir:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def append(self, event: dict) -> dict:
        """Append one event; a line is written with a single call so readers never see half of it."""
        event = {"time": round(time.time(), 3), **event}
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
            f.flush()
        return event

    def events(self) -> list[dict]:
        return EventReader(self.metrics_path).read_new()

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


class EventReader:
    """Reads the events appended to a metrics file since the last call; tolerant of partial lines."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.offset = 0
        self.buffer = b""

    def read_new(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        lines = (self.buffer + data).split(b"\n")
        self.buffer = lines.pop()  # an unfinished last line waits for the rest
        events = []
        for line in lines:
            if line.strip():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a damaged line is skipped, not fatal
        return events


def follow(path: str | os.PathLike, *, poll: float = 0.2, should_stop: Callable[[], bool] = lambda: False,
           until_final: bool = True) -> Iterator[dict]:
    """Yield events from a run's metrics file as they are appended (the file may not exist yet).

    Stops after a finished/failed event when ``until_final``, or when ``should_stop()`` is true.
    """
    path = Path(path)
    reader = EventReader(path / METRICS if path.is_dir() or not path.suffix else path)
    while not should_stop():
        events = reader.read_new()
        yield from events
        if until_final and any(e.get("type") in FINAL_EVENTS for e in events):
            return
        if not events:
            time.sleep(poll)
