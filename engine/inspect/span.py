"""Memory span: how the loss depends on how far back a model may look, and how far back a change still matters.

(a) loss(k): each scored position t is predicted from the last k characters only. A recurrent model starts
    from its initial state k characters before t; a windowed model (Romeo) reads a window of k. Every k is scored
    on the same positions, so the differences between k are paired, not noise. ``unlimited``: the state
    carried from the start of the text (recurrent), the model's full window (windowed).
(b) influence(k): with the full context, the character at t-k is replaced by another and the mean KL
    divergence of the prediction at t from the unchanged one is taken. No state is ever reset here.

Batched by sharing: one run from start s, L characters long, predicts s+j+1 from exactly j+1 characters, so
(P + L) runs of length L give every (t, k) pair of (a); one run from s with the character at s replaced, started
from the true state before s, gives (b) for every t after s. No loop over positions runs in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.context import device_of, evaluating
from shakes_tui.engine.models import CharModel
from shakes_tui.engine.models.base import State
from shakes_tui.engine.models.transformer import RomeoState

GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
NEAR_UNLIMITED = 0.01  # nats: the span is the smallest k whose loss is this close to the unlimited loss
GONE = 0.001  # nats: influence below this is gone (an absolute level, so that the models part at different k)
FAR = 32  # characters back: the distance at which the summaries compare the models' influence
CHUNK = 1024  # characters per call when carrying a recurrent state through a long text

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class SpanSettings:
    positions: int = 2048  # scored positions for (a), the same for every k
    influence_positions: int = 512  # the first this many of them also score (b)
    offset: int = 4096  # the first scored position, in characters into the text (history for "unlimited")
    grid: tuple[int, ...] = GRID
    seed: int = 0  # picks the replacement characters of (b)
    batch: int = 64  # runs per forward call

    def characters_needed(self, reach: int) -> int:
        return self.offset + self.positions + reach + 1


@dataclass
class SpanResult:
    context: list[int]  # the k of each entry of loss and influence
    loss: np.ndarray  # (a): mean loss at each k, nats
    unlimited: float  # (a) with all the context the model can use
    influence: np.ndarray  # (b): mean KL at each k, nats
    positions: int
    influence_positions: int

    @property
    def span(self) -> int | None:
        """The smallest k whose loss is within 0.01 nats of the unlimited loss (None: none on the grid)."""
        return next((k for k, v in zip(self.context, self.loss, strict=True)
                     if v - self.unlimited <= NEAR_UNLIMITED), None)

    def gain_beyond(self, k: int = 16) -> float:
        return float(self.loss[self.context.index(k)] - self.unlimited)

    def influence_at(self, k: int = FAR) -> float:
        """The mean KL (nats) when the character k back is replaced (k on the grid)."""
        return float(self.influence[self.context.index(k)])

    @property
    def influence_gone_at(self) -> int | None:
        """The smallest k from which influence stays below GONE nats (None: not within the grid)."""
        above = [k for k, v in zip(self.context, self.influence, strict=True) if v >= GONE]
        if not above:
            return self.context[0]
        later = [k for k in self.context if k > above[-1]]
        return later[0] if later else None

    def to_json(self) -> dict:
        gain = self.gain_beyond(16) if 16 in self.context else None
        far = round(self.influence_at(FAR), 6) if FAR in self.context else None
        return {"context": self.context, "loss": _rounded(self.loss), "unlimited": round(self.unlimited, 4),
                "span": self.span, "gain_beyond_16": None if gain is None else round(gain, 4),
                "influence": _rounded(self.influence, 6), f"influence_at_{FAR}": far,
                "influence_gone_at": self.influence_gone_at, "influence_gone_below": GONE,
                "positions": self.positions, "influence_positions": self.influence_positions}

    @classmethod
    def from_json(cls, values: dict) -> SpanResult:
        return cls(values["context"], np.array(values["loss"]), values["unlimited"], np.array(values["influence"]),
                   values["positions"], values["influence_positions"])


def _rounded(values: np.ndarray, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]


def memory_span(model: CharModel, ids: torch.Tensor, settings: SpanSettings | None = None,
                progress: Progress | None = None) -> SpanResult:
    """Both curves for ``model`` on the character ids ``ids`` (a validation split)."""
    s = settings or SpanSettings()
    limit = model.max_context()
    grid = list(s.grid)
    reach = max(grid) if limit is None else limit  # run length; a window never exceeds the model's
    _check(s, ids, reach, limit)
    ids = ids.to(device_of(model))
    steps = _Steps(progress, _count_chunks(s, reach, grid, limit))
    with evaluating(model):
        nll = _reset_losses(model, ids, s, reach, steps)  # (runs, reach)
        t = torch.arange(s.offset, s.offset + s.positions, device=ids.device)
        loss = np.array([_mean_at(nll, t, min(k, reach), s.offset - reach) for k in grid])
        if limit is None:
            base = _carried_log_probs(model, ids[:s.offset + s.positions])[s.offset - 1:]  # (P, V)
            unlimited = float(-base.gather(1, ids[t, None]).mean())
            influence = _recurrent_influence(model, ids, s, grid, base, steps)
        else:
            unlimited = _mean_at(nll, t, limit, s.offset - reach)
            influence = _windowed_influence(model, ids, s, grid, limit, steps)
    return SpanResult(grid, loss, unlimited, influence, s.positions, s.influence_positions)


def _check(s: SpanSettings, ids: torch.Tensor, reach: int, limit: int | None) -> None:
    if s.offset <= reach:
        raise ShakesError(f"the first scored position ({s.offset}) must come after {reach} characters of history")
    if not 0 < s.influence_positions <= s.positions:
        raise ShakesError("influence positions must be between 1 and the number of scored positions")
    if ids.numel() < s.characters_needed(reach):
        raise ShakesError(f"the text is too short for this span measurement: {ids.numel():,} characters, "
                          f"{s.characters_needed(reach):,} needed (fewer --positions?)")


class _Steps:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)


def _count_chunks(s: SpanSettings, reach: int, grid: list[int], limit: int | None) -> int:
    runs = -(-(s.positions + reach) // s.batch)
    if limit is None:
        return runs + -(-(s.influence_positions + max(grid) - 1) // s.batch)
    return runs + -(-s.influence_positions // s.batch)


def _reset_losses(model: CharModel, ids: torch.Tensor, s: SpanSettings, reach: int, steps: _Steps) -> torch.Tensor:
    """nll[r, j]: loss of character start_r + j + 1 read from start_r onward only, start_r = offset - reach + r."""
    first = s.offset - reach
    windows = ids.unfold(0, reach + 1, 1)[first:s.offset + s.positions]  # (runs, reach + 1)
    out = []
    for chunk in windows.split(s.batch):
        x, y = chunk[:, :-1], chunk[:, 1:]
        logits = model(x, targets=y)[0]
        out.append(F.cross_entropy(logits.transpose(1, 2).float(), y, reduction="none"))
        steps()
    return torch.cat(out)


def _mean_at(nll: torch.Tensor, t: torch.Tensor, k: int, first: int) -> float:
    """Mean loss of positions t read from exactly k characters: run t - k, column k - 1."""
    return float(nll[t - k - first, k - 1].mean())


def _carried_log_probs(model: CharModel, ids: torch.Tensor) -> torch.Tensor:
    """(T-1, V): each next character's log-probabilities with the state carried from the start."""
    out, state = [], None
    for start in range(0, ids.numel() - 1, CHUNK):
        x = ids[start:min(start + CHUNK, ids.numel() - 1)]
        logits, _, state = model(x[None], state=state)
        out.append(F.log_softmax(logits[0].float(), dim=-1))
    return torch.cat(out)


