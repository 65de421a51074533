import json

import pytest
import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import build_model, make_config
from shakes_tui.engine.weights import load_weights, read_metadata, save_weights, update_summary

VOCAB = Vocab("abcdefghijklmnopqrst")


@pytest.mark.parametrize("family", ["benvolio", "mercutio", "romeo"])
@pytest.mark.parametrize("dtype, atol", [("float32", 0.0), ("float16", 1e-2)])
def test_roundtrip_gives_the_same_model(tmp_path, family, dtype, atol):
    torch.manual_seed(0)
    model = build_model(family, make_config(family, 20, "tiny")).eval()
    path = save_weights(tmp_path / "m.safetensors", model, VOCAB, {"val_loss": 1.23}, dtype=dtype)
    loaded = load_weights(path)
    idx = torch.randint(20, (2, 10))
    assert loaded.family == family and loaded.vocab == VOCAB and loaded.summary == {"val_loss": 1.23}
    with torch.no_grad():
        assert torch.allclose(model(idx)[0], loaded.model(idx)[0], atol=atol)


def test_metadata_is_self_describing(tmp_path):
    model = build_model("romeo", make_config("romeo", 20, "tiny"))
    meta = read_metadata(save_weights(tmp_path / "m.safetensors", model, VOCAB))
    assert meta["family"] == "romeo" and json.loads(meta["config"])["block_size"] == 32
    assert json.loads(meta["vocab"]) == VOCAB.chars


def test_update_summary_keeps_tensors(tmp_path):
    model = build_model("benvolio", make_config("benvolio", 20, "tiny"))
    path = save_weights(tmp_path / "m.safetensors", model, VOCAB, {"step": 5})
    update_summary(path, val_loss=1.5)
    loaded = load_weights(path)
    assert loaded.summary == {"step": 5, "val_loss": 1.5}
    assert torch.equal(loaded.model.head.weight, model.head.weight)


def test_bad_files_give_errors_that_name_the_file(tmp_path):
    model = build_model("mercutio", make_config("mercutio", 20, "tiny"))
    good = save_weights(tmp_path / "good.safetensors", model, VOCAB)
    data = good.read_bytes()
    cases = {
        "missing.safetensors": None,
        "truncated.safetensors": data[: len(data) // 2],
        "garbage.safetensors": b"\x00" * 64,
        "pickle.safetensors": b"\x80\x04\x95" + b"x" * 40,
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(ShakesError, match=name):
            load_weights(path)
    why = {"tiny.safetensors": (b"\x01\x02\x03", "it is 3 bytes long, too short to begin with a header"),
           "empty-header.safetensors": (b"\x00" * 16, "its header is empty"),
           "huge.safetensors": (b"\xff" * 7 + b"\x0a" + b"{}",
                                "header of 792,633,534,417,207,295 bytes, more than the 1,048,576 allowed"),
           "short.safetensors": ((5000).to_bytes(8, "little") + b"{}",
                                 "header of 5,000 bytes, more than the 2 after them")}
    for name, (content, words) in why.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ShakesError, match=words):
            load_weights(tmp_path / name)


def test_mismatched_config_is_reported(tmp_path):
    model = build_model("mercutio", make_config("mercutio", 20, "tiny"))
    path = save_weights(tmp_path / "m.safetensors", model, VOCAB)
    meta = read_metadata(path)
    from safetensors.torch import load_file, save_file
    config = json.loads(meta["config"])
    meta["config"] = json.dumps({**config, "n_hidden": 99})
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(ShakesError, match="do not match"):
        load_weights(path)


def test_written_files_get_the_usual_permissions(tmp_path):
    """Atomic writes go through a 0600 temporary file; the result must be readable as any new file is."""
    import os
    import stat

    mask = os.umask(0o022)
    try:
        path = save_weights(tmp_path / "m.safetensors", build_model("benvolio", make_config("benvolio", 20, "tiny")),
                            VOCAB)
        update_summary(path, note="x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary file left behind
