"""CPU threads for PyTorch on a machine that other jobs share.

PyTorch's CPU wheels run their parallel loops on GNU OpenMP, whose idle threads spin-wait for the
next loop (3 ms by default). Sampling and recurrent evaluation run thousands of tiny loops (one small
matrix product per character), so on a busy machine every loop waits a whole scheduler slice for a
partner thread that is not running: tools slowed down 10x beside other PyTorch jobs. Not spinning at all
(OMP_WAIT_POLICY=PASSIVE) fixed that but made training 1.7x slower on a quiet machine (Romeo at nanoGPT's
laptop size: 8,100 against 13,500 chars/s), since its loops follow each other microseconds apart and every
one then waited for its threads to wake. So idle threads spin briefly, about 0.1 ms (GOMP_SPINCOUNT=10000,
set by ``engine/__init__`` before torch loads), then sleep; and a tool uses only the cores that other work
leaves idle.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

SPIN = ("GOMP_SPINCOUNT", "10000")  # spins before an idle OpenMP thread sleeps: about 0.1 ms
USER_CHOICES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
THREADS_ENV = "OMP_NUM_THREADS"


def prefer_sleeping_threads() -> None:
    """Idle OpenMP threads spin about 0.1 ms, then sleep, unless the user chose a wait policy or spin count.
    Takes effect only when it runs before torch is first imported (OpenMP reads it once, as it loads)."""
    if not any(name in os.environ for name in USER_CHOICES):
        os.environ[SPIN[0]] = SPIN[1]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def idle_cores(cores: int | None = None, load: float | None = None) -> int:
    """Cores not busy with other work now (else by the last minute's load average); at least 1."""
    cores = cores or available_cores()
    if load is None:
        load = others_running()
    return max(1, min(cores, cores - round(load)))


def others_running(samples: int = 5, read=None) -> float:
    """How many other threads are runnable now: the median over a few readings of /proc/loadavg's running
    count, less this one. The minute's load average would still count work that ended seconds ago (a run
    started right after another would get one thread on a machine gone quiet). Elsewhere: that average."""
    counts = []
    for i in range(samples):
        try:
            text = read() if read else Path("/proc/loadavg").read_text()
            counts.append(int(text.split()[3].split("/")[0]) - 1)
        except (OSError, IndexError, ValueError):
            return _load_average()
        if i + 1 < samples:
            time.sleep(0.01)
    return float(statistics.median(counts))


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def set_threads(threads: int | None, *, per_character: bool = False) -> int:
    """Set PyTorch's thread count and return it: the one asked for; else $OMP_NUM_THREADS if set;
    else 1 for per-character work (a second thread costs more than it saves); else the idle cores."""
    import torch

    if threads is None and os.environ.get(THREADS_ENV):
        return torch.get_num_threads()
    threads = threads or (1 if per_character else idle_cores())
    torch.set_num_threads(threads)
    return threads