def replacements(ids: torch.Tensor, seed: int) -> torch.Tensor:
    """For every position, another character drawn by the text's own character frequencies."""
    g = torch.Generator().manual_seed(seed)
    original = pool = ids.cpu()
    out = pool[torch.randint(pool.numel(), (pool.numel(),), generator=g)]
    for _ in range(100):
        same = out == original
        if not same.any():
            break
        out[same] = pool[torch.randint(pool.numel(), (int(same.sum()),), generator=g)]
    same = out == original  # a text of (nearly) one character: take the next id
    out[same] = (original[same] + 1) % (int(pool.max()) + 1)
    return out.to(ids.device)


def _kl(p_log: torch.Tensor, q_log: torch.Tensor) -> torch.Tensor:
    """KL(p || q) per row, from log-probabilities (never below 0: a negative sum is rounding, as KL >= 0)."""
    return (p_log.exp() * (p_log - q_log)).sum(-1).clamp_min(0.0)


def _recurrent_influence(model: CharModel, ids: torch.Tensor, s: SpanSettings, grid: list[int],
                         base: torch.Tensor, steps: _Steps) -> np.ndarray:
    """Runs from each start with its character replaced, from the true carried state before it."""
    reach, n = max(grid), s.influence_positions
    first = s.offset - reach
    starts = torch.arange(first, s.offset + n - 1, device=ids.device)
    states = _states_before(model, ids, first, s.offset + n - 1)
    swapped = replacements(ids, s.seed)[first:s.offset + n - 1]
    windows = ids.unfold(0, reach, 1)[first:s.offset + n - 1].clone()  # (runs, reach)
    windows[:, 0] = swapped
    total = torch.zeros(len(grid), dtype=torch.float64)
    for chunk in torch.arange(starts.numel()).split(s.batch):
        state = _cat_states([states[i] for i in chunk.tolist()])
        q = F.log_softmax(model(windows[chunk.to(ids.device)], state=state)[0].float(), dim=-1)  # (b, reach, V)
        for gi, k in enumerate(grid):
            t = starts[chunk] + k  # predicted position after reading k characters from the start
            keep = (t >= s.offset) & (t < s.offset + n)
            if keep.any():
                total[gi] += _kl(base[t[keep] - s.offset], q[keep, k - 1]).sum().item()
        steps()
    return (total / n).numpy()


