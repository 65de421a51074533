"""Issue 9, item 6: long work says what it is doing (the app's Ctrl+Q is in test_app.py)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest
import torch
from shakes_tui.engine.evaluate import split_loss
from shakes_tui.engine.shipped import weights_for
from shakes_tui.engine.weights import load_weights


def on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run `python -m shakes_tui.engine ARGS` with its stderr on a pseudo-terminal (100x30), as a person sees it:
    the exit status and all that was drawn there."""
    main, sub = pty.openpty()
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "shakes_tui.engine", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=sub)
    os.close(sub)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return proc.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("model", ["benvolio", "romeo"])  # read in order with a state; read in windows
def test_split_loss_tells_its_progress_up_to_the_last_character(model):
    loaded = load_weights(weights_for(model))
    ids = torch.randint(0, len(loaded.vocab.chars), (9000,), generator=torch.Generator().manual_seed(0))
    calls: list[tuple[int, int]] = []
    loss = split_loss(loaded.model, ids, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 2 and calls[-1] == (8999, 8999)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert loss == pytest.approx(split_loss(loaded.model, ids))


def test_train_and_eval_on_a_terminal_say_what_they_are_doing(tmp_path, small_text_file):
    run = tmp_path / "run"
    code, shown = on_a_terminal(["train", "--model", "benvolio", "--preset", "tiny", "--data", str(small_text_file),
                                 "--out", str(run), "--max-steps", "30", "--seq-len", "16", "--batch-size", "4",
                                 "--device", "cpu", "--threads", "1"])
    assert code == 0, shown
    assert "measuring the validation loss at step 0" in shown  # the first thing a fresh run does
    assert "starting" not in shown and "-:--:--" not in shown
    code, shown = on_a_terminal(["eval", "--weights", str(run / "weights.safetensors"), "--data",
                                 str(small_text_file), "--threads", "1"])
    assert code == 0, shown
    assert "evaluating" in shown and "-:--:--" not in shown
