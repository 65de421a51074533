"""Corpora of any size: the cached, memory-mapped token file (shakes_tui.engine.data.tokens)."""

import math
import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from shakes_tui.engine.data import corpus as corpus_module
from shakes_tui.engine.data import tokens
from shakes_tui.engine.data.corpus import Corpus, Vocab, load_corpus, read_text
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.evaluate import split_loss
from shakes_tui.engine.models import build_model, make_config
from shakes_tui.engine.runs import Eval, RunDir, Train
from shakes_tui.engine.training.trainer import Trainer

from tests.conftest import SMALL_TEXT
from tests.test_train import tiny_config

ROOT = Path(__file__).resolve().parents[1]
MIXED = "Ça va?\r\nÜber — naïve 🙂\rend\n" * 50  # multi-byte characters and every newline style


def test_token_file_holds_the_same_ids_as_the_text_in_memory(tmp_path, monkeypatch):
    path = tmp_path / "mixed.txt"
    path.write_bytes(MIXED.encode("utf-8"))
    monkeypatch.setattr(tokens, "CHUNK_BYTES", 7)  # chunks split characters and \r\n pairs
    ids, vocab = tokens.cached_tokens(path)
    text = read_text(path)  # universal newlines, as every corpus is read
    assert vocab == Vocab.from_text(text)
    assert ids.dtype == torch.uint8 and ids.tolist() == vocab.encode(text)
    files = sorted(p.name for p in tokens.token_cache_dir().iterdir())
    assert files == [f"{tokens.file_sha256(path)}.json", f"{tokens.file_sha256(path)}.uint8"]


def test_a_cached_text_is_not_encoded_again_and_a_damaged_cache_is(tmp_path, monkeypatch):
    path = tmp_path / "small.txt"
    path.write_text(SMALL_TEXT, encoding="utf-8")
    first = tokens.cached_tokens(path)[0].clone()  # a copy: the test damages the mapped file below
    encoded = []
    real_encode = tokens.encode_file
    monkeypatch.setattr(tokens, "encode_file", lambda *a, **k: encoded.append(1) or real_encode(*a, **k))
    assert torch.equal(tokens.cached_tokens(path)[0], first) and encoded == []
    token_file = tokens.token_cache_dir() / f"{tokens.file_sha256(path)}.uint8"
    token_file.write_bytes(token_file.read_bytes()[:-3])  # a torn file: its length no longer matches
    assert torch.equal(tokens.cached_tokens(path)[0], first) and encoded == [1]


def test_more_than_256_characters_take_two_bytes(tmp_path):
    text = "".join(chr(0x400 + i) for i in range(300)) * 3
    path = tmp_path / "wide.txt"
    path.write_text(text, encoding="utf-8")
    ids, vocab = tokens.cached_tokens(path)
    assert len(vocab) == 300 and ids.dtype == torch.uint16 and ids.tolist() == vocab.encode(text)


@pytest.mark.parametrize("content, message", [(b"ok\xff\xfebad", "not UTF-8"), (b"aaaa", "too small")])
def test_bad_large_texts_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ShakesError, match=message):
        tokens.cached_tokens(path)
    assert not list(tmp_path.rglob("*.json"))  # nothing half-made is cached


def test_progress_is_reported_while_encoding(tmp_path, monkeypatch):
    path = tmp_path / "small.txt"
    path.write_text(SMALL_TEXT, encoding="utf-8")
    monkeypatch.setattr(tokens, "CHUNK_BYTES", 1000)
    seen = []
    tokens.cached_tokens(path, progress=lambda done, total: seen.append((done, total)))
    size = path.stat().st_size
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == (size, size)


def test_load_corpus_maps_texts_above_the_threshold(tmp_path, monkeypatch):
    path = tmp_path / "small.txt"
    path.write_text(SMALL_TEXT, encoding="utf-8")
    in_memory = load_corpus(path)
    monkeypatch.setattr(corpus_module, "LARGE_TEXT_BYTES", 100)
    mapped = load_corpus(path)
    assert in_memory.text == SMALL_TEXT and mapped.text is None and mapped.train.dtype == torch.uint8
    assert mapped.vocab == in_memory.vocab
    assert torch.equal(mapped.train.long(), in_memory.train) and torch.equal(mapped.val.long(), in_memory.val)


