"""Training's own faults made plain: a run folder that cannot be written, writes that fail mid-run.

Before training: the folder is made (or one line says why not) and nothing that must be a file is a
folder. During training: a failed write (a folder in the way, a full disk, a file-size limit, the
folder deleted) ends the run with a `failed` event where one can still be written, and one line; the
last checkpoint is untouched because every write goes through a temporary file.
"""

from __future__ import annotations

import os
import signal

from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.runs import BEST_WEIGHTS, CHECKPOINT, METRICS, WEIGHTS, RunDir

RUN_FILES = (METRICS, CHECKPOINT, WEIGHTS, BEST_WEIGHTS)


def prepare_run_dir(run: RunDir) -> None:
    """Make the run folder, or raise one ShakesError saying why it cannot be used."""
    try:
        run.path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ShakesError(f"cannot make the run folder {run.path}: {exc.strerror or exc}") from None
    for name in RUN_FILES:
        if (run.path / name).is_dir():
            raise ShakesError(f"{run.path / name} is a folder where the run's {name} must go: move it away")
    if not os.access(run.path, os.W_OK | os.X_OK):
        raise ShakesError(f"cannot write in the run folder {run.path} (permission denied)")


def write_failure(exc: BaseException) -> str:
    """One line for a failed write: which file, and why."""
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot write{where}: {exc.strerror or exc}"
    return f"cannot write: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"


def errors_not_signals() -> None:
    """A file-size limit (ulimit -f) kills the writer with SIGXFSZ; ignored, the write fails with EFBIG instead."""
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
