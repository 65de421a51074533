"""The run directory's contract: typed events, one encoder and decoder, a follower that never fails."""

import json
import os

import pytest
from shakes_tui.engine import runs
from shakes_tui.engine.runs import (
    SAMPLE_CHARS,
    BadLine,
    Checkpoint,
    Eval,
    Failed,
    Finished,
    Follower,
    RunDir,
    Start,
    Train,
    decode,
    encode,
    new_run_path,
)

EXAMPLES = [
    Start(model="mercutio", step=0, params=1234, device="cpu", config={"lr": 0.1}, model_config={"n_layer": 2}),
    Train(step=10, loss=2.5, lr=0.001, chars_per_s=5000.0, elapsed=1.5),
    Eval(step=10, train_loss=2.4, val_loss=2.6, sample="to sea\n"),
    Checkpoint(step=10, path="runs/x/weights.safetensors"),
    Finished(step=10, reason="signal", elapsed=1.5, val_loss=None),
    Failed(step=11, reason="loss became nan"),
]
TRAIN_LINE = '{"type": "train", "step": %s, "loss": 2.0, "lr": 0.1, "chars_per_s": 10, "elapsed": 1.0}'


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.kind)
def test_every_event_survives_encode_and_decode(event):
    line = encode(event)
    assert json.loads(line)["type"] == event.kind
    assert decode(line) == event
    assert decode(line.encode()) == event


def test_an_int_is_a_fine_float():
    event = decode(TRAIN_LINE % 3)
    assert isinstance(event, Train) and event.chars_per_s == 10.0


def test_unknown_extra_keys_are_ignored():
    assert decode('{"type": "checkpoint", "step": 1, "path": "w", "note": "new"}') == Checkpoint(step=1, path="w")


@pytest.mark.parametrize("line, why", [
    (b"\xff\xfe not utf-8\n", "not JSON"),
    ("{not json", "not JSON"),
    ("42", "not a JSON object"),
    ('["train"]', "not a JSON object"),
    ('{"step": 1}', "unknown event type"),
    ('{"type": "lunch", "step": 1}', "unknown event type"),
    ('{"type": 7, "step": 1}', "unknown event type"),
    ('{"type": "train"}', "without step"),
    (TRAIN_LINE % '"abc"', "train.step"),
    (TRAIN_LINE % "1.5", "train.step"),
    (TRAIN_LINE % "true", "train.step"),
    ('{"type": "checkpoint", "step": 1}', "without path"),
    ('{"type": "checkpoint", "step": 1, "path": 3}', "checkpoint.path"),
    (TRAIN_LINE.replace('"lr": 0.1', '"lr": NaN') % 1, "train.lr is nan, not a number"),
    (TRAIN_LINE.replace('"elapsed": 1.0', '"elapsed": Infinity') % 1, "train.elapsed is inf"),
    (TRAIN_LINE.replace('"loss": 2.0', '"loss": NaN') % 1, "train.loss is nan"),
    (TRAIN_LINE.replace('"loss": 2.0', '"loss": -Infinity') % 1, "train.loss is -inf"),
    (TRAIN_LINE.replace('"loss": 2.0', '"loss": 1e308') % 1, "train.loss is 1e[+]308, not a number from 0 to 1e[+]06"),
    (TRAIN_LINE.replace('"loss": 2.0', '"loss": -1e308') % 1, "train.loss is -1e[+]308"),
    (TRAIN_LINE % 10**30, "train.step is about 1e[+]30, not a number from 0 to 1e[+]15"),
    (TRAIN_LINE % 10**400, "train.step is about 1e[+]400"),
    (TRAIN_LINE % -1, "train.step is -1"),
    ('{"type": "eval", "step": 1, "train_loss": 2, "val_loss": NaN, "sample": "x"}', "eval.val_loss is nan"),
    ('{"type": "checkpoint", "step": 1, "path": "%s"}' % ("p" * 5000), "checkpoint.path is 5,000 characters"),
    ("[" * 100_000 + "]" * 100_000, "not JSON [(]RecursionError[)]"),
    ('{"type": "start", "model": "x", "step": 0, "params": 1, "device": "cpu", "config": [], "model_config": {}}',
     "start.config"),
    ('{"type": "finished", "step": 1, "reason": "done", "elapsed": 1.0, "val_loss": "low"}', "finished.val_loss"),
])
def test_a_malformed_line_is_refused_with_a_reason(line, why):
    with pytest.raises(BadLine, match=why):
        decode(line)


