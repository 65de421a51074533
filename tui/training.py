"""Training from the app: each run is a child process (`python -m shakes_tui.engine train`) watched through its run
directory; the controller decides what Start, Stop and Resume mean for each model."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from shakes_tui.engine.models import get_family
from shakes_tui.engine.runs import Checkpoint, RunDir, Start, new_run_path
from shakes_tui.engine.training.resumable import BUDGET_SPENT, ending

STDERR_LOG = "stderr.log"
CHECKPOINT_SECONDS = 30.0  # the app's runs write a checkpoint this often, so live weights change while you watch
MINUTES_BY_PRESET = {"quick": 2.0}  # the Train tab's minutes per preset (quick learns in two minutes) ...
DEFAULT_MINUTES = 10.0  # ... and for the others


def default_minutes(preset: str) -> float:
    return MINUTES_BY_PRESET.get(preset, DEFAULT_MINUTES)


def default_preset() -> str:
    """The Train tab's size: "quick" (learns in two minutes) on a CPU, the shipped "default" on a GPU."""
    import torch  # late: the app's first paint does not wait for it

    return "default" if torch.cuda.is_available() else "quick"


@dataclass
class TrainingSettings:
    """What every run started from the app shares: where runs go, the text, the size, extra flags."""

    runs_dir: Path = Path("runs")
    data: str | None = None
    preset: str = field(default_factory=default_preset)
    extra: list[str] = field(default_factory=list)  # more shakes-train flags (tests: tiny, fast runs)


class TrainingProcess:
    """A `shakes-train` child writing a run directory; its stderr goes to RUN_DIR/stderr.log."""

    def __init__(self, model: str, run_dir: Path, settings: TrainingSettings, minutes: float = DEFAULT_MINUTES,
                 fine_tune: bool = False) -> None:
        self.model, self.run, self.settings, self.minutes = model, RunDir(run_dir), settings, minutes
        self.fine_tune = fine_tune  # start from the shipped weights (shakes-train --init) at a third of the lr
        self.process: subprocess.Popen | None = None

    def command(self, resume: bool, more_time: bool = False) -> list[str]:
        """The shakes-train command line: a new run of self.minutes; or a resume that continues the run's own
        schedule; or (more_time) one whose schedule is stretched to end self.minutes after where it stopped."""
        cmd = [sys.executable, "-m", "shakes_tui.engine", "train", "--quiet", "--threads", "1", "--stop-with-parent",
               "--checkpoint-seconds", f"{CHECKPOINT_SECONDS:g}"]
        if resume:
            cmd += ["--resume", str(self.run.path)]
            if more_time:
                cmd += ["--max-seconds", str(self.resume_point()[1] + self.minutes * 60)]
        else:
            preset = "default" if self.fine_tune else self.settings.preset  # the full size's batches and context
            cmd += ["--model", self.model, "--out", str(self.run.path), "--preset", preset,
                    "--max-seconds", str(self.minutes * 60)]
            if self.fine_tune:
                cmd += fine_tune_flags(self.model)
        if self.settings.data:
            cmd += ["--data", self.settings.data]
        return cmd + self.settings.extra

    def start(self, resume: bool = False, more_time: bool = False) -> None:
        self.run.create()
        log = open(self.run.path / STDERR_LOG, "a")  # noqa: SIM115 (the child owns it)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.command(resume, more_time), stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=log, env=env, start_new_session=True, preexec_fn=_be_nice)
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

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

    def resume_point(self) -> tuple[int, float]:
        """(step, seconds) where a resume starts: the latest checkpoint's step, and the run's time then."""
        events = self.run.events()
        step = max((e.step for e in events if isinstance(e, Checkpoint)), default=0)
        timed = [e.elapsed for e in events if getattr(e, "elapsed", None) is not None and e.step <= step]
        return step, max(timed, default=0.0)

    def ending(self) -> str | None:
        """How the run's latest start ended (engine.training.resumable.ending); None while it runs."""
        return None if self.running else ending(self.run)

    def schedule(self, more_minutes: float | None = None) -> str:
        """Where a resume starts in the run's schedule, in words; with more_minutes, the longer schedule it gets
        and how its learning rate changes ('' for a run whose start event cannot be read)."""
        from shakes_tui.engine.training.trainer import TrainConfig, lr_at  # late: only when a run resumes

        starts = [e for e in self.run.events() if isinstance(e, Start)]
        try:
            cfg = TrainConfig.from_saved(starts[-1].config)
        except (IndexError, TypeError):
            return ""
        step, elapsed = self.resume_point()
        lr = lr_at(cfg, step, cfg.budget.progress(step, elapsed))
        total = cfg.budget.seconds
        if more_minutes is None:
            left = "" if total is None else f" of {clock(total)}, {clock(max(total - elapsed, 0))} left"
            return f"at {clock(elapsed)}{left} on the same schedule (lr {lr:.3g})"
        longer = dataclasses.replace(cfg, max_seconds=elapsed + more_minutes * 60)
        new_lr = lr_at(longer, step, longer.budget.progress(step, elapsed))
        was = "" if total is None else f" instead of {clock(total)}"
        return (f"{more_minutes:g} more minutes: its schedule now ends at {clock(longer.max_seconds)}{was}, so the "
                f"learning rate goes from {lr:.3g} to {new_lr:.3g} and decays again to the new end")

    def last_error(self) -> str:
        try:
            lines = (self.run.path / STDERR_LOG).read_text().strip().splitlines()
        except OSError:
            return ""
        last = lines[-1] if lines else ""
        return last.removeprefix("shakes-train: ").removeprefix("error: ")  # the pane says whose error it is

    def discard_if_never_started(self) -> None:
        """A child that failed before its first event leaves only its log: remove the folder."""
        if self.running or self.run.holds_run() or not self.run.path.is_dir():
            return
        if {p.name for p in self.run.path.iterdir()} <= {STDERR_LOG}:
            shutil.rmtree(self.run.path, ignore_errors=True)

    @property
    def can_resume(self) -> bool:
        return not self.running and self.run.checkpoint_path.is_file()


