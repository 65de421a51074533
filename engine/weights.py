"""Self-describing weights: one .safetensors file per model.

The metadata holds the family, its config, the vocabulary and a training summary, so a
file is all a loader needs. Loading runs no code (no pickle), so a stranger's file is safe.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from shakes_tui.engine.atomic import atomic_path
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import CharModel, build_model, family_names, get_family
from torch.overrides import TorchFunctionMode

FORMAT = "shakes-tui/1"
STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
HEADER_DTYPES = ("F32", "F16", "BF16")  # the same, as safetensors' header names them
MAX_HEADER_BYTES = 1 << 20  # our headers are a few kilobytes; a bigger one is not ours
# Upper bounds on what a weights file may declare: far above any sensible character model, far below
# what would exhaust memory (tensor shapes are also checked against the file before anything is built).
CONFIG_LIMITS = {"vocab_size": 1 << 16, "n_embd": 1 << 14, "n_hidden": 1 << 14, "n_layer": 128, "n_head": 256,
                 "block_size": 1 << 16}


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
        _write(tensors, tmp, metadata, path)
    return path


def _write(tensors: dict, tmp: Path, metadata: dict, target: Path) -> None:
    try:
        save_file(tensors, str(tmp), metadata=metadata)
    except SafetensorError as exc:  # a failed write (disk full, a file-size limit) as the OSError it is
        raise OSError(errno.EIO, str(exc).strip().splitlines()[0], str(target)) from None


def read_metadata(path: str | os.PathLike) -> dict:
    return read_header(path)[0]


def _bad_length(length: int, size: int) -> str:
    """Why a file's first 8 bytes cannot be a safetensors header's length, in words."""
    if length < 0:
        return f"it is {size:,} bytes long, too short to begin with a header"
    if length == 0:
        return "its header is empty"
    if length > MAX_HEADER_BYTES:
        return f"its first 8 bytes announce a header of {length:,} bytes, more than the {MAX_HEADER_BYTES:,} allowed"
    return f"its first 8 bytes announce a header of {length:,} bytes, more than the {size - 8:,} after them"


def read_header(path: str | os.PathLike) -> tuple[dict, dict[str, dict]]:
    """The metadata and the tensor table (name -> dtype, shape, data_offsets) of a weights file,
    read from its JSON header alone: nothing is allocated for tensors."""
    path = _existing(path)
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            length = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
            if not 0 < length <= min(MAX_HEADER_BYTES, size - 8):
                raise ShakesError(f"{path}: not a weights file this program wrote ({_bad_length(length, size)})")
            header = json.loads(f.read(length))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # RecursionError: JSON
        raise ShakesError(f"{path}: not a readable weights file ({type(exc).__name__})") from None  # nested deep
    meta = header.pop("__metadata__", None) if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ShakesError(f"{path}: not a shakes-tui weights file (no '{FORMAT}' metadata)")
    return meta, header


def load_weights(path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedModel:
    """Load a weights file into a float32 model on ``device``, in eval mode, for inference.

    Everything the file declares is checked before anything is built: the config's types and
    ranges, the vocabulary, each tensor's name, dtype and shape, and finally that every value
    is finite. A file that fails any check raises one ShakesError naming it.
    """
    path = _existing(path)
    meta, table = read_header(path)
    try:
        family, config, vocab, summary = checked_description(meta)
        check_tensor_table(table, expected_shapes(family, config), get_family(family).model_cls.optional_tensors)
        tensors = _read_tensors(path)
    except ShakesError as exc:
        raise ShakesError(f"{path}: {exc}") from None
    model = build_model(family, config)
    if "head.weight" not in tensors and "tok_emb.weight" in tensors:
        tensors["head.weight"] = tensors["tok_emb.weight"]
    model.load_state_dict(tensors, strict=True)
    model.inference_only = True  # nothing trains it: generation may re-lay its weights (models/decode.py)
    return LoadedModel(model.to(device).eval(), vocab, summary, path)


def checked_description(meta: dict):
    """(family, config, vocab, summary) from a file's metadata, each checked for type and range."""
    family = meta.get("family")
    if family not in family_names():
        raise ShakesError(f"unknown model family {family!r}")
    config = checked_config(family, _json_field(meta, "config", dict))
    chars = _json_field(meta, "vocab", (list, str))
    if not all(isinstance(c, str) and len(c) == 1 for c in chars) or len(set(chars)) != len(chars):
        raise ShakesError("its vocabulary is not a list of distinct single characters")
    if any("\ud800" <= c <= "\udfff" for c in chars):  # half of a UTF-16 pair: no text holds one, none prints
        raise ShakesError("its vocabulary holds a lone surrogate (U+D800 to U+DFFF), not a character")
    if len(chars) != config.vocab_size:
        raise ShakesError(f"its vocabulary has {len(chars)} characters but its config says {config.vocab_size}")
    summary = _json_field(meta, "summary", dict, default="{}")
    return family, config, Vocab("".join(chars)), summary


