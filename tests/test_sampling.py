import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.generation.sampling import SampleSettings, prepare_seed, sample_text, stream
from shakes_tui.engine.models import build_model, make_config

VOCAB = Vocab("\nabcdefghijklmnopqrs")


def tiny(family):
    torch.manual_seed(0)
    return build_model(family, make_config(family, 20, "tiny")).eval()


def naive_greedy(model, ids, n):
    """The slow way: re-run the whole context for every character."""
    out = list(ids)
    for _ in range(n):
        context = torch.tensor([out[-getattr(model.config, "block_size", 10**9):]])
        logits, _, _ = model(context)
        out.append(int(logits[0, -1].argmax()))
    return VOCAB.decode(out[len(ids):])


def test_streaming_with_carried_state_equals_rerunning_the_context():
    greedy = SampleSettings(temperature=0)
    for family in ("benvolio", "mercutio", "romeo"):
        model = tiny(family)
        ids = VOCAB.encode("abcab")
        n = 20  # stays within Romeo's block (32) so both see the same context
        assert sample_text(model, VOCAB, "abcab", n, greedy) == naive_greedy(model, ids, n), family


def test_same_rng_seed_same_text_and_different_seed_differs():
    model = tiny("mercutio")
    a = sample_text(model, VOCAB, "ab", 60, SampleSettings(1.0, None, 7))
    b = sample_text(model, VOCAB, "ab", 60, SampleSettings(1.0, None, 7))
    c = sample_text(model, VOCAB, "ab", 60, SampleSettings(1.0, None, 8))
    assert a == b and a != c


def test_top_k_one_is_greedy():
    model = tiny("romeo")
    assert sample_text(model, VOCAB, "ab", 30, SampleSettings(1.0, 1, 3)) == \
        sample_text(model, VOCAB, "ab", 30, SampleSettings(0, None, None))


def test_unknown_seed_characters_are_dropped_and_reported():
    prepared = prepare_seed(VOCAB, "abZ!c")
    assert VOCAB.decode(prepared.ids) == "abc"
    assert "2" in prepared.warning() and "Z" in prepared.warning()
    assert prepare_seed(VOCAB, "ZZ").ids == [VOCAB.stoi["\n"]]


def test_stream_is_lazy_and_long_generation_outlives_romeos_block():
    it = stream(tiny("romeo"), VOCAB, "a", 200, SampleSettings(rng_seed=1))
    assert len(next(it)) == 1
    assert len("".join(it)) == 199
