"""Speculative sampling draws exactly from the target's distribution, whatever the draft proposes."""

import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.generation.sampling import SampleSettings, sampling_probs, stream
from shakes_tui.engine.generation.speculative import accept_or_correct, speculative_stream
from shakes_tui.engine.models import build_model, make_config

VOCAB = Vocab("abcd")


def tiny(family, rng_seed):
    torch.manual_seed(rng_seed)
    model = build_model(family, make_config(family, len(VOCAB), "tiny"))
    for p in model.parameters():  # random tiny models are nearly uniform: make their opinions strong
        p.data.mul_(8.0)
    return model.eval()


def total_variation(a: torch.Tensor, b: torch.Tensor) -> float:
    return 0.5 * float((a - b).abs().sum())


def test_the_first_character_follows_the_target_not_the_draft():
    p = torch.tensor([[0.5, 0.3, 0.15, 0.05], [0.25, 0.25, 0.25, 0.25]])
    q = torch.tensor([[0.1, 0.1, 0.4, 0.4]])
    generator = torch.Generator().manual_seed(0)
    counts = torch.zeros(4)
    trials = 10_000
    for drafted in torch.multinomial(q[0], trials, replacement=True, generator=generator).tolist():
        counts[accept_or_correct(p, q, [drafted], generator)[0]] += 1
    # expected sampling noise: about 0.006; correcting from p instead of max(p - q, 0) would give 0.12
    assert total_variation(counts / trials, p[0]) < 0.02
    assert total_variation(p[0], q[0]) > 0.5  # the draft alone would be far off


def test_greedy_speculative_text_equals_greedy_text():
    target, draft = tiny("romeo", 1), tiny("benvolio", 2)  # tiny Romeo: a block of 32, so it re-reads too
    greedy = SampleSettings(temperature=0)
    plain = "".join(stream(target, VOCAB, "abcab", 100, greedy))
    assert "".join(speculative_stream(target, draft, VOCAB, "abcab", 100, greedy)) == plain


def test_two_characters_are_distributed_as_the_target_draws_them():
    target, draft = tiny("romeo", 1), tiny("benvolio", 2)
    settings = SampleSettings(temperature=1.0)
    exact = torch.zeros(4, 4)  # P(c1, c2) under the target alone
    with torch.inference_mode():
        first = sampling_probs(target(torch.tensor([[0, 1]]))[0][0, -1], settings)
        for c1 in range(4):
            exact[c1] = first[c1] * sampling_probs(target(torch.tensor([[0, 1, c1]]))[0][0, -1], settings)
        drafted = sampling_probs(draft(torch.tensor([[0, 1]]))[0][0, -1], settings)
    counts = torch.zeros(4, 4)
    runs = 2000
    for rng_seed in range(runs):
        text = "".join(speculative_stream(target, draft, VOCAB, "ab", 2, SampleSettings(1.0, rng_seed=rng_seed), k=2))
        counts[VOCAB.stoi[text[0]], VOCAB.stoi[text[1]]] += 1
    assert total_variation(counts.flatten() / runs, exact.flatten()) < 0.07  # expected noise: about 0.035
    assert total_variation(drafted, first) > 0.15  # the draft disagrees: acceptance and correction both ran