def checked_config(family: str, values: dict):
    """A config of ``family`` from untrusted values: known keys only, each of the default's type and
    within CONFIG_LIMITS (dropout in [0, 1)); refuses before any tensor is allocated."""
    config_cls = get_family(family).config_cls
    defaults = {f.name: f.default for f in dataclasses.fields(config_cls)}
    for key, value in values.items():
        if key not in defaults:
            raise ShakesError(f"its {family} config has an unknown setting {key!r}")
        if not _fits(value, defaults[key]):
            raise ShakesError(f"its config's {key} = {value!r} is not a sensible {type(defaults[key]).__name__}")
        if key in CONFIG_LIMITS and not 1 <= value <= CONFIG_LIMITS[key]:
            raise ShakesError(f"its config's {key} = {value!r} is out of range (1 to {CONFIG_LIMITS[key]:,})")
        if key == "dropout" and not 0 <= value < 1:
            raise ShakesError(f"its config's dropout = {value!r} is out of range (at least 0, below 1)")
    config = config_cls(**values)
    if getattr(config, "n_head", None) and config.n_embd % config.n_head:
        raise ShakesError(f"its config's n_embd ({config.n_embd}) is not a multiple of n_head ({config.n_head})")
    return config


def expected_shapes(family: str, config) -> dict[str, tuple[int, ...]]:
    """The tensor shapes a model of this config has, computed on the meta device (no memory used)."""
    with torch.device("meta"), _NoNormalInit():
        model = build_model(family, config)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


class _NoNormalInit(TorchFunctionMode):
    """Skips normal_ on the (meta) tensors being built: on the meta device it runs through
    torch._refs, which imports torch._dynamo (measured: 80 MB of resident memory and 2.7 s for
    the app, which never compiles anything). Meta tensors hold no values to initialise anyway."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (torch.nn.init.normal_, torch.nn.init.trunc_normal_, torch.Tensor.normal_):
            return args[0] if args else (kwargs or {})["tensor"]
        return func(*args, **(kwargs or {}))


def check_tensor_table(table: dict, expected: dict[str, tuple[int, ...]], optional: tuple[str, ...] = ()) -> None:
    """optional: tensors a file may lack (older files: the model gives them a default when loading)."""
    names = set(table)
    missing = set(expected) - names - {"head.weight", *optional}  # a tied head is stored once, as the embedding
    if missing or names - set(expected):
        odd = sorted(missing) or sorted(names - set(expected))
        raise ShakesError(f"its tensors do not match its config ({'missing' if missing else 'unexpected'}: "
                          f"{', '.join(odd[:3])})")
    for name, entry in table.items():
        shape = tuple(entry.get("shape", ())) if isinstance(entry, dict) else None
        if shape != expected[name]:
            raise ShakesError(f"its tensors do not match its config: {name} has shape {shape}, "
                              f"the config needs {expected[name]}")
        if entry.get("dtype") not in HEADER_DTYPES:
            raise ShakesError(f"its tensor {name} is stored as {entry.get('dtype')!r}, not a float type")


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        with safe_open(str(path), framework="pt") as f:
            tensors = {k: f.get_tensor(k).float() for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ShakesError(f"damaged weights file ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    for name, t in tensors.items():
        if not torch.isfinite(t).all():
            raise ShakesError(f"its tensor {name} holds NaN or infinite values")
    return tensors


def _json_field(meta: dict, key: str, kind, default: str | None = None):
    try:
        value = json.loads(meta.get(key, default))
    except (TypeError, json.JSONDecodeError, RecursionError):
        raise ShakesError(f"its metadata's {key} is not JSON (or nested too deep)") from None
    if not isinstance(value, kind):
        raise ShakesError(f"its metadata's {key} is not a {getattr(kind, '__name__', 'list or string')}")
    return value


def _fits(value, default) -> bool:
    """Whether an untrusted value has the type of the field's default (ints and floats finite)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, float):
        return isinstance(value, int | float) and math.isfinite(value)
    return False


def update_summary(path: str | os.PathLike, **changes) -> None:
    """Rewrite a weights file with its summary updated (atomically; tensors unchanged)."""
    path = _existing(path)
    meta = read_metadata(path)
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    summary = {**json.loads(meta.get("summary", "{}")), **changes}
    meta["summary"] = json.dumps(summary)
    with atomic_path(path) as tmp:
        _write(tensors, tmp, meta, path)


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ShakesError(f"weights file not found: {path}")
    return path
