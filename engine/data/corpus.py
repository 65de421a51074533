"""The corpus: finding the text, its vocabulary, the standard split, and batches.

Where the text comes from, in order: an explicit path (``--data``), the environment
variable ``SHAKES_DATA``, a cached download, else a fresh download (sha256-checked).
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
import torch
from shakes_tui.engine.atomic import atomic_path
from shakes_tui.engine.errors import ShakesError

CORPUS_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
CORPUS_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
DATA_ENV = "SHAKES_DATA"
TRAIN_FRACTION = 0.9  # first 90 % train, last 10 % validation: the standard split
LARGE_TEXT_BYTES = 16 << 20  # texts larger than this are encoded once to a cached token file and memory-mapped

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


def cache_dir() -> Path:
    """The user's cache folder for this app (Linux: $XDG_CACHE_HOME/shakes-tui, else ~/.cache/shakes-tui)."""
    return Path(platformdirs.user_cache_dir("shakes-tui", appauthor=False))


def cached_corpus_path() -> Path:
    return cache_dir() / "tinyshakespeare.txt"


def find_corpus(data: str | os.PathLike | None = None, *, download: bool = True,
                url: str = CORPUS_URL, sha256: str = CORPUS_SHA256,
                progress: Progress | None = None) -> Path:
    """Return the path of the corpus, downloading it into the cache if nothing else is found."""
    if data:
        return _existing_file(Path(data), "--data")
    if os.environ.get(DATA_ENV):
        return _existing_file(Path(os.environ[DATA_ENV]), DATA_ENV)
    cached = cached_corpus_path()
    if cached.is_file():
        return cached
    if not download:
        raise ShakesError(
            f"no corpus found: pass --data PATH or set {DATA_ENV}, or let shakes-train download it")
    download_corpus(url, cached, sha256, progress=progress)
    return cached


def _existing_file(path: Path, source: str) -> Path:
    if not path.exists():
        raise ShakesError(f"corpus file not found: {path} (from {source})")
    if not path.is_file():
        raise ShakesError(f"corpus path is not a file: {path} (from {source})")
    return path


def download_corpus(url: str, dest: Path, sha256: str, *, progress: Progress | None = None,
                    timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest``, check its sha256, and write it atomically.

    A failed, truncated or mismatched download leaves nothing behind.
    """
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(dest) as tmp:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            done = 0
            with open(tmp, "wb") as out:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total is not None and done != total:
                raise ShakesError(f"download of {url} was cut short: {done} of {total} bytes")
            if digest.hexdigest() != sha256:
                raise ShakesError(
                    f"download of {url} has the wrong sha256 ({digest.hexdigest()[:12]}..., "
                    f"expected {sha256[:12]}...); nothing was cached")
    except urllib.error.HTTPError as exc:
        raise ShakesError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ShakesError(f"download of {url} failed: {reason}. "
                          f"Pass --data PATH or set {DATA_ENV} to use a local copy.") from None
    return dest


def read_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file that has at least two distinct characters."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ShakesError(f"corpus file not found: {path}") from None
    except IsADirectoryError:
        raise ShakesError(f"corpus path is a folder, not a file: {path}") from None
    except PermissionError:
        raise ShakesError(f"cannot read corpus file (permission denied): {path}") from None
    except UnicodeDecodeError as exc:
        raise ShakesError(f"corpus file is not UTF-8 text: {path} (bad byte at {exc.start})") from None
    if len(text) < 2 or len(set(text)) < 2:
        raise ShakesError(f"corpus file is too small to learn from (needs 2+ distinct characters): {path}")
    return text


@dataclass(frozen=True)
class Vocab:
    """The sorted set of characters of the text; index i stands for chars[i]."""

    chars: str
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stoi", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[c] for c in text]
        except KeyError as exc:
            raise ShakesError(f"character {exc.args[0]!r} is not in the vocabulary") from None

    def encode_lenient(self, text: str) -> tuple[list[int], list[str]]:
        """Encode what the vocabulary knows; return the ids and the characters dropped."""
        ids = [self.stoi[c] for c in text if c in self.stoi]
        dropped = [c for c in text if c not in self.stoi]
        return ids, dropped

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


@dataclass
class Corpus:
    text: str | None  # None when the ids are memory-mapped from a token file
    vocab: Vocab
    train: torch.Tensor  # (N_train,) int64, or uint8/uint16 when memory-mapped
    val: torch.Tensor  # (N_val,)

    @classmethod
    def from_text(cls, text: str) -> Corpus:
        vocab = Vocab.from_text(text)
        return cls.from_ids(torch.tensor(vocab.encode(text), dtype=torch.long), vocab, text)

    @classmethod
    def from_ids(cls, ids: torch.Tensor, vocab: Vocab, text: str | None = None) -> Corpus:
        n_train = int(len(ids) * TRAIN_FRACTION)
        return cls(text, vocab, ids[:n_train], ids[n_train:])

    @classmethod
    def from_token_file(cls, path: str | os.PathLike, progress: Progress | None = None) -> Corpus:
        """The text encoded once into a cached, memory-mapped token file (see shakes_tui.engine.data.tokens)."""
        from shakes_tui.engine.data.tokens import cached_tokens  # engine.data.tokens builds on this module

        return cls.from_ids(*cached_tokens(path, progress))


def load_corpus(data: str | os.PathLike | None = None, *, encode_progress: Progress | None = None,
                **find_kwargs) -> Corpus:
    """The corpus ``find_corpus`` finds, read by ``corpus_at``."""
    return corpus_at(find_corpus(data, **find_kwargs), encode_progress=encode_progress)


def corpus_at(path: Path, *, encode_progress: Progress | None = None) -> Corpus:
    """The text at path in memory, or memory-mapped from its token file when it is larger than LARGE_TEXT_BYTES."""
    if path.stat().st_size > LARGE_TEXT_BYTES:
        return Corpus.from_token_file(path, encode_progress)
    return Corpus.from_text(read_text(path))
