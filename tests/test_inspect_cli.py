"""shakes-inspect: the JSON shapes the issue sets, one-line errors, any weights and any text."""

import json

import pytest
from shakes_tui.engine.cli.inspect import inspect_main
from shakes_tui.engine.inspect.span import GRID

from tests.insight_helpers import BIG_TEXT, big_text_file
from tests.insight_helpers import tiny_weights as make_tiny_weights

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def corpus(tmp_path):
    return big_text_file(tmp_path)


@pytest.fixture
def tiny_weights(tmp_path):
    return make_tiny_weights(tmp_path)


def run(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        inspect_main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_surprise_json_has_each_models_loss_top5_and_mean(capsys):
    code, out, _ = run(["surprise", "ROMEO: soft", "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and list(result) == ["benvolio", "mercutio", "romeo"]
    for r in result.values():
        assert len(r["loss"]) == len(r["top5"]) == len("ROMEO: soft") - 1
        assert all(len(row) == 5 and row[0][1] >= row[-1][1] for row in r["top5"])
        assert r["mean"] == pytest.approx(sum(r["loss"]) / len(r["loss"]), abs=1e-3)


def test_span_json_on_any_weights_and_text(tiny_weights, corpus, capsys):
    argv = ["span", "--weights", tiny_weights["mercutio"], tiny_weights["romeo"], "--data", str(corpus),
            "--positions", "64", "--influence-positions", "16", "--json"]
    code, out, _ = run(argv, capsys)
    result = json.loads(out)
    assert code == 0 and list(result) == [tiny_weights["mercutio"], tiny_weights["romeo"]]
    for r in result.values():
        assert r["context"] == list(GRID) and len(r["loss"]) == len(r["influence"]) == len(GRID)
        assert r["positions"] == 64 and r["influence_positions"] == 16
        assert r["span"] is None or r["span"] in GRID
        assert r["influence_at_32"] == r["influence"][GRID.index(32)]
        gone = r["influence_gone_at"]
        assert gone is None or all(v < 0.001 for k, v in zip(GRID, r["influence"], strict=True) if k >= gone)
    romeo = result[tiny_weights["romeo"]]  # block 32: nothing further back is seen
    assert romeo["loss"][GRID.index(32):] == [romeo["unlimited"]] * (len(GRID) - GRID.index(32))
    assert romeo["influence"][GRID.index(48):] == [0.0] * (len(GRID) - GRID.index(48))


def test_copying_json_of_a_training_passage(corpus, capsys):
    code, out, _ = run(["copying", BIG_TEXT[100:400], "--data", str(corpus), "--json"], capsys)
    assert code == 0 and json.loads(out) == {"longest": 300, "longest_text": BIG_TEXT[100:400], "share": 1.0}


def test_attention_and_saturation_json(tiny_weights, corpus, capsys):
    code, out, _ = run(["attention", "The tide", "--weights", tiny_weights["romeo"], "--json"], capsys)
    weights = json.loads(out)[tiny_weights["romeo"]]["weights"]
    assert code == 0 and (len(weights), len(weights[0]), len(weights[0][0])) == (2, 2, 8)
    assert json.loads(out)[tiny_weights["romeo"]]["layers"] == [1, 2] == json.loads(out)[tiny_weights["romeo"]]["heads"]
    code, out, _ = run(["saturation", "--weights", tiny_weights["mercutio"], "--data", str(corpus), "--json"], capsys)
    result = json.loads(out)[tiny_weights["mercutio"]]
    assert code == 0 and result["chars"] == 2000 and set(result["gates"]) == {"forget", "input", "output"}
    assert len(result["gates"]["forget"]["left"]) == 2 and len(result["gates"]["forget"]["left"][0]) == 16
    assert result["layers"] == [1, 2]


def test_layers_and_heads_are_numbered_from_1_as_in_the_app(tiny_weights, corpus, capsys):
    """The app's 'layer 1/2 · head 1/2' is --layer 1 --head 1, and every printed line counts alike."""
    code, out, _ = run(["attention", "The tide", "--weights", tiny_weights["romeo"]], capsys)
    assert code == 0 and out.startswith("layer 1/2 · head 1/2:")
    code, out, _ = run(["attention", "The tide", "--weights", tiny_weights["romeo"], "--layer", "2", "--head", "2"],
                       capsys)
    assert code == 0 and out.startswith("layer 2/2 · head 2/2:")
    code, out, _ = run(["saturation", "--weights", tiny_weights["mercutio"], "--data", str(corpus)], capsys)
    layers = [line.split(":")[0].split()[-1] for line in out.splitlines() if " layer " in line]
    assert code == 0 and set(layers) == {"1/2", "2/2"}
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "numbered from 1, as the app shows them" in " ".join(out.split())


@pytest.mark.parametrize("argv, message", [
    (["attention", "hi", "--weights", "mercutio"], "has no attention"),
    (["saturation", "hi", "--weights", "benvolio"], "has no gates"),
    (["surprise", "hi", "--weights", "/nonexistent.safetensors"], "weights file not found"),
    (["copying", "hi", "--data", "/nonexistent.txt"], "corpus file not found"),
    (["attention", "hi", "--layer", "9"], "--layer must be 1 to 6"),
    (["attention", "hi", "--layer", "0"], "numbered from 1, as in the app"),
])
def test_errors_are_one_line(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_span_on_a_text_too_short_is_one_line(tiny_weights, tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text(BIG_TEXT[:5000], encoding="utf-8")
    code, _, err = run(["span", "--weights", tiny_weights["benvolio"], "--data", str(short)], capsys)
    assert code == 2 and "too short" in err and len(err.strip().splitlines()) == 1
