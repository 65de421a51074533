import hashlib
import http.server
import threading

import pytest
from shakes_tui.engine.data.corpus import (
    Corpus,
    Vocab,
    cached_corpus_path,
    download_corpus,
    find_corpus,
    load_corpus,
    read_text,
)
from shakes_tui.engine.errors import ShakesError


def test_real_corpus_vocab_and_standard_split(real_corpus_path):
    corpus = load_corpus(real_corpus_path)
    assert len(corpus.vocab) == 65
    assert (corpus.train.numel(), corpus.val.numel()) == (1_003_854, 111_540)
    assert corpus.vocab.chars == "".join(sorted(set(corpus.text)))


def test_vocab_roundtrip_and_lenient_encoding():
    vocab = Vocab.from_text("hello world")
    assert vocab.decode(vocab.encode("hello")) == "hello"
    ids, dropped = vocab.encode_lenient("hello, World!")
    assert vocab.decode(ids) == "hello orld" and dropped == [",", "W", "!"]
    with pytest.raises(ShakesError, match="not in the vocabulary"):
        vocab.encode("Z")


def test_any_text_file_works(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("ab" * 50, encoding="utf-8")
    corpus = load_corpus(path)
    assert corpus.vocab.chars == "ab" and corpus.train.numel() == 90


def test_find_order_data_then_env_then_cache(tmp_path, monkeypatch):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("aa"), b.write_text("bb")
    cached = cached_corpus_path()
    cached.parent.mkdir(parents=True)
    cached.write_text("cc")
    monkeypatch.setenv("SHAKES_DATA", str(b))
    assert find_corpus(a) == a
    assert find_corpus() == b
    monkeypatch.delenv("SHAKES_DATA")
    assert find_corpus() == cached


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
    (b"", "too small"),
    (b"aaaa", "too small"),
])
def test_bad_corpus_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ShakesError, match=message):
        read_text(path)


def test_folder_is_not_a_corpus(tmp_path):
    with pytest.raises(ShakesError, match="folder"):
        read_text(tmp_path)
    with pytest.raises(ShakesError, match="not a file"):
        find_corpus(tmp_path)


def test_corpus_from_text_is_the_90_10_split():
    corpus = Corpus.from_text("abcdefghij" * 10)
    assert corpus.train.numel() == 90 and corpus.val.numel() == 10


# ---- download, against a real HTTP server on 127.0.0.1 ----------------------------------------
BODY = ("To be, or not to be, that is the question.\n" * 200).encode()
SHA = hashlib.sha256(BODY).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        if self.path == "/good":
            self._send(200, BODY, len(BODY))
        elif self.path == "/truncated":
            self._send(200, BODY[:100], len(BODY))
        else:
            self._send(500, b"boom", 4)

    def _send(self, code, body, length):
        self.send_response(code)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_good_file_is_cached_with_progress(server):
    seen = []
    path = find_corpus(url=f"{server}/good", sha256=SHA, progress=lambda done, total: seen.append((done, total)))
    assert path == cached_corpus_path() and path.read_bytes() == BODY
    assert seen[-1] == (len(BODY), len(BODY))
    assert find_corpus(url=f"{server}/server-error", sha256=SHA) == path  # second call uses the cache


@pytest.mark.parametrize("route, sha, message", [
    ("good", "0" * 64, "wrong sha256"),
    ("server-error", SHA, "HTTP 500"),
    ("truncated", SHA, "cut short"),
])
def test_failed_downloads_cache_nothing(server, tmp_path, route, sha, message):
    dest = tmp_path / "cache" / "corpus.txt"
    with pytest.raises(ShakesError, match=message):
        download_corpus(f"{server}/{route}", dest, sha)
    assert not dest.exists()
    assert list(dest.parent.glob("*")) == []  # no temporary file left behind either


def test_unreachable_server_says_what_to_do(tmp_path):
    with pytest.raises(ShakesError, match="--data PATH or set SHAKES_DATA"):
        download_corpus("http://127.0.0.1:9/none", tmp_path / "x.txt", SHA, timeout=2)
