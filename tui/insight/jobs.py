"""The Insight tab's thread workers: each measures, checks for cancellation, and only posts a message."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
from shakes_tui.engine.atomic import atomic_path
from shakes_tui.engine.data.corpus import TRAIN_FRACTION, cache_dir, find_corpus, read_text
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.attention import attention
from shakes_tui.engine.inspect.compare import compare
from shakes_tui.engine.inspect.copying import CopyIndex
from shakes_tui.engine.inspect.saturation import saturation
from shakes_tui.engine.inspect.span import SpanResult, SpanSettings, memory_span
from shakes_tui.engine.inspect.surprise import surprise
from shakes_tui.tui.bank import Slot
from shakes_tui.tui.insight.messages import (
    AttentionReady,
    CompareReady,
    CopyingReady,
    SaturationReady,
    SpanProgress,
    SpanReady,
    SurpriseReady,
)
from shakes_tui.tui.workers import lower_priority
from textual.message import Message
from textual.worker import get_current_worker

Post = Callable[[Message], object]
APP_SPAN = SpanSettings(positions=512, influence_positions=128)  # shakes-inspect span measures 2,048 and 512


class Corpus:
    """The training text, found once (never downloaded from here), and its copy index, built once."""

    def __init__(self, data: str | None) -> None:
        self.data = data
        self._lock = threading.Lock()
        self._text: str | None = None
        self._index: CopyIndex | None = None

    def text(self) -> str:
        with self._lock:
            if self._text is None:
                self._text = read_text(find_corpus(self.data, download=False))
            return self._text

    def split(self) -> tuple[str, str]:
        text = self.text()
        n_train = int(len(text) * TRAIN_FRACTION)
        return text[:n_train], text[n_train:]

    def index(self) -> CopyIndex:
        train = self.split()[0]
        with self._lock:
            if self._index is None:
                self._index = CopyIndex(train)
            return self._index

    def passage(self, chars: int = 400) -> str:
        """A passage of the validation split: from its first line break after 1,000 characters."""
        val = self.split()[1]
        start = val.find("\n", 1000) + 1
        return val[start:start + chars]


def each_model(slots: list[Slot], measure: Callable) -> tuple[dict, dict] | None:
    """measure(model, vocab) for every slot: (results, errors) by model name, an error where a model has no weights
    or its measure refuses; None when the worker was cancelled on the way."""
    results, errors = {}, {}
    for slot in slots:
        if get_current_worker().is_cancelled:
            return None
        if slot.loaded is None:
            errors[slot.name] = slot.error or "not loaded"
            continue
        try:
            results[slot.name] = measure(slot.loaded.model, slot.loaded.vocab)
        except ShakesError as exc:
            errors[slot.name] = str(exc)
    return results, errors


def measure_surprise(post: Post, slots: list[Slot], text: str) -> None:
    lower_priority()
    if (measured := each_model(slots, lambda model, vocab: surprise(model, vocab, text))) is not None:
        post(SurpriseReady(*measured, {slot.name: slot.source for slot in slots}))


def measure_compare(post: Post, slots: list[Slot], text_a: str, text_b: str) -> None:
    lower_priority()
    if (measured := each_model(slots, lambda model, vocab: compare(model, vocab, text_a, text_b))) is not None:
        post(CompareReady(text_a, text_b, *measured))


def measure_attention(post: Post, slot: Slot, text: str) -> None:
    lower_priority()
    try:
        post(AttentionReady(attention(slot.loaded.model, slot.loaded.vocab, text)))
    except ShakesError as exc:
        post(AttentionReady(None, str(exc)))


def measure_saturation(post: Post, slot: Slot, text: str) -> None:
    lower_priority()
    try:
        post(SaturationReady(saturation(slot.loaded.model, slot.loaded.vocab, text), slot.name, slot.source))
    except ShakesError as exc:
        post(SaturationReady(None, slot.name, error=str(exc)))


def measure_span(post: Post, slots: list[Slot], corpus: Corpus, settings: SpanSettings = APP_SPAN) -> None:
    """The span curves of each model in turn (one at a time: they are heavy), from the disk cache when these
    weights were measured before."""
    lower_priority()
    worker = get_current_worker()
    for slot in slots:
        def progress(done: int, total: int, name: str = slot.name) -> None:
            if worker.is_cancelled:
                raise _Cancelled
            post(SpanProgress(name, done, total))

        try:
            post(SpanReady(slot.name, span_of(slot, corpus, settings, progress)))
        except _Cancelled:
            return
        except ShakesError as exc:
            post(SpanReady(slot.name, None, str(exc)))


def span_of(slot: Slot, corpus: Corpus, settings: SpanSettings, progress) -> SpanResult:
    cache = span_cache_path(slot.loaded.path, settings)
    result = load_cached_span(cache)
    if result is None:
        ids = torch.tensor(slot.loaded.vocab.encode(corpus.split()[1]))
        result = memory_span(slot.loaded.model, ids, settings, progress)
        save_cached_span(cache, result)
    return result


class _Cancelled(Exception):
    pass


def span_cache_path(weights: Path | None, settings: SpanSettings) -> Path | None:
    """One file per weights file (by content) and settings, under the user's cache."""
    if weights is None:
        return None
    digest = hashlib.sha256(Path(weights).read_bytes())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    return cache_dir() / "span" / f"{digest.hexdigest()[:24]}.json"


def load_cached_span(path: Path | None) -> SpanResult | None:
    try:
        return SpanResult.from_json(json.loads(path.read_text()))
    except (AttributeError, OSError, ValueError, KeyError, TypeError):
        return None  # none yet, or unreadable: measure again


def save_cached_span(path: Path | None, result: SpanResult) -> None:
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(result.to_json()))


def check_copying(post: Post, corpus: Corpus, model: str, round_no: int, text: str) -> None:
    lower_priority()
    try:
        index = corpus.index()
    except ShakesError:
        return  # no training text at hand: the titles stay as they are
    if not get_current_worker().is_cancelled:
        post(CopyingReady(model, round_no, index.check(text)))
