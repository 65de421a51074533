"""Hostile files for the tests: damaged, lying or malicious weights files and checkpoints.

A malicious pickle here would touch a marker file if it were ever unpickled; tests check that it never is.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.models import build_model, make_config
from shakes_tui.engine.weights import read_metadata, save_weights

ALPHABET = Vocab("\n !',.:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class Payload:
    """Unpickling this touches ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def good_weights(path: Path, family: str = "mercutio", vocab: Vocab = ALPHABET) -> Path:
    torch.manual_seed(0)
    return save_weights(path, build_model(family, make_config(family, len(vocab), "tiny")), vocab, {"step": 1})


def with_metadata(good: Path, path: Path, *, tensors=None, **changes) -> Path:
    """A copy of ``good`` whose metadata fields (JSON-encoded unless str) and tensors are changed."""
    meta = read_metadata(good)
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in changes.items()})
    save_file(tensors if tensors is not None else load_file(str(good)), str(path), metadata=meta)
    return path


def with_config(good: Path, path: Path, **config) -> Path:
    return with_metadata(good, path, config={**json.loads(read_metadata(good)["config"]), **config})


def hostile_weights(folder: Path, marker: Path, family: str = "mercutio") -> dict[str, Path]:
    """Every kind of bad weights file, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    good = good_weights(folder / "good.safetensors", family)
    data = good.read_bytes()
    raw = {
        "truncated": data[: len(data) // 2],
        "random-bytes": bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(1)).tolist()),
        "empty": b"",
        "pickle": pickle.dumps(Payload(marker)),
        "torch-pickle": _torch_pickle(marker),
        "oversized-header": struct.pack("<Q", 1 << 40) + data[8:],
    }
    files = {"good": good}
    for name, content in raw.items():
        files[name] = folder / f"{name}.safetensors"
        files[name].write_bytes(content)
    nan = {k: v.clone() for k, v in load_file(str(good)).items()}
    next(iter(nan.values())).view(-1)[0] = float("nan")
    files.update({
        "oversized-metadata": with_metadata(good, folder / "oversized-metadata.safetensors",
                                            summary={"x": "y" * 2**21}),
        "negative-width": with_config(good, folder / "negative-width.safetensors", n_hidden=-5),
        "string-width": with_config(good, folder / "string-width.safetensors", n_hidden="280"),
        "huge-width": with_config(good, folder / "huge-width.safetensors", n_hidden=10**7),
        "big-declared-width": with_config(good, folder / "big-declared-width.safetensors", n_hidden=6000),
        "dropout-5": with_config(good, folder / "dropout-5.safetensors", dropout=5.0),
        "unknown-setting": with_config(good, folder / "unknown-setting.safetensors", n_gates=7),
        "short-vocabulary": with_metadata(good, folder / "short-vocabulary.safetensors", vocab=list("abcdefghij")),
        "dict-vocabulary": with_metadata(good, folder / "dict-vocabulary.safetensors", vocab={"a": 0, "b": 1}),
        "repeated-vocabulary": with_metadata(good, folder / "repeated-vocabulary.safetensors",
                                             vocab=["a"] * len(ALPHABET)),
        "vocab-not-json": with_metadata(good, folder / "vocab-not-json.safetensors", vocab="[oops"),
        "unknown-family": with_metadata(good, folder / "unknown-family.safetensors", family="tybalt"),
        "nan-weights": with_metadata(good, folder / "nan-weights.safetensors", tensors=nan),
        "wrong-shape": _wrong_shape(good, folder / "wrong-shape.safetensors"),
        "nested-header": _nested_header(good, folder / "nested-header.safetensors"),
        "nested-config": with_metadata(good, folder / "nested-config.safetensors", config=_nested(100_000)),
        "surrogate-vocabulary": with_metadata(good, folder / "surrogate-vocabulary.safetensors",
                                              vocab=["\ud800", *ALPHABET.chars[1:]]),
    })
    return files


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_header(good: Path, path: Path) -> Path:
    """good's header with one more entry: JSON nested 100,000 deep (Python's parser recurses)."""
    data = good.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = data[8:8 + length].rstrip(b" ")[:-1] + b', "deep": ' + _nested(100_000).encode() + b"}"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data[8 + length:])
    return path


def _wrong_shape(good: Path, path: Path) -> Path:
    tensors = load_file(str(good))
    name = next(iter(tensors))
    tensors[name] = torch.zeros(tensors[name].shape[0] + 1, *tensors[name].shape[1:])
    return with_metadata(good, path, tensors=tensors)


def _torch_pickle(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"model": Payload(marker), "step": 1}, buffer)
    return buffer.getvalue()


def hostile_checkpoints(marker: Path, good: dict) -> dict[str, bytes | dict]:
    """Bad checkpoint.pt contents, by name: raw bytes, or a dict that torch.save writes."""
    buffer = io.BytesIO()
    torch.save(good, buffer)
    data = buffer.getvalue()
    model = {k: v.clone() for k, v in good["model"].items()}
    first = next(iter(model))
    model[first] = torch.zeros(model[first].shape[0] + 3, *model[first].shape[1:])
    nan = {k: v.clone() for k, v in good["model"].items()}
    nan[first].view(-1)[0] = float("nan")
    return {
        "truncated": data[: len(data) // 2],
        "random-bytes": b"\x13\x37" * 2000,
        "not-a-zip": b"PK\x03\x04" + b"\x00" * 100,
        "pickle": pickle.dumps(Payload(marker)),
        "torch-pickle": _torch_pickle(marker),
        "zip-without-data": _empty_zip(),
        "only-step": {"step": 3},
        "wrong-shape": {**good, "model": model},
        "nan-weights": {**good, "model": nan},
        "step-not-a-number": {**good, "step": "abc"},
        "wrong-vocab-size": {**good, "model_config": {**good["model_config"], "vocab_size": 7}},
        "oversized-config": {**good, "model_config": {**good["model_config"], "n_hidden": 10**7}},
    }


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("archive/data.pkl", b"")
    return buffer.getvalue()
