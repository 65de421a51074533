"""Cells that track something (Karpathy, Johnson and Fei-Fei 2015; LSTMVis): every unit of a recurrent model (each
layer's hidden state h, and an LSTM's cell state c) ranked by how closely it follows a simple feature of the text.

A feature is a number per character of the text, describing the text up to and including that character: the unit
is read after the model has read the same character. Closeness is Pearson's correlation over the text; a unit
whose correlation is strongly negative tracks the feature as well as one strongly positive, so units are ranked by
its size and reported with its sign.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.context import encode_text
from shakes_tui.engine.models import CharModel

SPEAKER_LINE = re.compile(r"^[A-Z][A-Za-z' ]*:$", flags=re.M)  # "ROMEO:", "First Citizen:", "LADY CAPULET:"
STATE_NAMES = {"c": "cell state", "h": "hidden state"}


def inside_quotes(text: str) -> np.ndarray:
    """1 from an opening double quote up to (not including) its closing one."""
    out, inside = np.zeros(len(text)), False
    for t, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        out[t] = inside
    return out


def inside_brackets(text: str) -> np.ndarray:
    """1 from an opening bracket, ( [ or {, up to (not including) the one that closes it."""
    out, depth = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth:
            depth -= 1
        out[t] = depth > 0
    return out


def position_in_line(text: str) -> np.ndarray:
    """How many characters since the last line break (0 at the break itself)."""
    out, column = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        column = 0 if ch == "\n" else column + 1
        out[t] = column
    return out


def speaker_name_line(text: str) -> np.ndarray:
    """1 on the characters of a line that names a speaker ("ROMEO:"), its line break not included."""
    out = np.zeros(len(text))
    for m in SPEAKER_LINE.finditer(text):
        out[m.start():m.end()] = 1
    return out


def word_start(text: str) -> np.ndarray:
    """1 on a letter that follows a character that is not one."""
    return np.array([ch.isalpha() and (t == 0 or not text[t - 1].isalpha()) for t, ch in enumerate(text)], float)


def after_sentence_end(text: str) -> np.ndarray:
    """1 on a . ! or ? and the spaces and line breaks after it, until the next character that is neither."""
    out, ended = np.zeros(len(text)), False
    for t, ch in enumerate(text):
        if ch in ".!?":
            ended = True
        elif not ch.isspace():
            ended = False
        out[t] = ended
    return out


FEATURES: dict[str, Callable[[str], np.ndarray]] = {  # those Shakespeare's text holds first: it has no quotes
    "position in line": position_in_line, "speaker name line": speaker_name_line, "word start": word_start,
    "after sentence end": after_sentence_end, "inside quotes": inside_quotes, "inside brackets": inside_brackets,
}


@dataclass(frozen=True)
class Cell:
    """One unit, numbered from 1 as the app shows it, and how it follows a feature."""

    state: str  # "c" or "h"
    layer: int  # from 1
    unit: int  # from 1
    correlation: float

    def to_json(self) -> dict:
        return {"state": self.state, "layer": self.layer, "unit": self.unit, "correlation": round(self.correlation, 4)}


@dataclass
class CellRanking:
    """For each feature the best units, or why there are none (the feature never changes in the text)."""

    chars: int
    best: dict[str, list[Cell]]
    absent: dict[str, str]  # feature -> why it could not be ranked

    def to_json(self) -> dict:
        return {"chars": self.chars, "best": {f: [c.to_json() for c in cells] for f, cells in self.best.items()},
                "absent": self.absent}


def unit_states(model: CharModel, ids: torch.Tensor) -> dict[str, np.ndarray]:
    """The states whose units are ranked, each (T, layers, units): an LSTM's cell state c and hidden state h, an
    RNN's hidden state h; read from the learned initial state."""
    if not model.is_recurrent:
        raise ShakesError("cells ranks the units of a recurrent model (Benvolio, Mercutio): Romeo has no state "
                          "carried from character to character")
    if model.has_gates:
        trace = model.trace(ids)
        return {"c": trace["c"], "h": trace["h"]}
    return {"h": model.hidden_states(ids)}


def rank_units(states: dict[str, np.ndarray], text: str, top: int = 3,
               features: dict[str, Callable[[str], np.ndarray]] = FEATURES) -> CellRanking:
    """Every unit of every state against every feature of text (as long as the states' first axis)."""
    names = [(s, layer, unit) for s, a in states.items() for layer in range(a.shape[1]) for unit in range(a.shape[2])]
    acts = np.concatenate([a.reshape(a.shape[0], -1) for a in states.values()], axis=1).astype(np.float64)
    acts = acts - acts.mean(0)
    spread = np.sqrt((acts ** 2).sum(0))
    best, absent = {}, {}
    for name, feature in features.items():
        raw = feature(text)
        f = raw - raw.mean()
        if not np.any(f):
            absent[name] = "does not occur in this text" if not np.any(raw) else "never changes in this text"
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(spread > 0, acts.T @ f / (spread * np.sqrt((f ** 2).sum())), 0.0)
        order = np.argsort(-np.abs(r), kind="stable")[:top]
        best[name] = [Cell(names[i][0], names[i][1] + 1, names[i][2] + 1, float(r[i])) for i in order]
    return CellRanking(len(text), best, absent)


def cells(model: CharModel, vocab: Vocab, text: str, top: int = 3) -> CellRanking:
    ids, kept = encode_text(vocab, text)
    ranking = rank_units(unit_states(model, ids), kept, top)
    for name in ranking.absent:
        if np.any(FEATURES[name](text)):  # there in the text, but not in what the model reads
            ranking.absent[name] = "its characters are not in the model's vocabulary (dropped as it reads)"
    return ranking
