"""Side-by-side timing: alternate the two contenders, repeat, take medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_seconds(fn: Callable[[], object], reps: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    return statistics.median(seconds(fn) for _ in range(reps))


def side_by_side(ours: Callable[[], object], reference: Callable[[], object], reps: int,
                 warmup: int = 1) -> tuple[float, float]:
    """Median seconds of each, the two run alternately so that noise falls on both."""
    for _ in range(warmup):
        ours()
        reference()
    a, b = [], []
    for _ in range(reps):
        a.append(seconds(ours))
        b.append(seconds(reference))
    return statistics.median(a), statistics.median(b)
