"""Training, generation and gate-trace speed of the three models, each against its reference."""

from __future__ import annotations

import math
import statistics

import torch
from shakes_tui.bench.references import plain_forward, reference_for, reference_name
from shakes_tui.bench.report import Row
from shakes_tui.bench.timing import median_seconds, seconds, side_by_side
from shakes_tui.engine.generation.sampling import SampleSettings, stream
from shakes_tui.engine.generation.speculative import speculative_stream
from shakes_tui.engine.models import build_model, family_names, get_family, make_config
from shakes_tui.engine.shipped import shipped_path
from shakes_tui.engine.weights import load_weights

VOCAB = 65


def fresh_model(name: str, preset: str):
    torch.manual_seed(0)
    return build_model(name, make_config(name, VOCAB, preset))


def training_step(model, batch: int, seq: int, returns_tuple: bool):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randint(VOCAB, (batch, seq))
    y = torch.randint(VOCAB, (batch, seq))
    model.train()

    def step():
        out = model(x, y)
        loss = out[1] if returns_tuple else out
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def matmul_peak_gflops(n: int, reps: int) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / median_seconds(lambda: a @ b, reps) / 1e9


def training_rows(preset: str, reps: int, threads: int = 2) -> list[Row]:
    torch.set_num_threads(threads)
    peak = matmul_peak_gflops(1024 if preset == "tiny" else 2048, max(reps, 3))
    rows = []
    for name in family_names():
        defaults = get_family(name).train_defaults
        batch, seq = defaults["batch_size"], defaults["seq_len"]
        if preset == "tiny":
            batch, seq = 8, 32
        ours = fresh_model(name, preset)
        step_ours, chars = training_step(ours, batch, seq, True), batch * seq
        n = reps if preset == "tiny" else min(max(reps, math.ceil(3.0 / seconds(step_ours))), 25)
        what, label = reference_name(ours), f"train chars/s {name} (batch {batch}x{seq}, {threads} thr)"
        attends = not ours.is_recurrent  # the Transformer: held to more than parity, and to a share of peak
        if attends:
            t_ours, t_ref = side_by_side(step_ours, training_step(reference_for(ours), batch, seq, False), n)
            rows.append(Row(label, chars / t_ours, "ch/s", f"{what}: {chars / t_ref:,.0f} ch/s", t_ref / t_ours,
                            "ratio >= 1.2", t_ref / t_ours >= 1.2))
        else:  # it trains on that fused torch module itself: a ratio against it would measure noise
            t_ours = median_seconds(step_ours, n)
            rows.append(Row(label, chars / t_ours, "ch/s", f"runs on {what} itself", None, "share of peak below",
                            None))
        gflops = ours.flops_per_char() * chars / t_ours / 1e9
        share = gflops / peak
        rows.append(Row(f"train GFLOP/s {name}", gflops, "GFLOP/s", f"fp32 matmul peak {peak:,.0f} GFLOP/s",
                        share, ">= 0.55 of peak" if attends else "reported", share >= 0.55 if attends else None))
    return rows


def gated_name() -> str:
    """The family whose gate trace is timed: the first with gates."""
    return next(n for n in family_names() if get_family(n).model_cls.has_gates)


def load(name: str, preset: str):
    if preset == "tiny":
        return fresh_model(name, "tiny").eval()
    return load_weights(shipped_path(name)).model


def generation_rows(preset: str, reps: int, n: int = 200, context: int = 256) -> list[Row]:
    torch.set_num_threads(1)  # the generation rows: 1 thread, batch 1
    rows = [generation_row(name, load(name, preset), reps, n, context) for name in family_names()]
    rows.append(speculative_row(preset, reps, n))
    torch.set_num_threads(2)  # rows that name no thread count: 2
    return rows + [first_char_row(name, load(name, preset), reps) for name in family_names()]


