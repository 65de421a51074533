"""Corpora of any size: a text is encoded once into a cached token file, then memory-mapped.

The token file lives beside the corpus cache (``cache_dir()/tokens/SHA256.uint8`` or ``.uint16``, by the
vocabulary's size), keyed by the sha256 of the text's bytes, with ``SHA256.json`` beside it (the vocabulary
and the length). Both are written atomically, the JSON last, so a file without its JSON is never read.
Hashing, the vocabulary and the encoding each stream the text in chunks: memory stays bounded whatever
the size of the text, and training reads batches straight from the mapped file.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from shakes_tui.engine.atomic import atomic_path
from shakes_tui.engine.data.corpus import Vocab, cache_dir
from shakes_tui.engine.errors import ShakesError

CHUNK_BYTES = 1 << 22  # 4 MiB of text per chunk: a few tens of MB in flight while encoding
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


def token_cache_dir() -> Path:
    return cache_dir() / "tokens"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def text_chunks(path: Path, progress: Progress | None = None) -> Iterator[str]:
    """The text in chunks, decoded as UTF-8 with universal newlines, exactly as ``Path.read_text`` reads it."""
    decoder = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder("utf-8")(), translate=True)
    total, done = path.stat().st_size, 0
    with open(path, "rb") as f:
        while True:
            raw = f.read(CHUNK_BYTES)
            try:
                chunk = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                raise ShakesError(f"corpus file is not UTF-8 text: {path} (bad byte near {done + exc.start})") from None
            done += len(raw)
            if progress:
                progress(done, total)
            if chunk:
                yield chunk
            if not raw:
                return


def streaming_vocab(path: Path) -> Vocab:
    """The vocabulary of a text of any size, from one pass over its chunks."""
    chars: set[str] = set()
    for chunk in text_chunks(path):
        points = code_points(chunk)
        chars.update(map(chr, np.flatnonzero(np.bincount(points))) if points.dtype == np.uint8 else chunk)
    if len(chars) < 2:
        raise ShakesError(f"corpus file is too small to learn from (needs 2+ distinct characters): {path}")
    return Vocab("".join(sorted(chars)))


def code_points(chunk: str) -> np.ndarray:
    """The chunk's code points: one byte each when it is ASCII (the common case, and 4x less to copy)."""
    if chunk.isascii():  # O(1) in CPython
        return np.frombuffer(chunk.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(chunk.encode("utf-32-le"), dtype="<u4")


def token_dtype(vocab: Vocab) -> np.dtype:
    if len(vocab) <= 1 << 8:
        return np.dtype(np.uint8)
    if len(vocab) <= 1 << 16:
        return np.dtype(np.uint16)
    raise ShakesError(f"the text has {len(vocab):,} distinct characters; at most 65,536 are supported")


def encode_file(path: Path, vocab: Vocab, dest: Path, progress: Progress | None = None) -> int:
    """Write the token ids of the text at ``path`` to ``dest`` (atomically), chunk by chunk; return how many."""
    codes = np.array([ord(c) for c in vocab.chars])
    lookup = np.zeros(codes.max() + 1, dtype=token_dtype(vocab))  # code point -> token id
    lookup[codes] = np.arange(len(codes))
    count = 0
    with atomic_path(dest) as tmp, open(tmp, "wb") as out:
        for chunk in text_chunks(path, progress):
            points = code_points(chunk)
            out.write(lookup[points].tobytes())
            count += points.size
    return count


def cached_tokens(path: str | os.PathLike, progress: Progress | None = None) -> tuple[torch.Tensor, Vocab]:
    """The text's token ids, memory-mapped from its token file (encoded first if not cached), and its vocabulary."""
    path = Path(path)
    key = file_sha256(path)
    meta_path = token_cache_dir() / f"{key}.json"
    mapped = _open_cached(meta_path)
    if mapped is None:
        vocab = streaming_vocab(path)
        tokens_path = token_cache_dir() / f"{key}.{token_dtype(vocab).name}"
        count = encode_file(path, vocab, tokens_path, progress)
        meta = {"chars": vocab.chars, "tokens": count, "dtype": token_dtype(vocab).name, "file": tokens_path.name}
        with atomic_path(meta_path) as tmp:
            tmp.write_text(json.dumps(meta), encoding="utf-8")
        mapped = _open_cached(meta_path)
    return mapped


def _open_cached(meta_path: Path) -> tuple[torch.Tensor, Vocab] | None:
    """The mapped tokens and vocabulary a cache entry describes, or None if it is absent or incomplete."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tokens_path = meta_path.with_name(meta["file"])
        dtype = np.dtype(meta["dtype"])
        if tokens_path.stat().st_size != meta["tokens"] * dtype.itemsize:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # copy-on-write mapping: torch wants a writable array; pages are read from the file as they are touched
    ids = np.memmap(tokens_path, dtype=dtype, mode="c", shape=(meta["tokens"],))
    return torch.from_numpy(ids), Vocab(meta["chars"])
