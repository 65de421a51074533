"""Speculative sampling: a small recurrent model drafts, Romeo checks several drafts in one pass.

At batch 1 every Romeo step reads all its weights for one character. Here Benvolio (a tenth of the
bytes) drafts k characters, Romeo scores the pending character and the k drafts in one forward, and
each draft x is kept with probability min(1, p(x) / q(x)), p being Romeo's sampling distribution and q
the draft's. At the first rejection the character is drawn from max(p - q, 0), renormalised; if all k
are kept, one more is drawn from p. Whatever q is, every character is distributed exactly as Romeo's
own sampling would draw it (Leviathan et al. 2023; Chen et al. 2023); only the speed depends on how
often the two agree.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.generation.sampling import (
    PreparedSeed,
    SampleSettings,
    context_window,
    prepare_seed,
    sampling_probs,
)
from shakes_tui.engine.models import CharModel
from shakes_tui.engine.models.transformer import RomeoState

DRAFTS = 4  # characters drafted per Romeo pass


def accept_or_correct(p: torch.Tensor, q: torch.Tensor, drafts: list[int], generator: torch.Generator) -> list[int]:
    """The drafts kept, then one character more: p (k+1, V) target and q (k, V) draft distributions."""
    out = []
    for i, x in enumerate(drafts):
        if float(torch.rand((), generator=generator)) * float(q[i, x]) < float(p[i, x]):  # P = min(1, p/q)
            out.append(x)
            continue
        residual = (p[i] - q[i]).clamp_(min=0)
        if float(residual.sum()) <= 0:  # p == q up to rounding: nothing is left to correct
            residual = p[i]
        out.append(int(torch.multinomial(residual, 1, generator=generator)))
        return out
    out.append(int(torch.multinomial(p[len(drafts)], 1, generator=generator)))
    return out


def speculative_stream(target: CharModel, draft: CharModel, vocab: Vocab, seed: str | PreparedSeed, n: int,
                       settings: SampleSettings | None = None, k: int = DRAFTS) -> Iterator[str]:
    """Yield ``n`` characters continuing ``seed``, drawn exactly from ``target``'s sampling distribution."""
    if target.is_recurrent or not draft.is_recurrent:
        raise ShakesError("speculative sampling takes a model with a key/value cache as the target and a "
                          "recurrent model as the draft")
    settings = settings or SampleSettings()
    prepared = seed if isinstance(seed, PreparedSeed) else prepare_seed(vocab, seed)
    generator = torch.Generator(device="cpu")
    generator.manual_seed(settings.rng_seed if settings.rng_seed is not None else torch.seed())
    target.eval()
    draft.eval()
    with torch.inference_mode():
        t_state, t_ids = _prefill(target, prepared.ids)
        d_state, _ = _prefill(draft, prepared.ids)
        pending, produced = t_ids[-1], 0  # the last character read, not yet fed to either model
        while produced < n:
            room = _room(target, t_state, min(k, n - produced - 1))
            drafts, q, d_states, d_state = _draft(draft, d_state, pending, room, settings, generator)
            logits, _, t_state = target(torch.tensor([[pending, *drafts]]), state=t_state)
            p = torch.stack([sampling_probs(row, settings) for row in logits[0, -(len(drafts) + 1):]])
            out = accept_or_correct(p, q, drafts, generator)
            kept = len(out) - 1
            t_state = _rewind(t_state, len(drafts) - kept)
            d_state = d_states[kept]
            for idx in out[:n - produced]:
                yield vocab.chars[idx]
            produced += len(out)
            pending = out[-1]


def _room(target: CharModel, state: RomeoState | None, k: int) -> int:
    """How many drafts to check now. A full cache takes the pending character alone, so Romeo re-reads
    its last half block exactly where one-at-a-time generation does and sees the same contexts."""
    if state is None:
        return k
    free = target.max_context() - state.tokens.size(1)
    return 0 if free <= 0 else min(k, free - 1)


def _prefill(model: CharModel, ids: list[int]):
    """The model's state after all but the last character of the (cropped) seed."""
    ids = ids[-context_window(model):]
    if len(ids) < 2:
        return None, ids
    _, state = model.prefill(torch.tensor([ids[:-1]]))
    return state, ids


def _draft(draft: CharModel, state, pending: int, k: int, settings: SampleSettings, generator: torch.Generator):
    """k drafted characters, their distributions (k, V), and the draft's state after each of 0..k of them."""
    logits, _, state = draft(torch.tensor([[pending]]), state=state)
    drafts, q, states = [], [], [state]
    for _ in range(k):
        probs = sampling_probs(logits[0, -1], settings)
        x = int(torch.multinomial(probs, 1, generator=generator))
        drafts.append(x)
        q.append(probs)
        logits, _, state = draft(torch.tensor([[x]]), state=state)
        states.append(state)
    return drafts, torch.stack(q) if q else torch.empty(0, logits.size(-1)), states, state


def _rewind(state: RomeoState, drop: int) -> RomeoState:
    """Forget the last ``drop`` characters of a key/value cache (their slots are overwritten later)."""
    return state if drop == 0 else RomeoState(state.tokens[:, :-drop], state.kv)
