"""CPU threads for PyTorch on a machine that other jobs share.

PyTorch's CPU wheels run their parallel loops on GNU OpenMP, whose idle threads spin-wait for the
next loop by default. Sampling and recurrent evaluation run thousands of tiny loops (one small
matrix product per character), so on a busy machine every loop waits a whole scheduler slice for a
partner thread that is not running: tools slowed down 10x beside other PyTorch jobs. Two defaults fix it:
idle threads sleep (OMP_WAIT_POLICY=PASSIVE, set by ``engine/__init__`` before torch loads), and a
tool uses only the cores that other work leaves idle.
"""

from __future__ import annotations

import os

WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")
THREADS_ENV = "OMP_NUM_THREADS"


def prefer_sleeping_threads() -> None:
    """Idle OpenMP threads sleep instead of spinning, unless the user chose otherwise. Takes effect
    only when it runs before torch is first imported (OpenMP reads it once, as it loads)."""
    os.environ.setdefault(*WAIT_POLICY)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def idle_cores(cores: int | None = None, load: float | None = None) -> int:
    """Cores not busy with other work by the last minute's load average; at least 1."""
    cores = cores or available_cores()
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
    return max(1, min(cores, cores - round(load)))


def set_threads(threads: int | None, *, per_character: bool = False) -> int:
    """Set PyTorch's thread count and return it: the one asked for; else $OMP_NUM_THREADS if set;
    else 1 for per-character work (a second thread costs more than it saves); else the idle cores."""
    import torch

    if threads is None and os.environ.get(THREADS_ENV):
        return torch.get_num_threads()
    threads = threads or (1 if per_character else idle_cores())
    torch.set_num_threads(threads)
    return threads
