"""Streaming generation: one character at a time, the model's state carried between steps.

Recurrent models carry (h, C); Romeo carries its key/value cache. No step re-reads the
whole context, unlike a naive ``generate`` that runs the model over everything again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import CharModel
from shakes_tui.engine.numbers import Number, at_least_zero, positive

DEFAULT_TEMPERATURE = 0.8
GREEDY_BELOW = 1e-3  # temperatures below this are greedy (dividing by 1e-45 would overflow to inf)
MAX_RNG_SEED = 2**63 - 1  # torch takes 64 bits; a training run adds its rank and step to its seed
RECURRENT_WINDOW = 1024  # a recurrent model reads at most the last this many characters of a seed (Mercutio: ~1 s)
TEMPERATURE = at_least_zero(float)
TOP_K = positive(int)
RNG_SEED = Number(int, lambda v: 0 <= v <= MAX_RNG_SEED, f"from 0 to {MAX_RNG_SEED}")


@dataclass
class SampleSettings:
    temperature: float = DEFAULT_TEMPERATURE  # 0 (or below GREEDY_BELOW) means greedy: always the most likely character
    top_k: int | None = None  # sample only among the k most likely characters
    rng_seed: int | None = None  # same seed, same text

    def __post_init__(self) -> None:
        """A value out of range raises BadNumber (a ShakesError for the tools, a ValueError for input boxes)."""
        TEMPERATURE.check(self.temperature, "temperature")
        if self.top_k is not None:
            TOP_K.check(self.top_k, "top-k")
        if self.rng_seed is not None:
            RNG_SEED.check(self.rng_seed, "the rng seed")


@dataclass
class PreparedSeed:
    ids: list[int]
    dropped: list[str]  # characters of the seed that the vocabulary does not have

    def warning(self) -> str | None:
        if not self.dropped:
            return None
        shown = "".join(sorted(set(self.dropped)))
        return f"dropped {len(self.dropped)} seed character(s) not in the vocabulary: {shown!r}"


def prepare_seed(vocab: Vocab, seed: str) -> PreparedSeed:
    """Encode the seed leniently; an empty result starts from a newline (or the first character)."""
    ids, dropped = vocab.encode_lenient(seed)
    if not ids:
        ids = [vocab.stoi.get("\n", 0)]
    return PreparedSeed(ids, dropped)


def pick_next(logits: torch.Tensor, settings: SampleSettings, generator: torch.Generator) -> int:
    """Choose the next id from a (V,) row of logits."""
    if settings.temperature < GREEDY_BELOW:
        return int(torch.argmax(logits))
    return int(torch.multinomial(sampling_probs(logits, settings), 1, generator=generator))


def sampling_probs(logits: torch.Tensor, settings: SampleSettings) -> torch.Tensor:
    """The distribution (V,) that ``pick_next`` draws from: temperature and top-k applied; greedy is
    all the mass on the most likely id."""
    if settings.temperature < GREEDY_BELOW:
        return torch.nn.functional.one_hot(torch.argmax(logits), logits.numel()).float()
    logits = logits.float() / settings.temperature
    if settings.top_k is not None and 0 < settings.top_k < logits.numel():
        kth = torch.topk(logits, settings.top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if not torch.isfinite(probs).all():
        raise ShakesError("the model's output is not a number (NaN or infinite): its weights are damaged")
    return probs


def context_window(model: CharModel) -> int:
    """How many of a seed's last characters the model reads: Romeo its block, the others RECURRENT_WINDOW."""
    return model.max_context() or RECURRENT_WINDOW


def stream(model: CharModel, vocab: Vocab, seed: str | PreparedSeed, n: int,
           settings: SampleSettings | None = None) -> Iterator[str]:
    """Yield ``n`` characters continuing ``seed``, one at a time."""
    settings = settings or SampleSettings()
    prepared = seed if isinstance(seed, PreparedSeed) else prepare_seed(vocab, seed)
    device = next(model.parameters()).device
    generator = torch.Generator(device="cpu")
    generator.manual_seed(settings.rng_seed if settings.rng_seed is not None else torch.seed())
    model.eval()
    with torch.inference_mode():
        idx = torch.tensor([prepared.ids[-context_window(model):]], dtype=torch.long, device=device)
        last, state = model.prefill(idx)
        for _ in range(n):
            nxt = pick_next(last[0].cpu(), settings, generator)
            yield vocab.chars[nxt]
            logits, _, state = model(torch.tensor([[nxt]], device=device), state=state)
            last = logits[:, -1]


def sample_text(model: CharModel, vocab: Vocab, seed: str, n: int, settings: SampleSettings | None = None) -> str:
    return "".join(stream(model, vocab, seed, n, settings))
