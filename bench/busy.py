"""A tool beside other PyTorch jobs: how much slower shakes-sample gets on a machine that is already busy.

The other jobs are what a shared machine runs: each multiplies large matrices on two threads with
OpenMP's default (spinning) wait, as a stranger's job would. With one such job per core the load average is
about twice the cores (4 on 2 cores). The tool is timed as a person times it, from the shell: start-up
included. Alone and busy alternate, so drifting background load falls on both.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from shakes_tui.bench.report import Row

HOG = ("import torch, time\ntorch.set_num_threads(2)\na = torch.randn(1024, 1024)\n"
       "while True:\n    a @ a\n")
# spinning threads, as before issue 9 (the spin count is what libgomp gives OMP_WAIT_POLICY=ACTIVE)
OLD_DEFAULTS = {"OMP_WAIT_POLICY": "ACTIVE", "OMP_NUM_THREADS": "2", "GOMP_SPINCOUNT": "30000000000"}


def _sample_seconds(chars: int, env: dict | None = None) -> float:
    cmd = [sys.executable, "-m", "shakes_tui.engine",
           "sample", "--model", "mercutio", "-n", str(chars), "--rng-seed", "1"]
    start = time.perf_counter()
    subprocess.run(cmd, env={**os.environ, **(env or {})}, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - start


def _start_hogs(n: int) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    return [subprocess.Popen([sys.executable, "-c", HOG], env=env) for _ in range(n)]


def _stop(hogs: list[subprocess.Popen]) -> None:
    for hog in hogs:
        hog.kill()
        hog.wait()


def busy_rows(quick: bool) -> list[Row]:
    chars, reps = (30, 1) if quick else (500, 3)
    jobs = os.cpu_count() or 2
    alone, busy, old = [], [], []
    for _ in range(reps):
        alone.append(_sample_seconds(chars))
        hogs = _start_hogs(jobs)
        try:
            time.sleep(2.0)  # let them spin up
            busy.append(_sample_seconds(chars))
            if not quick:
                old.append(_sample_seconds(chars, OLD_DEFAULTS))
        finally:
            _stop(hogs)
    t_alone, t_busy = statistics.median(alone), statistics.median(busy)
    what = f"shakes-sample mercutio {chars} chars beside {jobs} 2-thread jobs"
    rows = [Row(what, t_busy, "s", f"alone: {t_alone:.2f} s (load {os.getloadavg()[0]:.1f} now)",
                t_busy / t_alone, "slowdown <= 3x", t_busy / t_alone <= 3)]
    if old:
        t_old = statistics.median(old)
        rows.append(Row("  the same with 2 spinning threads (before issue 9)", t_old, "s", f"alone: {t_alone:.2f} s",
                        t_old / t_alone, "(reported)", None))
    return rows
