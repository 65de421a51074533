"""Rows for the app: event-loop lag under load against an idle app, and peak memory."""

from __future__ import annotations

import json
import subprocess
import sys

from shakes_tui.bench.report import Row


def probe(mode: str, seconds: float, data: str | None, tiny: bool) -> dict:
    out = subprocess.run([sys.executable, "-m", "shakes_tui.bench.app_probe", mode, str(seconds), data or "",
                          "tiny" if tiny else "full"], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"app probe failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def app_rows(seconds: float, data: str | None, tiny: bool) -> list[Row]:
    idle = probe("idle", seconds, data, tiny)
    busy = probe("busy", seconds, data, tiny)
    ratio = busy["p99_ms"] / max(idle["p99_ms"], 1e-3)
    return [
        Row("app event-loop lag p99, training + 3 streams", busy["p99_ms"], "ms",
            f"idle app: {idle['p99_ms']:.1f} ms", ratio, "p99 <= 30 ms", busy["p99_ms"] <= 30),
        Row("RSS of shakes-tui, 3 models loaded, idle", idle["max_rss_mb"], "MB", "-", None, "<= 400 MB",
            idle["max_rss_mb"] <= 400),
        Row("peak RSS of shakes-tui, training + 3 streams", busy["max_rss_mb"], "MB", "-", None, "reported", None),
    ]
