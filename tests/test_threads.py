"""Thread defaults for a shared machine (engine/threads.py); the slowdown itself is a bench row."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from shakes_tui.engine.threads import idle_cores, others_running


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env})


def test_importing_the_engine_makes_idle_threads_spin_briefly_before_torch_loads():
    code = ("import os, sys, engine\nassert 'torch' not in sys.modules\n"
            "import shakes_tui.engine.cli.common\nprint(os.environ['GOMP_SPINCOUNT'])")
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10000"


@pytest.mark.parametrize("env", [{"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "0"}])
def test_a_users_wait_policy_or_spin_count_wins(env):
    result = _run("import os, shakes_tui.engine.cli.common\n"
                  "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))", **env)
    assert result.stdout.split() == [env.get("OMP_WAIT_POLICY", "None"), env.get("GOMP_SPINCOUNT", "None")]


def test_other_running_threads_are_read_now_not_averaged_over_a_minute():
    quiet, busy = iter(["3.90 2.10 1.00 1/400 99"] * 5), iter(["0.10 0.10 0.10 4/400 99"] * 5)
    assert others_running(read=lambda: next(quiet)) == 0  # a minute's average of 3.9, but only this one runs now
    assert others_running(read=lambda: next(busy)) == 3
    assert others_running(read=lambda: "garbage") >= 0  # unreadable: the load average instead


def test_threads_follow_the_idle_cores():
    assert idle_cores(cores=2, load=0.1) == 2
    assert idle_cores(cores=2, load=0.9) == 1
    assert idle_cores(cores=2, load=4.0) == 1  # never zero
    assert idle_cores(cores=16, load=3.2) == 13


def test_set_threads_chooses_and_respects_the_environment():
    code = ("import shakes_tui.engine, torch\nfrom shakes_tui.engine.threads import set_threads\n"
            "print(set_threads(None, per_character=True), torch.get_num_threads(), set_threads(3), "
            "torch.get_num_threads())")
    assert _run(code).stdout.split() == ["1", "1", "3", "3"]
    code = ("import shakes_tui.engine, torch\nfrom shakes_tui.engine.threads import set_threads\n"
            "print(set_threads(None, per_character=True))")
    assert _run(code, OMP_NUM_THREADS="2").stdout.strip() == "2"


def test_every_tool_takes_threads_and_refuses_a_bad_count(capsys):
    from shakes_tui.engine import cli

    for main in (cli.train_main, cli.eval_main, cli.sample_main, cli.trace_main):
        with pytest.raises(SystemExit) as exit_info:
            main(["x", "--threads", "0"] if main is cli.trace_main else ["--threads", "0"])
        assert exit_info.value.code == 2 and "--threads" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.sample_main(["--model", "benvolio", "-n", "3", "--rng-seed", "1", "--threads", "1"])
    assert exit_info.value.code == 0 and torch.get_num_threads() == 1