def refuse_resume(process: TrainingProcess, more_time: bool) -> str | None:
    """Why this resume would stop at once: a spent budget, which Resume cannot continue (+ time can, unless the run
    has a step budget, which no added minutes lift)."""
    ended = process.ending()
    if ended == "max_steps":
        return f"{process.model}: its steps are done (--max-steps): press Start for a new run"
    if ended in BUDGET_SPENT and not more_time:
        return f"{process.model}: its minutes are up: + time trains it on for the minutes set (a longer schedule)"
    return None


def clock(seconds: float) -> str:
    """Seconds as minutes:seconds, as the table's time column shows them."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


class TrainingController:
    """Start, Stop and Resume per model, as the Train tab's buttons mean them. Each call returns the
    line to show, and the process to follow when one was started."""

    def __init__(self, settings: TrainingSettings) -> None:
        self.settings = settings
        self.processes: dict[str, TrainingProcess] = {}

    def stop(self, model: str) -> str:
        process = self.processes.get(model)
        if not (process and process.running):
            return f"{model} is not training"
        process.stop()
        return f"{model}: stopping after this step; a checkpoint is written"

    def start(self, model: str, minutes: float, resume: bool, fine_tune: bool = False,
              more_time: bool = False) -> tuple[str, TrainingProcess | None]:
        """Start a new run of `minutes`; or resume the stopped one on its own schedule; or (more_time) give the
        last run `minutes` more, with a new schedule that the line returned describes."""
        process = self.processes.get(model)
        if process and process.running:
            return f"{model} is already training", None
        resume = resume or more_time
        if resume and not (process and process.can_resume):
            return f"{model} has no stopped run to resume: press Start", None
        if resume and (refused := refuse_resume(process, more_time)):
            return refused, None
        if not resume:
            process = TrainingProcess(model, new_run_path(self.settings.runs_dir, model), self.settings,
                                      fine_tune=fine_tune)
        process.minutes = minutes
        said = process.schedule(minutes if more_time else None) if resume else ""
        try:
            process.start(resume=resume, more_time=more_time)
        except OSError as exc:  # the runs folder is a file, or not writable
            process.discard_if_never_started()
            return f"{model}: cannot start in {process.run.path}: {exc.strerror or exc}", None
        self.processes[model] = process
        if resume:
            return f"{model}: {'trains on' if more_time else 'resumed'} {said}".rstrip(), process
        verb = "fine-tuning the shipped weights" if fine_tune else "started"
        return f"{model}: {verb} in {process.run.path}", process

    def adopt(self, runs: list[tuple[str, Path, str]]) -> list[TrainingProcess]:
        """Runs that stopped before their budget, or were left running (engine.training.resumable): Resume
        continues each (the newest per model)."""
        adopted = {}
        for model, path, _ in runs:
            if model not in self.processes:
                adopted[model] = TrainingProcess(model, path, self.settings)
        self.processes.update(adopted)
        return list(adopted.values())

    def running(self) -> list[TrainingProcess]:
        return [p for p in self.processes.values() if p.running]

    def stop_all(self) -> list[TrainingProcess]:
        """Tell every running child to stop; the ones that were running."""
        running = self.running()
        for process in running:
            process.stop()
        return running


def fine_tune_flags(model: str) -> list[str]:
    """Fine-tuning starts from the shipped weights, at a third of the model's usual learning rate with a short
    warm-up, so the first steps refine what the weights know instead of shaking it loose."""
    lr = get_family(model).train_defaults["lr"] / 3
    return ["--init", model, "--lr", f"{lr:g}", "--warmup-steps", "20"]


def wait_all(processes: list[TrainingProcess], timeout: float = 60) -> None:
    for process in processes:
        process.wait(timeout=timeout)


def _be_nice() -> None:
    """In the child, before exec: train at lower CPU priority than the app, so the UI stays smooth."""
    os.nice(10)