def test_a_long_sample_is_cut_on_reading():
    event = decode('{"type": "eval", "step": 1, "train_loss": 2, "val_loss": 2, "sample": "%s"}' % ("ab" * 10**6))
    assert event.sample == "ab" * (SAMPLE_CHARS // 2)


def test_the_follower_reads_a_long_history_in_chunks(tmp_path):
    run = RunDir(tmp_path / "run").create()
    run.metrics_path.write_text("".join(TRAIN_LINE % i + "\n" for i in range(200_000)))
    follower, sizes = Follower(run.path), []
    while not sizes or not follower.at_end:
        sizes.append(len(follower.read_new()))
    assert sum(sizes) == 200_000 and max(sizes) < 20_000 and len(sizes) > 5
    assert RunDir(run.path).events()[-1].step == 199_999  # events() reads them all


def test_a_line_too_long_to_hold_is_skipped_and_counted_and_the_next_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "MAX_LINE_BYTES", 5000)
    run = RunDir(tmp_path / "run").create()
    run.metrics_path.write_text(TRAIN_LINE % 1 + "\n" + "x" * 20_000 + "\n" + TRAIN_LINE % 2 + "\n")
    follower = Follower(run.path)
    steps = [e.step for _ in range(40) for e in follower.read_new(max_bytes=1000)]
    assert steps == [1, 2] and follower.skipped == 1 and len(follower.buffer) == 0


@pytest.mark.parametrize("kind", ["FIFO", "folder"])
def test_a_metrics_path_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path, kind):
    run = RunDir(tmp_path / "run").create()
    os.mkfifo(run.metrics_path) if kind == "FIFO" else run.metrics_path.mkdir()
    follower = Follower(run.path)
    assert list(follower.batches(poll=0.01, until_final=False)) == []  # ends at once: nothing will ever be read
    warning = follower.take_warning()
    assert f"is a {kind}, not a regular file" in warning and "\n" not in warning
    assert follower.take_warning() is None


def test_follower_skips_a_torn_last_line_and_a_garbage_middle_line_and_says_so_once(tmp_path):
    run = RunDir(tmp_path / "run")
    follower = Follower(run.path)
    assert follower.read_new() == [] and follower.take_warning() is None  # no file yet: nothing, no error
    run.create()
    with open(run.metrics_path, "w") as f:
        f.write(TRAIN_LINE % 1 + "\n")
        f.write('{"type": "train", "st\x00garbage\n')  # a damaged line in the middle
        f.write(TRAIN_LINE % 2 + "\n")
        f.write((TRAIN_LINE % 3)[:25])  # torn: the writer has not finished it
    assert [e.step for e in follower.read_new()] == [1, 2]
    assert follower.skipped == 1
    warning = follower.take_warning()
    assert "skipped 1 unreadable line" in warning and str(run.metrics_path) in warning
    assert follower.take_warning() is None  # said once
    with open(run.metrics_path, "a") as f:
        f.write((TRAIN_LINE % 3)[25:] + "\n")  # the torn line is completed: it is read, once
        f.write("42\n")
    assert [e.step for e in follower.read_new()] == [3]
    assert follower.read_new() == []
    assert follower.skipped == 2 and follower.take_warning() is None


def test_the_writer_stamps_the_time_and_the_reader_gets_typed_events(tmp_path):
    run = RunDir(tmp_path / "run").create()
    for event in EXAMPLES:
        run.append(event)
    read = run.events()
    assert [type(e) for e in read] == [type(e) for e in EXAMPLES]
    assert all(e.time is not None for e in read)
    assert read[2].sample == "to sea\n"


def test_new_run_paths_are_named_by_model_and_time_and_create_nothing(tmp_path):
    path = new_run_path(tmp_path / "runs", "romeo")
    assert path.parent == tmp_path / "runs" and path.name.startswith("romeo-")
    assert not (tmp_path / "runs").exists()
