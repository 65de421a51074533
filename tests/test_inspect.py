"""engine.inspect: each measurement against the plain computation it replaces, and cases with known answers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.attention import attention
from shakes_tui.engine.inspect.copying import CopyIndex, suffix_array
from shakes_tui.engine.inspect.saturation import saturation
from shakes_tui.engine.inspect.span import GRID, SpanResult, SpanSettings, memory_span, replacements
from shakes_tui.engine.inspect.surprise import surprise
from shakes_tui.engine.models import build_model, make_config
from shakes_tui.engine.models.base import CharModel
from torch import nn

TEXT = "The ferry waits below the chalk cliffs; the keeper counts the gulls and hums.\n" * 3  # not the corpus
VOCAB = Vocab.from_text(TEXT + "XYZ")
SMALL = SpanSettings(positions=24, influence_positions=10, offset=40, grid=(1, 2, 3, 4, 8, 16, 32), batch=7)


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(family, **overrides):
    torch.manual_seed(0)
    return build_model(family, make_config(family, len(VOCAB), "tiny", **overrides)).eval()


def ids_of(text):
    return torch.tensor(VOCAB.encode(text))


class CopyPrevious(CharModel):
    """Predicts that the next character repeats the one just read: its memory is exactly one character."""

    family = "copy"
    is_recurrent = True

    def __init__(self, vocab_size):
        super().__init__(None)
        self.scale = nn.Parameter(torch.tensor(8.0))
        self.vocab_size = vocab_size

    def forward(self, idx, targets=None, state=None):
        logits = F.one_hot(idx, self.vocab_size).float() * self.scale
        return logits, self.loss_of(logits, targets), torch.zeros(1, idx.size(0), 1)


# ---- surprise ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["benvolio", "mercutio", "romeo"])
def test_surprise_is_the_cross_entropy_of_a_plain_forward_pass(family):
    model = tiny(family)
    text = TEXT[:30]
    ids = ids_of(text)
    with torch.no_grad():
        logits = model(ids[None, :-1], targets=ids[None, 1:])[0][0]
    expected = F.cross_entropy(logits, ids[1:], reduction="none").numpy()
    s = surprise(model, VOCAB, text)
    np.testing.assert_allclose(s.loss, expected, rtol=1e-5, atol=1e-6)
    assert s.mean == pytest.approx(expected.mean(), rel=1e-5)
    probs = torch.softmax(logits, -1)
    best = torch.topk(probs[3], 5)
    assert s.top[3] == [(VOCAB.chars[i], pytest.approx(p, rel=1e-5)) for p, i in zip(*best, strict=True)]
    assert len(s.top) == len(s.loss) == len(text) - 1


def test_surprise_beyond_romeos_window_scores_each_character_with_at_least_half_a_window():
    model = tiny("romeo")  # block 32
    ids = ids_of(TEXT[:100])
    s = surprise(model, VOCAB, TEXT[:100])
    for t in (5, 31, 40, 70, 98):  # predicting character t + 1: windows of 32 ending at 32, 48, 64, ..., 99
        start = 0 if t < 32 else min(99, (t // 16 + 1) * 16) - 32
        with torch.no_grad():
            logits = model(ids[None, start:t + 1])[0][0, -1]
        assert s.loss[t] == pytest.approx(F.cross_entropy(logits, ids[t + 1]).item(), rel=1e-5)
        assert t - start + 1 >= min(t + 1, 16)


def test_surprise_drops_unknown_characters_and_refuses_a_text_too_short():
    assert surprise(tiny("benvolio"), VOCAB, "Th\u00e9 ferry").text == "Th ferry"
    with pytest.raises(ShakesError, match="at least 2"):
        surprise(tiny("benvolio"), VOCAB, "\u00e9T")


# ---- memory span --------------------------------------------------------------------------------------
def test_a_model_that_copies_the_previous_character_has_span_1():
    ids = ids_of(TEXT)
    result = memory_span(CopyPrevious(len(VOCAB)), ids, SMALL)
    assert result.span == 1
    assert np.allclose(result.loss, result.unlimited)
    assert result.influence[0] > 1 and np.all(result.influence[1:] == 0)
    assert result.influence_gone_at == 2


def span_with_influence(influence: list[float]) -> SpanResult:
    return SpanResult(list(GRID), np.full(len(GRID), 2.0), 2.0, np.array(influence), 8, 8)


def test_influence_is_gone_from_the_k_after_which_it_stays_below_a_thousandth_of_a_nat():
    falls = [0.5, 0.1, 0.01, 0.002, 0.0005, 0.003, 0.0009, *[0.0001] * (len(GRID) - 7)]  # k = 1, 2, 3, 4, 6, 8, ...
    assert span_with_influence(falls).influence_gone_at == 12  # the 0.003 at k = 8 came back above
    assert span_with_influence([0.01] * len(GRID)).influence_gone_at is None  # never within the grid
    assert span_with_influence([0.0] * len(GRID)).influence_gone_at == 1
    far = span_with_influence([float(k) for k in GRID])
    assert far.influence_at(32) == 32.0 and far.to_json()["influence_at_32"] == 32.0
    assert far.to_json()["influence_gone_below"] == 0.001


@torch.no_grad()
def reference_loss(model, ids, t, k, window=None):
    """Loss of ids[t] read from ids[t-k:t] alone (zero state / a window of k), one position at a time."""
    logits = model(ids[None, t - k:t])[0][0, -1]
    return F.cross_entropy(logits, ids[t]).item()


@torch.no_grad()
def reference_influence(model, ids, t, k, swapped, window):
    """KL at t when ids[t-k] is swapped, reading everything from the start (or the window before t)."""
    start = 0 if window is None else t - window
    x = ids[start:t].clone()
    p = F.log_softmax(model(x[None])[0][0, -1], -1)
    x[t - k - start] = swapped[t - k]
    q = F.log_softmax(model(x[None])[0][0, -1], -1)
    return (p.exp() * (p - q)).sum().item()


@pytest.mark.parametrize("family", ["benvolio", "mercutio", "romeo"])
def test_span_curves_equal_the_plain_per_position_computation(family):
    model = tiny(family)
    ids = ids_of(TEXT)
    window = None if model.is_recurrent else model.config.block_size
    result = memory_span(model, ids, SMALL)
    ts = range(SMALL.offset, SMALL.offset + SMALL.positions)
    for gi, k in enumerate(SMALL.grid):
        seen = k if window is None else min(k, window)
        assert result.loss[gi] == pytest.approx(np.mean([reference_loss(model, ids, t, seen) for t in ts]), rel=1e-4)
    with torch.no_grad():
        unlimited = [reference_loss(model, ids, t, t if window is None else window) for t in ts]
    assert result.unlimited == pytest.approx(np.mean(unlimited), rel=1e-4)
    swapped = replacements(ids, SMALL.seed)
    assert not (swapped == ids).any()
    its = range(SMALL.offset, SMALL.offset + SMALL.influence_positions)
    for gi, k in enumerate(SMALL.grid):
        expected = np.mean([reference_influence(model, ids, t, k, swapped, window) for t in its])
        assert result.influence[gi] == pytest.approx(expected, rel=1e-3, abs=1e-7)


def test_span_refuses_a_text_too_short():
    with pytest.raises(ShakesError, match="too short"):
        memory_span(tiny("benvolio"), ids_of(TEXT[:60]), SMALL)


# ---- attention ------------------------------------------------------------------------------------------
@torch.no_grad()
def test_attention_rows_sum_to_1_and_equal_a_softmax_computed_directly():
    model = tiny("romeo")
    text = TEXT[:20]
    att = attention(model, VOCAB, text)
    L, H, T = model.config.n_layer, model.config.n_head, len(text)
    assert att.weights.shape == (L, H, T, T)
    np.testing.assert_allclose(att.weights.sum(-1), 1, rtol=1e-5)
    assert np.all(np.triu(att.weights, 1) == 0)
    ids = ids_of(text)
    x = model.tok_emb(ids) + model.pos_emb(torch.arange(T))
    hs = model.config.n_embd // H
    for layer, block in enumerate(model.blocks):
        qkv = block.ln1(x) @ block.attn.qkv.weight.T
        for head in range(H):
            q = qkv[:, head * hs:(head + 1) * hs]
            k = qkv[:, model.config.n_embd + head * hs:model.config.n_embd + (head + 1) * hs]
            for i in range(T):  # query i over keys 0..i: the causal mask
                row = torch.softmax(q[i] @ k[:i + 1].T / hs ** 0.5, -1)
                np.testing.assert_allclose(att.weights[layer, head, i, :i + 1], row.numpy(), rtol=1e-4, atol=1e-6)
        x = block(x[None])[0][0]


@torch.no_grad()
def test_attention_weights_times_values_give_the_blocks_own_output():
    model = tiny("romeo")
    ids = ids_of(TEXT[:25])
    att = torch.from_numpy(attention(model, VOCAB, TEXT[:25]).weights)
    x = model.tok_emb(ids[None]) + model.pos_emb(torch.arange(25))
    C, H = model.config.n_embd, model.config.n_head
    for layer, block in enumerate(model.blocks):
        h = block.ln1(x)
        v = block.attn.qkv(h)[..., 2 * C:].view(1, 25, H, C // H).transpose(1, 2)
        mixed = (att[layer][None] @ v).transpose(1, 2).reshape(1, 25, C)
        torch.testing.assert_close(block.attn.proj(mixed), block.attn(h)[0], rtol=1e-4, atol=1e-5)
        x = block(x)[0]


def test_attention_needs_a_model_with_attention():
    with pytest.raises(ShakesError, match="no attention"):
        attention(tiny("mercutio"), VOCAB, TEXT)


# ---- saturation -----------------------------------------------------------------------------------------------
def test_saturation_counts_the_trace_below_and_above_the_thresholds():
    model = tiny("mercutio")
    with torch.no_grad():
        model.rnn.bias_ih_l0[16:32] = 50.0  # layer 0's forget gate: always open
        model.rnn.bias_ih_l0[:16] = -50.0  # layer 0's input gate: always shut
    sat = saturation(model, VOCAB, TEXT[:50])
    trace = model.trace(ids_of(TEXT[:50]))
    assert sat.chars == 50
    assert np.all(sat.right["f"][0] == 1) and np.all(sat.left["i"][0] == 1)
    np.testing.assert_allclose(sat.left["o"], (trace["o"] < 0.1).mean(0))
    np.testing.assert_allclose(sat.right["o"], (trace["o"] > 0.9).mean(0))
    assert set(sat.left) == {"f", "i", "o"}
    with pytest.raises(ShakesError, match="no gates"):
        saturation(tiny("romeo"), VOCAB, TEXT)


# ---- copying ----------------------------------------------------------------------------------------------------
def test_suffix_array_orders_suffixes_as_python_does():
    rng = np.random.default_rng(0)
    for _ in range(30):
        s = "".join(rng.choice(list("ab c\u00e9"), rng.integers(1, 80)))
        assert list(suffix_array(s)) == sorted(range(len(s)), key=lambda i: s[i:])


def test_a_passage_of_the_training_text_is_copied_entirely():
    index = CopyIndex(TEXT)
    passage = TEXT[13:113]
    result = index.check(passage)
    assert result.share == 1.0 and result.longest == 100 and result.longest_text == passage


def test_copying_finds_the_longest_shared_stretch_of_a_new_text():
    index = CopyIndex(TEXT)
    result = index.check("Qqq the keeper counts zzz")
    assert result.longest_text == " the keeper counts " and result.longest == 19
    grams = len("Qqq the keeper counts zzz") - 7
    assert result.share == pytest.approx(12 / grams)
    assert index.check("short").share is None and index.check("").longest == 0
