"""Self-describing weights: one .safetensors file per model.

The metadata holds the family, its config, the vocabulary and a training summary, so a
file is all a loader needs. Loading runs no code (no pickle), so a stranger's file is safe.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from engine.atomic import atomic_path
from engine.corpus import Vocab
from engine.errors import ShakesError
from engine.models import CharModel, build_model, config_from_dict

FORMAT = "shakes-tui/1"
STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class LoadedModel:
    model: CharModel
    vocab: Vocab
    summary: dict  # training summary: steps, val_loss, command, ...
    path: Path | None = None

    @property
    def family(self) -> str:
        return self.model.family


def save_weights(path: str | os.PathLike, model: CharModel, vocab: Vocab, summary: dict | None = None,
                 dtype: str = "float32") -> Path:
    """Write ``model`` to ``path`` atomically; weights are stored as ``dtype``."""
    tensors = {}
    seen = {}
    for name, t in model.state_dict().items():
        if t.data_ptr() in seen:  # tied weights (Romeo's head) are stored once
            continue
        seen[t.data_ptr()] = name
        tensors[name] = t.detach().to("cpu", STORAGE_DTYPES[dtype]).contiguous()
    metadata = {
        "format": FORMAT,
        "family": model.family,
        "config": json.dumps(dataclasses.asdict(model.config)),
        "vocab": json.dumps(vocab.chars),
        "summary": json.dumps(summary or {}),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    path = _existing(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ShakesError(f"{path}: not a readable weights file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise ShakesError(f"{path}: not a shakes-tui weights file (no '{FORMAT}' metadata)")
    return meta


def load_weights(path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedModel:
    """Load a weights file into a float32 model on ``device``, in eval mode."""
    path = _existing(path)
    meta = read_metadata(path)
    try:
        config = config_from_dict(meta["family"], json.loads(meta["config"]))
        vocab = Vocab(json.loads(meta["vocab"]))
        summary = json.loads(meta.get("summary", "{}"))
        with safe_open(str(path), framework="pt") as f:
            tensors = {k: f.get_tensor(k).float() for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except ShakesError as exc:
        raise ShakesError(f"{path}: {exc}") from None
    except (SafetensorError, OSError, ValueError, TypeError, KeyError) as exc:
        raise ShakesError(f"{path}: damaged weights file ({type(exc).__name__}: {exc})") from None
    model = build_model(meta["family"], config)
    if "head.weight" not in tensors and "tok_emb.weight" in tensors:
        tensors["head.weight"] = tensors["tok_emb.weight"]
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ShakesError(f"{path}: weights do not match the {meta['family']} config ({first})") from None
    return LoadedModel(model.to(device).eval(), vocab, summary, path)


def update_summary(path: str | os.PathLike, **changes) -> None:
    """Rewrite a weights file with its summary updated (atomically; tensors unchanged)."""
    path = _existing(path)
    meta = read_metadata(path)
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    summary = {**json.loads(meta.get("summary", "{}")), **changes}
    meta["summary"] = json.dumps(summary)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ShakesError(f"weights file not found: {path}")
    return path
