"""Training runs as child processes (`python -m engine train`), one per model, watched through files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.runs import Finished, RunDir


class TrainingJob:
    """A `shakes-train` child writing a run directory; stderr goes to RUN_DIR/stderr.log."""

    def __init__(self, model: str, run_dir: Path, *, data: str | None = None, minutes: float = 10.0,
                 preset: str = "default", extra: list[str] | None = None) -> None:
        self.model, self.run = model, RunDir(run_dir)
        self.data, self.minutes, self.preset, self.extra = data, minutes, preset, extra or []
        self.process: subprocess.Popen | None = None

    def command(self, resume: bool) -> list[str]:
        cmd = [sys.executable, "-m", "engine", "train", "--quiet", "--threads", "1"]
        if resume:
            cmd += ["--resume", str(self.run.path), "--max-seconds", str(self.elapsed() + self.minutes * 60)]
        else:
            cmd += ["--model", self.model, "--out", str(self.run.path), "--preset", self.preset,
                    "--max-seconds", str(self.minutes * 60)]
        if self.data:
            cmd += ["--data", self.data]
        return cmd + self.extra

    def start(self, resume: bool = False) -> None:
        self.run.create()
        log = open(self.run.path / "stderr.log", "a")  # noqa: SIM115 (the child owns it)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.command(resume), stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=log, env=env, start_new_session=True, preexec_fn=_be_nice)
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Ask the child to finish its step, write a checkpoint and exit."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        if self.process is None:
            return None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()

    def elapsed(self) -> float:
        finals = [e for e in self.run.events() if isinstance(e, Finished)]
        return finals[-1].elapsed if finals else 0.0

    def last_error(self) -> str:
        try:
            lines = (self.run.path / "stderr.log").read_text().strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    @property
    def can_resume(self) -> bool:
        return not self.running and self.run.checkpoint_path.is_file()


def _be_nice() -> None:
    """In the child, before exec: train at lower CPU priority than the app, so the UI stays smooth."""
    os.nice(10)
