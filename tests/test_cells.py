"""Cells that track something: the features, the ranking, shakes-inspect cells."""

import json

import numpy as np
import pytest
import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.inspect import cells as cells_module
from shakes_tui.engine.inspect.cells import (
    after_sentence_end,
    cells,
    inside_brackets,
    inside_quotes,
    position_in_line,
    rank_units,
    speaker_name_line,
    unit_states,
    word_start,
)
from shakes_tui.engine.models import CharModel, build_model, make_config

from tests.insight_helpers import tiny_weights
from tests.test_inspect_cli import run

VOCAB = Vocab("\n !\"'(),.:?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_feature_on_a_hand_written_text():
    assert inside_quotes('a "bc" d').tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert inside_brackets("a (b [c]) d").tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    assert position_in_line("ab\ncd").tolist() == [1, 2, 0, 1, 2]
    assert speaker_name_line("x\nROMEO:\nhi").tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    assert word_start("to be, or").tolist() == [1, 0, 0, 1, 0, 0, 0, 1, 0]
    assert after_sentence_end("Go. \nNo!").tolist() == [0, 0, 1, 1, 1, 0, 0, 1]


class QuoteTracker(CharModel):
    """A hand-built recurrent model of five units: unit 3 (from 1) is wired to flip at every double quote, so it
    holds "inside quotes"; the others hold noise."""

    family = "benvolio"
    is_recurrent = True

    def __init__(self, quote: int) -> None:
        super().__init__(None)
        self.quote = quote

    def hidden_states(self, idx: torch.Tensor) -> np.ndarray:
        rng = np.random.default_rng(0)
        out, inside = rng.normal(size=(idx.numel(), 1, 5)), 0.0
        for t, i in enumerate(idx.tolist()):
            inside = 1.0 - inside if i == self.quote else inside
            out[t, 0, 2] = inside  # the wire: the state carried from character to character
        return out


def test_a_unit_wired_to_inside_quotes_ranks_first_for_that_feature():
    text = 'He said "go now" and then "stay." She said nothing. "Why?" he asked.\n' * 5
    ranking = cells(QuoteTracker(VOCAB.encode('"')[0]), VOCAB, text)
    first = ranking.best["inside quotes"][0]
    assert (first.state, first.layer, first.unit) == ("h", 1, 3) and first.correlation == pytest.approx(1.0)
    assert all(abs(c.correlation) < 0.5 for c in ranking.best["inside quotes"][1:])
    assert ranking.absent == {"inside brackets": "does not occur in this text",
                              "speaker name line": "does not occur in this text"}


def test_the_ranking_is_pearsons_r_of_each_unit_and_counts_from_1():
    rng = np.random.default_rng(1)
    text = "ROMEO:\nO, be some other name!\nJULIET:\nWhat's in a name? That which we call a rose\n" * 3
    states = {"c": rng.normal(size=(len(text), 2, 4)), "h": rng.normal(size=(len(text), 2, 4))}
    ranking = rank_units(states, text, top=2 * 2 * 4)
    for cell in ranking.best["position in line"]:
        unit = states[cell.state][:, cell.layer - 1, cell.unit - 1]
        assert cell.correlation == pytest.approx(np.corrcoef(unit, position_in_line(text))[0, 1])
    sizes = [abs(c.correlation) for c in ranking.best["position in line"]]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == 16


def test_the_recurrent_models_give_their_states_and_romeo_none():
    torch.manual_seed(0)
    ids = torch.tensor(VOCAB.encode("ROMEO:\nO, be some other name!"))
    for family, keys in [("mercutio", {"c", "h"}), ("benvolio", {"h"})]:
        model = build_model(family, make_config(family, len(VOCAB), "tiny"))
        states = unit_states(model, ids)
        assert set(states) == keys and all(s.shape[:2] == (len(ids), model.config.n_layer) for s in states.values())
    romeo = build_model("romeo", make_config("romeo", len(VOCAB), "tiny"))
    with pytest.raises(ShakesError, match="recurrent"):
        unit_states(romeo, ids)


def test_a_feature_whose_characters_the_model_cannot_read_says_so():
    model = QuoteTracker(0)
    ranking = cells(model, Vocab("\n abcdefghijklmnopqrstuvwxyz"), 'he said "go" and "stay" then\n' * 4)
    assert "not in the model's vocabulary" in ranking.absent["inside quotes"]


def test_shakes_inspect_cells_json(tmp_path, capsys):
    weights = tiny_weights(tmp_path)
    text = "ROMEO:\nO, be some other name!\n\nJULIET:\nWhat's in a name? That which we call a rose.\n" * 4
    code, out, _ = run(["cells", text, "--json", "--top", "2", "--weights", weights["benvolio"],
                        weights["mercutio"]], capsys)
    result = json.loads(out)
    assert code == 0 and list(result) == [weights["benvolio"], weights["mercutio"]]
    assert {c["state"] for c in result[weights["mercutio"]]["best"]["position in line"]} <= {"c", "h"}
    for r in result.values():
        assert set(r["best"]) | set(r["absent"]) == set(cells_module.FEATURES)
        assert all(len(best) == 2 and best[0]["layer"] >= 1 and best[0]["unit"] >= 1 for best in r["best"].values())
    code, _, err = run(["cells", text, "--weights", weights["romeo"]], capsys)
    assert code == 2 and "recurrent" in err and len(err.strip().splitlines()) == 1
