"""Two texts compared: the KL between a model's predictions along the ending two texts share, and its losses."""

import json

import numpy as np
import pytest
import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect.compare import compare, one_word_replaced
from shakes_tui.engine.inspect.context import next_log_probs

from tests.insight_helpers import tiny_weights
from tests.test_inspect_cli import run
from tests.test_scoring import LastCharacter

VOCAB = Vocab("abcdefg")
pytestmark = pytest.mark.usefixtures("one_thread")


class Remembers(LastCharacter):
    """Sees only the last character, and also the first of its window: a change at the start moves every
    prediction within the window."""

    def forward(self, idx, targets=None, state=None):
        logits = self.table[idx] + self.table[idx[:, :1]].flip(-1)
        return logits, self.loss_of(logits, targets), None


def last_character():
    return LastCharacter(vocab=7, block=8).eval()


def test_identical_texts_give_zero_everywhere():
    c = compare(last_character(), VOCAB, "abcabcgfed", "abcabcgfed")
    assert len(c.kl) == len("abcabcgfed") - 2 and np.all(c.kl == 0)
    assert np.array_equal(c.loss_a, c.loss_b)


def test_a_model_that_sees_only_the_last_character_shows_no_difference_one_character_after_the_change():
    c = compare(last_character(), VOCAB, "abcdefgabcdef", "abgdefgabcdef")
    assert c.shared == "defgabcdef" and c.distance[0] == 1 and len(c.kl) == 9
    assert np.all(np.abs(c.kl) < 1e-6)
    model = Remembers(vocab=7, block=8).eval()  # and one that remembers: the difference shows
    assert compare(model, VOCAB, "gbcdefgabc", "abcdefgabc").kl_at(1) > 1e-3


def test_the_losses_are_each_texts_and_the_kl_is_between_its_predictions():
    model = Remembers(vocab=7, block=8).eval()
    a, b = "gbcdefg", "abcdefg"
    c = compare(model, VOCAB, a, b)
    pa, pb = (next_log_probs(model, torch.tensor(VOCAB.encode(t))) for t in (a, b))
    target = torch.tensor(VOCAB.encode(c.shared[1:]))
    np.testing.assert_allclose(c.loss_a, -pa[1:].gather(1, target[:, None])[:, 0], rtol=1e-6)
    np.testing.assert_allclose(c.loss_b, -pb[1:].gather(1, target[:, None])[:, 0], rtol=1e-6)
    kl = (pa[1:].exp() * (pa[1:] - pb[1:])).sum(-1).clamp_min(0)
    np.testing.assert_allclose(c.kl, kl, rtol=1e-5, atol=1e-7)


def test_texts_of_different_lengths_line_up_on_the_ending_they_share():
    vocab = Vocab("abcdefghijklmnopqrstuvwxyz ")
    model = LastCharacter(vocab=27, block=64).eval()
    c = compare(model, vocab, "the king is dead", "the queen is dead")
    assert c.shared == " is dead" and len(c.kl) == len(" is dead") - 1
    assert c.to_json()["differ_at_a"] == len("the king") and c.to_json()["differ_at_b"] == len("the queen")


def test_texts_that_share_too_little_at_their_end_are_one_clear_error():
    with pytest.raises(ShakesError, match="share too little"):
        compare(last_character(), VOCAB, "abcd", "abce")


@pytest.mark.parametrize("text, replaced", [("The king is dead", "The queen is dead"),
                                            ("KING RICHARD:\nHe speaks", "QUEEN RICHARD:\nHe speaks"),
                                            ("Julius Caesar jumped", "Marcus Caesar jumped"),
                                            ("JULIET:\nO Romeo", "ROMEO:\nO Romeo"),
                                            ("Then thirty ships", "Neht thirty ships"),
                                            ("a bob", "a bobs")])
def test_one_early_word_is_replaced(text, replaced):
    assert one_word_replaced(text) == replaced


def test_a_text_without_a_word_to_replace_is_one_clear_error():
    with pytest.raises(ShakesError, match="no word"):
        one_word_replaced("a b ! ?")


def test_shakes_inspect_compare_gives_each_models_kl_and_losses(tmp_path, capsys):
    weights = tiny_weights(tmp_path)
    text = "The king rows out at dawn, counting gulls along the harbour wall.\n"
    code, out, _ = run(["compare", text, "--json", "--weights", *weights.values()], capsys)
    result = json.loads(out)
    assert code == 0 and list(result) == list(weights.values())
    for r in result.values():
        assert r["text_b"] == text.replace("king", "queen") and r["shared"] == text[len("The king"):]
        assert len(r["kl"]) == len(r["loss_a"]) == len(r["loss_b"]) == len(r["shared"]) - 1
        assert r["kl_at_32"] == r["kl"][31] and min(r["kl"]) >= 0
    code, out, _ = run(["compare", text, text, "--weights", weights["benvolio"]], capsys)
    assert code == 0 and "mean KL 0.00e+00" in out


def test_shakes_inspect_compare_of_texts_ending_differently_is_one_line(capsys):
    code, _, err = run(["compare", "ROMEO: soft", "JULIET: hard", "--weights", "benvolio"], capsys)
    assert code == 2 and "share too little" in err and len(err.strip().splitlines()) == 1
