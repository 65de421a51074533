"""The CPU dropout's mask: its distribution, its independence, its repeatability, and the attention built on it."""

import math

import pytest
import torch
import torch.nn.functional as F
from shakes_tui.engine.models import dropout as D
from shakes_tui.engine.models import transformer as T


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5])
def test_each_element_is_kept_with_probability_one_minus_p(p):
    torch.manual_seed(0)
    keep = D.keep_mask((1000, 2048), p).float()  # 2 M draws: the rate's standard error is at most 3.5e-4
    assert abs(keep.mean().item() - (1 - p)) < 0.002
    for lane in range(4):  # each of a 64-bit word's four 16-bit lanes, on its own
        assert abs(keep.view(-1, 4)[:, lane].mean().item() - (1 - p)) < 0.004


def test_neighbouring_elements_are_drawn_independently():
    torch.manual_seed(1)
    keep = D.keep_mask((2_000_000,), 0.3)
    both = (keep[:-1] & keep[1:]).float().mean().item()  # neighbours share a word three times in four
    assert abs(both - 0.7 ** 2) < 0.002
    apart = (keep[:-4] & keep[4:]).float().mean().item()  # the same lane of the next word
    assert abs(apart - 0.7 ** 2) < 0.002


def test_a_seeded_generator_draws_the_same_mask_again():
    torch.manual_seed(5)
    a = D.keep_mask((64, 33), 0.2)
    torch.manual_seed(5)
    assert torch.equal(a, D.keep_mask((64, 33), 0.2))
    assert not torch.equal(a, D.keep_mask((64, 33), 0.2))


def test_dropout_zeroes_or_scales_each_element_and_its_gradient_alike():
    torch.manual_seed(2)
    x = (torch.rand(300, 200) + 0.5).requires_grad_()  # no zeros of its own
    y = D.dropout(x, 0.25, training=True)
    kept = y != 0
    assert 0.73 < kept.float().mean().item() < 0.77
    torch.testing.assert_close(y[kept], x[kept] / 0.75)
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.75)


def test_dropout_is_the_identity_in_eval_and_zero_at_p_one():
    x = torch.randn(10, 10)
    assert D.dropout(x, 0.5, training=False) is x and D.dropout(x, 0.0, training=True) is x
    assert torch.equal(D.dropout(x, 1.0, training=True), torch.zeros_like(x))
    assert torch.equal(D.dropout(x, 0.999996, training=True), torch.zeros_like(x))  # rounds to all 65,536 values
    module = D.Dropout(0.5).eval()
    assert module(x) is x


def _qkv(seed=3, shape=(2, 3, 7, 4)):
    torch.manual_seed(seed)
    return [torch.randn(shape, requires_grad=True) for _ in range(3)]


def test_causal_attention_with_dropout_is_the_plain_one_with_that_mask(monkeypatch):
    q, k, v = _qkv()
    torch.manual_seed(9)
    mask = torch.rand(2, 3, 7, 7) > 0.3
    monkeypatch.setattr(D, "keep_mask", lambda shape, p: mask)
    ours = D.causal_attention_with_dropout(q, k, v, 0.3)
    scores = (q @ k.transpose(-2, -1) / math.sqrt(4)).masked_fill(torch.ones(7, 7).triu(1).bool(), float("-inf"))
    expected = (scores.softmax(-1) * mask / 0.7) @ v
    torch.testing.assert_close(ours, expected)
    grads = torch.autograd.grad(ours.sum(), (q, k, v))
    for got, want in zip(grads, torch.autograd.grad(expected.sum(), (q, k, v)), strict=True):
        torch.testing.assert_close(got, want)


def test_keeping_every_weight_gives_torchs_causal_attention(monkeypatch):
    q, k, v = _qkv(shape=(1, 2, 9, 8))
    monkeypatch.setattr(D, "keep_mask", lambda shape, p: torch.ones(shape, dtype=torch.bool))
    ours = D.causal_attention_with_dropout(q, k, v, 0.2) * 0.8  # undo the 1/(1 - p)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_romeo_trains_through_the_cheaper_dropout_on_a_cpu(monkeypatch):
    calls = []
    real = D.keep_mask
    monkeypatch.setattr(D, "keep_mask", lambda shape, p: calls.append(shape) or real(shape, p))
    model = T.Romeo(T.RomeoConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8, dropout=0.1))
    x = torch.randint(11, (3, 8))
    model.train()
    _, loss, _ = model(x, x)
    loss.backward()
    assert (3, 2, 8, 8) in calls and (3, 8, 8) in calls  # the attention weights, and the residual branches
    assert torch.isfinite(loss) and all(torch.isfinite(p.grad).all() for p in model.parameters())
    calls.clear()
    model.eval()
    model(x, x)
    assert calls == []
