"""Shared fixtures: the real corpus (from ../shared/data, never committed) and small texts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import shakes_tui.engine  # noqa: F401  before torch: OpenMP's idle threads then sleep (see engine/threads.py)

REAL_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"
SMALL_TEXT = (
    "WARDEN:\nThe lamps are lit along the quay tonight.\n\n"
    "PILOT:\nThen steer us home, and mind the shallow bar.\n\nWARDEN:\nI mind it well; the tide is kind to us.\n\n"
) * 40  # written for these tests; not from the corpus


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    """No test reads the user's cache or environment; torch stays on few threads."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SHAKES_DATA", raising=False)
    import torch  # after engine, above

    torch.set_num_threads(2)


@pytest.fixture
def one_thread():
    """Tiny models: one thread (a second only adds synchronisation, which costs much on a loaded machine)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def real_corpus_path() -> Path:
    path = Path(os.environ.get("SHAKES_TEST_CORPUS", REAL_CORPUS))
    if not path.is_file():
        pytest.skip(f"real corpus not at {path}")
    return path


@pytest.fixture
def small_text_file(tmp_path) -> Path:
    path = tmp_path / "small.txt"
    path.write_text(SMALL_TEXT, encoding="utf-8")
    return path
