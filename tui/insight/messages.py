"""What the Insight workers post. Results carry the text they were measured on, so a stale one can be told."""

from __future__ import annotations

from dataclasses import dataclass, field

from shakes_tui.engine.inspect.attention import Attention
from shakes_tui.engine.inspect.compare import Comparison
from shakes_tui.engine.inspect.copying import Copying
from shakes_tui.engine.inspect.saturation import Saturation
from shakes_tui.engine.inspect.span import SpanResult
from shakes_tui.engine.inspect.surprise import Surprise
from textual.message import Message


@dataclass
class SurpriseReady(Message):
    results: dict[str, Surprise]  # model name -> its surprise over the text
    errors: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # model name -> whose weights were measured


@dataclass
class SpanProgress(Message):
    model: str
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SpanProgress) and message.model == self.model


@dataclass
class SpanReady(Message):
    model: str
    result: SpanResult | None
    error: str | None = None


@dataclass
class AttentionReady(Message):
    attention: Attention | None
    error: str | None = None


@dataclass
class SaturationReady(Message):
    saturation: Saturation | None
    model: str = ""  # the model with gates it was measured on
    source: str = ""  # where its weights came from
    error: str | None = None


@dataclass
class CompareReady(Message):
    text_a: str  # the texts it was measured on
    text_b: str
    results: dict[str, Comparison]  # model name -> its comparison
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class CopyingReady(Message):
    model: str
    round_no: int  # the generation round it belongs to
    copying: Copying
