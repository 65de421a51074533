"""How each cost grows with its work: flat, linear or worse, at a glance."""

from __future__ import annotations

import torch
from shakes_tui.bench.speed import VOCAB, _text, _vocab, fresh_model, gated_name, load, training_step
from shakes_tui.bench.timing import median_seconds, seconds
from shakes_tui.engine.generation.sampling import SampleSettings, stream
from shakes_tui.engine.models import family_names


def generation_by_context(preset: str, lengths: list[int], n: int = 50) -> dict[str, dict[int, float]]:
    """Milliseconds per generated character after a context of each length."""
    torch.set_num_threads(1)
    table = {}
    for name in family_names():
        model, row = load(name, preset), {}
        for length in lengths:
            it = stream(model, _vocab(), _text(torch.randint(VOCAB, (length,)).tolist()), n + 1,
                        SampleSettings(temperature=0))
            next(it)
            row[length] = seconds(lambda it=it: sum(1 for _ in it)) / n * 1000
        table[name] = row
    return table


def trace_by_length(preset: str, lengths: list[int]) -> dict[str, dict[int, float]]:
    """Milliseconds for Mercutio's gate trace of each text length (2 threads)."""
    torch.set_num_threads(2)
    name = gated_name()
    model = load(name, preset)
    return {name: {n: median_seconds(lambda n=n: model.trace(torch.randint(VOCAB, (n,))), reps=3) * 1000
                         for n in lengths}}


def training_by_batch(preset: str, batches: list[int], seq: int, threads: int = 2) -> dict[str, dict[int, float]]:
    """Thousands of training characters per second at each batch size."""
    torch.set_num_threads(threads)
    table = {}
    for name in family_names():
        model = fresh_model(name, preset)
        table[name] = {b: b * seq / median_seconds(training_step(model, b, seq, True), reps=2) / 1000
                       for b in batches}
    return table