@pytest.mark.parametrize("model", ["mercutio", "romeo"])
def test_training_from_the_token_file_matches_training_in_memory(tmp_path, model):
    path = tmp_path / "small.txt"
    path.write_text(SMALL_TEXT, encoding="utf-8")

    def losses(corpus, name):
        Trainer(tiny_config(model), corpus, RunDir(tmp_path / name)).run()
        return [(e.kind, e.loss if isinstance(e, Train) else e.val_loss) for e in RunDir(tmp_path / name).events()
                if isinstance(e, Train | Eval)]

    assert losses(Corpus.from_token_file(path), "mapped") == losses(Corpus.from_text(SMALL_TEXT), "memory")


@pytest.mark.parametrize("family", ["mercutio", "romeo"])
def test_validation_loss_over_a_mapped_split_matches_in_memory(tmp_path, family):
    path = tmp_path / "small.txt"
    path.write_text(SMALL_TEXT, encoding="utf-8")
    mapped, in_memory = Corpus.from_token_file(path), Corpus.from_text(SMALL_TEXT)
    torch.manual_seed(0)
    model = build_model(family, make_config(family, len(in_memory.vocab), "tiny"))
    assert math.isclose(split_loss(model, mapped.val), split_loss(model, in_memory.val), rel_tol=1e-6)


# ---- a 200 MB text, end to end ------------------------------------------------------------------
BIG_MB = 200
PEAK_RSS_LIMIT_MB = 1536  # the goal: under 1.5 GB (reading the whole text in memory took 3.7 GB)


def write_made_up_text(path: Path, megabytes: int) -> None:
    """Random letters of a made-up 19-character alphabet (not Shakespeare): one 8 MB block, written again and again."""
    alphabet = np.frombuffer(b"aeiou nrstlkmpdw\n.,", dtype=np.uint8)
    block = alphabet[np.random.default_rng(0).integers(0, alphabet.size, 8 << 20, dtype=np.uint8)].tobytes()
    with open(path, "wb") as f:
        for _ in range(megabytes // 8):
            f.write(block)


# Run in a small launcher that spawns the command and reports that grandchild's ru_maxrss: Linux counts a process's
# memory before exec in its maxrss, so a child forked straight from this (large) test process would report ours.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024)
"""


def run_on_a_terminal(argv: list[str], env: dict) -> tuple[int, int, str]:
    """Run argv with stderr on a pseudo-terminal; return its exit status, peak RSS in MB and what it drew."""
    master, slave = pty.openpty()
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, *argv], stdout=subprocess.PIPE, stderr=slave,
                                env=env, cwd=ROOT, text=True)
    os.close(slave)
    drawn = bytearray()

    def drain():
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            drawn.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    report, _ = launcher.communicate()
    reader.join(timeout=10)
    os.close(master)
    status, peak_mb = (int(v) for v in report.split())
    return status, peak_mb, drawn.decode("utf-8", "replace")


def test_a_200_mb_text_trains_in_bounded_memory_with_a_progress_bar(tmp_path):
    big = tmp_path / "big.txt"
    write_made_up_text(big, BIG_MB)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "100"}
    t0 = time.perf_counter()
    status, peak_mb, drawn = run_on_a_terminal(
        [sys.executable, "-m", "shakes_tui.engine", "train", "--model", "romeo", "--preset", "tiny", "--seq-len", "32",
         "--data", str(big), "--max-steps", "5", "--out", str(tmp_path / "run"), "--device", "cpu", "--threads", "1"],
        env)
    print(f"200 MB text, 5 tiny Romeo steps: peak RSS {peak_mb} MB, {time.perf_counter() - t0:.0f} s")
    assert status == 0, drawn[-2000:]
    assert "encoding corpus" in drawn
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb} MB"
    token_files = list((tmp_path / "cache" / "shakes-tui" / "tokens").glob("*.uint8"))
    assert [p.stat().st_size for p in token_files] == [BIG_MB << 20]
    evals = [e for e in RunDir(tmp_path / "run").events() if isinstance(e, Eval)]
    assert evals and all(math.isfinite(e.val_loss) for e in evals)
