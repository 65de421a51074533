"""The shipped weights: each file's validation loss on the real corpus equals its recorded figure."""

import pytest
from shakes_tui.engine.data.corpus import load_corpus
from shakes_tui.engine.evaluate import split_loss
from shakes_tui.engine.models import family_names
from shakes_tui.engine.shipped import shipped_path
from shakes_tui.engine.weights import load_weights

GOALS = {"benvolio": 1.55, "mercutio": 1.42, "romeo": 1.42}
MAX_BYTES = 25_000_000


def test_all_three_fit_in_25_mb():
    assert sum(shipped_path(m).stat().st_size for m in family_names()) <= MAX_BYTES


def test_benvolio_is_small():
    assert load_weights(shipped_path("benvolio")).model.num_params() <= 600_000


@pytest.mark.parametrize("name", family_names())
def test_validation_loss_matches_the_recorded_figure(real_corpus_path, name):
    corpus = load_corpus(real_corpus_path)
    loaded = load_weights(shipped_path(name))
    assert loaded.vocab == corpus.vocab
    measured = split_loss(loaded.model, corpus.val)
    assert abs(measured - loaded.summary["val_loss"]) <= 0.01, (measured, loaded.summary["val_loss"])
    if not loaded.model.is_recurrent:  # the consecutive-windows figure too (nanoGPT's way)
        windows = split_loss(loaded.model, corpus.val, windows=True)
        assert abs(windows - loaded.summary["val_loss_windows"]) <= 0.01, (windows, loaded.summary)
        assert measured < windows  # more context, lower loss
    assert loaded.summary["val_chars"] == corpus.val.numel()