def _states_before(model: CharModel, ids: torch.Tensor, first: int, end: int) -> list[State]:
    """The carried state just before each position first..end-1 (a step at a time from first)."""
    state = None
    for start in range(0, first, CHUNK):
        state = model(ids[None, start:min(start + CHUNK, first)], state=state)[2]
    states = []
    for pos in range(first, end):
        states.append(state)
        state = model(ids[None, pos:pos + 1], state=state)[2]
    return states


def _cat_states(states: list[State]) -> State:
    """Join states of batch 1 along the batch dimension (dim 1 in torch.nn's (layers, batch, hidden))."""
    if isinstance(states[0], torch.Tensor):
        return torch.cat(states, dim=1)
    return type(states[0])(_cat_states(list(parts)) for parts in zip(*states, strict=True))


def _windowed_influence(model: CharModel, ids: torch.Tensor, s: SpanSettings, grid: list[int],
                        window: int, steps: _Steps) -> np.ndarray:
    """Per position, its full window once; then each replaced suffix re-read against the cached prefix."""
    n = s.influence_positions
    t_all = torch.arange(s.offset, s.offset + n, device=ids.device)
    swapped = replacements(ids, s.seed)
    total = torch.zeros(len(grid), dtype=torch.float64)
    offsets = torch.arange(-window, 0, device=ids.device)
    for t in t_all.split(s.batch):
        x = ids[t[:, None] + offsets]  # (b, window): the characters before each t
        logits, _, state = model(x)
        p = F.log_softmax(logits[:, -1].float(), dim=-1)
        for gi, k in enumerate(grid):
            if k <= window:
                total[gi] += _kl(p, _replaced_suffix(model, x, state, k, swapped[t - k])).sum().item()
        steps()
    return (total / n).numpy()


def _replaced_suffix(model: CharModel, x: torch.Tensor, state, k: int, swapped: torch.Tensor) -> torch.Tensor:
    """Log-probabilities after x (b, W) with x[:, W-k] replaced, re-reading only the last k characters."""
    cut = x.size(1) - k
    if not isinstance(state, RomeoState):  # a windowed model without a prefix cache: the whole window again
        replaced = x.clone()
        replaced[:, cut] = swapped
        return F.log_softmax(model(replaced)[0][:, -1].float(), dim=-1)
    suffix = x[:, cut:].clone()
    suffix[:, 0] = swapped
    prefix = RomeoState(x[:, :cut], [(kb.clone(), vb.clone()) for kb, vb in state.kv])
    return F.log_softmax(model(suffix, state=prefix)[0][:, -1].float(), dim=-1)