def generation_row(name: str, model, reps: int, n: int, context: int) -> Row:
    """Seconds per character after a context, against the floor: reading every weight once.

    At batch 1 each character reads every weight, so no decode step can beat one pass over them.
    Romeo, whose weights are read for attention's sake too, must stay within 1.5x of that floor;
    the recurrent models are held to 1,000 characters a second."""
    seed = _text(torch.randint(VOCAB, (context,)).tolist())
    t_char, t_read, mb = per_char_and_read(lambda: stream(model, _vocab(), seed, n + 1, SampleSettings(0)), model,
                                           reps, n)
    if model.is_recurrent:
        goal, ok = ">= 1000 ch/s", 1 / t_char >= 1000
    else:
        goal, ok = "<= 1.5x read", t_char / t_read <= 1.5
    return Row(f"generate chars/s {name} (1 thr, context {context})", 1 / t_char, "ch/s",
               f"read {mb:.0f} MB of weights: {t_read * 1e3:.2f} ms", t_char / t_read, goal, ok)


SPEAKER_SEED = "KING:\nWhat say you to this, my lord? Speak, and be brief.\n\nLORD:\n"


def speculative_row(preset: str, reps: int, n: int) -> Row:
    """Romeo sampling at the default temperature, the first recurrent family drafting (generation/speculative.py)."""
    target = load(next(f for f in family_names() if not get_family(f).model_cls.is_recurrent), preset)
    draft = load(family_names()[0], preset)
    settings = SampleSettings(rng_seed=0)  # the default temperature
    t_char, t_read, mb = per_char_and_read(
        lambda: speculative_stream(target, draft, _vocab(), SPEAKER_SEED, n + 1, settings), target, reps, n)
    return Row(f"generate chars/s {target.family}, {draft.family} drafts (1 thr)", 1 / t_char, "ch/s",
               f"read {mb:.0f} MB of weights: {t_read * 1e3:.2f} ms", t_char / t_read, "<= 1.5x read",
               t_char / t_read <= 1.5)


def per_char_and_read(characters, model, reps: int, n: int) -> tuple[float, float, float]:
    """Median seconds per character of n (after the first, which reads the context), median seconds to
    read every weight of the model once (timed alternately, so that noise falls on both), and its MB."""
    weights = [p.detach() for p in model.parameters()]

    def per_char() -> float:
        it = characters()
        next(it)
        return seconds(lambda: sum(1 for _ in it)) / n

    chars, reads = [], []
    for _ in range(reps):
        chars.append(per_char())
        reads.append(seconds(lambda: [w.sum() for w in weights]))
    mb = sum(w.numel() * w.element_size() for w in weights) / 1e6
    return statistics.median(chars), statistics.median(reads), mb


def first_char_row(name: str, model, reps: int) -> Row:
    seed = _text(torch.randint(VOCAB, (200,)).tolist())
    greedy = SampleSettings(temperature=0)
    first = median_seconds(lambda: next(stream(model, _vocab(), seed, 1, greedy)), reps=max(reps, 5))
    return Row(f"first char after 200-char seed {name} (2 thr)", first * 1000, "ms", "-", None, "<= 20 ms",
               first <= 0.020)


def trace_rows(preset: str, reps: int, length: int = 1000) -> list[Row]:
    """The gate trace against its floor: one plain nn.LSTM forward over the same text, which gives h
    but no gates. The trace may cost at most half as much again."""
    torch.set_num_threads(2)
    model = load(gated_name(), preset)
    idx = torch.randint(VOCAB, (length,))
    forward = plain_forward(model)
    t_ours, t_ref = side_by_side(lambda: model.trace(idx), lambda: forward(idx), reps)
    return [Row(f"gate trace of {length} chars (2 thr)", t_ours * 1000, "ms",
                f"one nn.LSTM forward: {t_ref * 1000:,.0f} ms", t_ours / t_ref, "ratio <= 1.5", t_ours <= 1.5 * t_ref)]


_VOCAB = None


def _vocab():
    global _VOCAB
    if _VOCAB is None:
        _VOCAB = load_weights(shipped_path(family_names()[0])).vocab
    return _VOCAB


def _text(ids: list[int]) -> str:
    return _vocab().decode(ids)
