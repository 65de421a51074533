"""The training loop. It knows nothing of who watches: it emits events to a run directory
and to any callbacks, and stops cleanly (checkpoint first) when asked or when time is up.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import torch
from shakes_tui.engine.data.batches import StreamBatches, WindowBatches, resident
from shakes_tui.engine.data.corpus import Corpus
from shakes_tui.engine.devices import compiled, resolve_device
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.generation.sampling import SampleSettings, sample_text
from shakes_tui.engine.models import CharModel, build_model, config_from_dict, get_family, make_config
from shakes_tui.engine.models.base import map_state, zip_state
from shakes_tui.engine.runs import Checkpoint, Eval, Event, Failed, Finished, RunDir, Start, Train
from shakes_tui.engine.training import distributed
from shakes_tui.engine.training.checkpoint_checks import check_checkpoint
from shakes_tui.engine.training.memory_check import check_batch_fits
from shakes_tui.engine.training.pacing import EVAL_SHARE, EvalPacing
from shakes_tui.engine.weights import load_weights, save_weights

DEFAULT_SECONDS = 1200.0  # a run with neither --max-steps nor --max-seconds trains for 20 minutes
BUDGET_SPENT = ("max_steps", "max_seconds")  # the stop reasons of a run that spent its budget


@dataclass
class TrainConfig:
    model: str  # a registered family's name
    preset: str = "default"
    model_overrides: dict = field(default_factory=dict)  # e.g. {"n_hidden": 256, "dropout": 0.2}
    init_from: str | None = None  # a weights file to start from (fine-tuning) instead of random weights
    batch_size: int = 32
    seq_len: int = 128  # characters per window (at most the model's max_context())
    lr: float = 2e-3  # peak learning rate, after warm-up
    min_lr_ratio: float = 0.1  # cosine decay ends at lr * min_lr_ratio
    warmup_steps: int = 100
    weight_decay: float = 0.01  # AdamW, matrices and embeddings only
    beta2: float = 0.99
    grad_clip: float = 1.0
    reset_prob: float = 0.0  # recurrent models: chance per stream and batch of starting again from the initial state
    ema: float = 0.0  # decay of an average of the weights kept beside them (0: none); evaluated and saved if kept
    max_steps: int | None = None  # the schedule runs over steps if given ...
    max_seconds: float | None = None  # ... else over wall time
    eval_interval: int = 250  # steps between validation estimates ...
    eval_seconds: float = 60.0  # ... or this much training time, whichever comes first (and one at step 0)
    eval_batches: int = 8  # windows per estimate; each evaluation that beats the best writes best.safetensors
    eval_share: float = EVAL_SHARE  # evaluations are paced to at most this fraction of the run's time
    log_interval: int = 10  # steps between train events
    checkpoint_interval: int = 1000  # steps between checkpoints (one is also written at every stop) ...
    checkpoint_seconds: float | None = None  # ... and, if set, every this many seconds of training time
    sample_chars: int = 120  # length of the sample written with each evaluation
    rng_seed: int = 1337  # weights, batches and dropout all follow from it
    device: str = "auto"
    compile: bool = False  # torch.compile the model for training (CUDA only; elsewhere it runs eagerly)

    @property
    def budget(self) -> Budget:
        return Budget(self.max_steps, self.max_seconds, self.warmup_steps)

    @classmethod
    def from_saved(cls, values: dict) -> TrainConfig:
        """A config saved in a checkpoint (older checkpoints called rng_seed "seed")."""
        values = dict(values)
        if "seed" in values:
            values.setdefault("rng_seed", values.pop("seed"))
        return cls(**values)


TRAIN_CONFIG_KEYS = frozenset({f.name for f in dataclasses.fields(TrainConfig)} | {"seed"})  # "seed": older runs


def default_config(model: str, **overrides) -> TrainConfig:
    """The family's training defaults, then what its preset needs, then the overrides given (None: not given)."""
    family = get_family(model)
    preset = family.preset(overrides.get("preset") or "default")
    values = {**family.train_defaults, **preset.train, **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig(model=model, **values)


@dataclass(frozen=True)
class Budget:
    """How long a run trains: steps, seconds, or both (whichever runs out first); neither means DEFAULT_SECONDS.
    The seconds are the whole run's (evaluations and checkpoints included)."""

    max_steps: int | None = None
    max_seconds: float | None = None
    warmup_steps: int = 0  # a step budget's decay starts where the warm-up ends, as nanoGPT's does

    @property
    def seconds(self) -> float | None:
        if self.max_seconds is not None:
            return self.max_seconds
        return DEFAULT_SECONDS if self.max_steps is None else None

    def spent(self, step: int, elapsed: float, reserve: float = 0.0) -> str | None:
        """Why the run must stop now (max_steps or max_seconds), or None. reserve: the seconds the run still
        needs once training stops (its final evaluation and checkpoint), which a time budget keeps room for."""
        if self.max_steps is not None and step >= self.max_steps:
            return "max_steps"
        if self.seconds is not None and elapsed + reserve >= self.seconds:
            return "max_seconds"
        return None

    def progress(self, step: int, elapsed: float) -> float:
        """How far through the decay, 0 -> 1: the larger of the step and the time fractions. The step
        fraction counts from the end of the warm-up (nanoGPT's cosine spans the steps after it)."""
        fractions = []
        if self.max_steps is not None:
            warmup = max(min(self.warmup_steps, self.max_steps - 1), 0)
            fractions.append((step - warmup) / max(self.max_steps - warmup, 1))
        return max(fractions + ([] if self.seconds is None else [elapsed / self.seconds]))

    def measure(self, step: int, elapsed: float) -> tuple[float, float]:
        """(done, total) in the unit a progress bar shows: steps when a step budget is given, else seconds."""
        if self.max_steps is not None:
            return step, self.max_steps
        return elapsed, self.seconds


def lr_at(cfg: TrainConfig, step: int, progress: float) -> float:
    """Linear warm-up over warmup_steps, then cosine decay to lr * min_lr_ratio as progress goes 0 -> 1
    (progress counts from the end of the warm-up: see Budget.progress)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    cosine = 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cosine)


def initial_model(cfg: TrainConfig, corpus: Corpus, saved_config: dict | None = None) -> CharModel:
    """Random weights of the configured size, or those of cfg.init_from to fine-tune; a resumed run
    passes its checkpoint's saved_config (its weights come from the checkpoint)."""
    if saved_config is not None:
        return build_model(cfg.model, config_from_dict(cfg.model, saved_config))
    if cfg.init_from is None:
        return build_model(cfg.model, make_config(cfg.model, len(corpus.vocab), cfg.preset, **cfg.model_overrides))
    loaded = load_weights(cfg.init_from)
    if loaded.family != cfg.model:
        raise ShakesError(f"{cfg.init_from} holds {loaded.family}, not {cfg.model}")
    if loaded.vocab.chars != corpus.vocab.chars:
        raise ShakesError(f"{cfg.init_from} was trained on another alphabet than this text's: "
                          "fine-tune with the --data it was trained on")
    sizes = {k: v for k, v in cfg.model_overrides.items() if k != "dropout" and v is not None}
    if sizes:
        raise ShakesError(f"{', '.join(sizes)} cannot change when starting from {cfg.init_from}: "
                          "the size comes from the file (only --dropout may change)")
    config = dataclasses.replace(loaded.model.config, **cfg.model_overrides)
    model = build_model(cfg.model, config)
    model.load_state_dict(loaded.model.state_dict())
    return model


def make_optimizer(model: CharModel, cfg: TrainConfig, fused: bool) -> torch.optim.AdamW:
    """AdamW decaying matrices and embeddings; biases, norms and learned initial states are not decayed."""
    named = list(model.named_parameters())
    decay = [p for name, p in named if p.dim() >= 2 and name not in model.optional_tensors]
    no_decay = [p for name, p in named if p.dim() < 2 or name in model.optional_tensors]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, cfg.beta2), fused=fused or None)


class Trainer:
    """Trains one model on a corpus into a run directory. Callbacks get every event.

    Building one writes nothing and leaves the global RNG alone; ``run`` creates the directory and
    takes over the RNG from the seeded state (or from the checkpoint ``restore`` read). ``text`` is the
    identity of the text trained on (its path and sha256: see shakes_tui.engine.data.identity), recorded in the
    start event and every checkpoint so that a resume reads that text again.
    """

    def __init__(self, cfg: TrainConfig, corpus: Corpus, run: RunDir, *, text: dict | None = None,
                 callbacks: list[Callable[[Event], None]] | None = None,
                 on_step: Callable[[Trainer], None] | None = None, command: str = "",
                 saved_config: dict | None = None) -> None:
        self.world = distributed.checked_world(cfg.batch_size)  # one process, or this rank of a torchrun group
        self.cfg, self.corpus, self.run_dir, self.budget = cfg, corpus, run, cfg.budget
        self.text = dict(text or {})
        self.callbacks, self.on_step, self.command = callbacks or [], on_step, command
        self.device = distributed.local_device(resolve_device(cfg.device), self.world)
        self.stop_reason: str | None = None
        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(cfg.rng_seed)  # the CPU generator, restored on exit
            self.model = initial_model(cfg, corpus, saved_config).to(self.device)
            self.rng = {"torch_rng": torch.get_rng_state(), "cuda_rng": torch.empty(0)}
        limit = self.model.max_context()
        if limit is not None and cfg.seq_len > limit:
            raise ShakesError(f"--seq-len {cfg.seq_len} is longer than {cfg.model}'s context of {limit} characters")
        check_batch_fits(self.model, cfg.batch_size // self.world.size, cfg.seq_len, self.device)
        self.optimizer = make_optimizer(self.model, cfg, fused=self.device.type == "cuda")
        # what a training step calls: the model, in DDP under torchrun, through torch.compile if asked and
        # possible; compile_note says why it is not compiled, if it was asked to be
        parallel = distributed.wrap(self.model, self.device, self.world)
        self.train_forward, self.compile_note = compiled(parallel, self.device, cfg.compile)
        data = resident(corpus.train, self.device)
        if self.model.is_recurrent:
            self.batches = StreamBatches(data, cfg.batch_size, cfg.seq_len, cfg.rng_seed, self.device,
                                         rows=self.world.rows, reset_prob=cfg.reset_prob)
        else:
            self.batches = WindowBatches(data, cfg.batch_size, cfg.seq_len, cfg.rng_seed, self.device,
                                         rows=self.world.rows)
        self.average = WeightAverage(self.model, cfg.ema) if cfg.ema > 0 else None
        self.step, self.elapsed, self.state = 0, 0.0, None  # state: the recurrent state carried between batches
        self.lr = cfg.lr  # the learning rate of the latest step
        self.last_eval_step, self.last_eval_elapsed = -1, 0.0
        self.last_checkpoint_elapsed = 0.0  # the training time at the latest checkpoint
        self.best_val: float | None = None
        self.pacing = EvalPacing(cfg.eval_share, self.budget.seconds)
        self._clock_start: float | None = None  # perf_counter() at which elapsed was 0 (set by run)

    # ---- public controls -------------------------------------------------------------------
    def request_stop(self, reason: str = "stopped") -> None:
        self.stop_reason = self.stop_reason or reason

    def emit(self, event: Event) -> None:
        if self.world.is_main:  # under torchrun only rank 0 writes the run
            event = self.run_dir.append(event)
            for callback in self.callbacks:
                callback(event)

    def progress(self) -> float:
        return self.budget.progress(self.step, self.elapsed)

    # ---- the loop --------------------------------------------------------------------------
    def run(self) -> str:
        """Train until the budget is spent or a stop is requested. Returns 'finished' or 'failed'."""
        self._begin()
        self.emit(self._start_event())
        self._clock_start = time.perf_counter() - self.elapsed  # the clock counts the whole run
        losses, window_seconds = [], 0.0
        if self.step == 0:
            self.evaluate()  # where the curve starts
        while self._should_continue():
            t0 = time.perf_counter()
            loss = self.train_step()
            window_seconds += time.perf_counter() - t0
            self._tick()
            if not math.isfinite(loss):
                return self._fail(f"loss became {loss} at step {self.step}; the last checkpoint is kept")
            losses.append(loss)
            if self.step % self.cfg.log_interval == 0:
                self._emit_train(losses, window_seconds)
                losses, window_seconds = [], 0.0
            if self._eval_due():
                self.evaluate()
            if self._checkpoint_due():
                self.checkpoint()
            if self.on_step:
                self.on_step(self)
        if losses:
            self._emit_train(losses, window_seconds)
        trained = self.elapsed  # the schedule's clock at the last step
        if self.last_eval_step != self.step:
            self.evaluate()
        if self.stop_reason not in BUDGET_SPENT:  # a stop asked for: what stopping costs (the evaluation above,
            self.elapsed = trained  # the checkpoint) is not the schedule's time, so a resume goes on where it was
        self.checkpoint()
        self.emit(Finished(step=self.step, reason=self.stop_reason or "done", elapsed=round(self.elapsed, 2),
                           val_loss=self.best_val, eval_seconds=round(self.pacing.spent, 2)))
        return "finished"

    def train_step(self) -> float:
        """One optimisation step on the next batch; the loss of the whole global batch."""
        self.model.train()
        x, y, fresh = self.batches.next()
        state = carried_state(self.model, self.state, fresh)
        lr = lr_at(self.cfg, self.step, self.progress())
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with autocast_for(self.model, self.device):
            _, loss, state = self.train_forward(x, y, state)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        if self.average is not None:
            self.average.update(self.model, self.step)
        self.state = state if self.model.is_recurrent else None
        self.step += 1
        self.lr = lr
        return distributed.mean(loss.detach(), self.world).item()  # the loss of the whole global batch

    def _begin(self) -> None:
        """Make the run directory (rank 0) and hand the global RNG the run's state; under torchrun each other rank
        then draws its own dropout masks (DDP gave it rank 0's weights), after a resume too."""
        if self.world.is_main:
            self.run_dir.create()
        set_rng_state(self.rng, self.device, self.cfg.rng_seed)
        if self.world.rank > 0:
            torch.manual_seed(self.cfg.rng_seed + self.world.rank + self.step)

    def _start_event(self) -> Start:
        """What a (re)start records: the model, its configs, this process and the text."""
        return Start(model=self.cfg.model, step=self.step, params=self.model.num_params(),
                     device=str(self.device), config=dataclasses.asdict(self.cfg),
                     model_config=dataclasses.asdict(self.model.config), pid=os.getpid(),
                     world_size=self.world.size, compiled=self.compile_note is None and self.cfg.compile,
                     **self.text)

    def _tick(self) -> None:
        if self._clock_start is not None:
            self.elapsed = time.perf_counter() - self._clock_start

    def _eval_due(self) -> bool:
        asked = (self.step % self.cfg.eval_interval == 0
                 or self.elapsed - self.last_eval_elapsed >= self.cfg.eval_seconds)
        return asked and self.pacing.allows(self.elapsed)

    def _checkpoint_due(self) -> bool:
        """Every checkpoint_interval steps, and every checkpoint_seconds of training time if that is set (the app
        sets it, so that live weights change within half a minute whatever the model's speed)."""
        every = self.cfg.checkpoint_seconds
        return (self.step % self.cfg.checkpoint_interval == 0
                or (every is not None and self.elapsed - self.last_checkpoint_elapsed >= every))

    def _should_continue(self) -> bool:
        spent = self.budget.spent(self.step, self.elapsed, reserve=self.pacing.reserve())
        if spent:
            self.request_stop(spent)
        # under torchrun every rank takes the same decision: the slowest clock, and a stop asked of any of them
        self.elapsed, stop = distributed.agree([self.elapsed, self.stop_reason is not None], self.world, self.device)
        if stop:
            self.request_stop("stopped")
        return self.stop_reason is None

    # ---- evaluation, events, checkpoints ---------------------------------------------------
    def evaluate(self) -> None:
        t0 = time.perf_counter()
        self.last_eval_step, self.last_eval_elapsed = self.step, self.elapsed
        with self._averaged():
            if (losses := self._train_and_val_estimates(self.pacing.eval_time_cap())) is None:
                return  # stopped meanwhile: no estimate rather than half of one
            train_loss, val_loss = losses
            if self.best_val is None or val_loss < self.best_val:
                self.best_val = val_loss
                self._save_weights(self.run_dir.best_weights_path)
            settings = SampleSettings(rng_seed=self.step)  # the default temperature
            sample = sample_text(self.model, self.corpus.vocab, "\n", self.cfg.sample_chars, settings)
        self.model.train()
        self.pacing.record_eval(time.perf_counter() - t0)
        self._tick()
        self.last_eval_elapsed = self.elapsed
        self.emit(Eval(step=self.step, train_loss=round(train_loss, 4), val_loss=round(val_loss, 4), sample=sample,
                       seconds=round(self.pacing.last_cost, 3), elapsed=round(self.elapsed, 2)))

    def _train_and_val_estimates(self, seconds: float | None = None) -> tuple[float, float] | None:
        """Both estimates at this step, by the same method, within seconds (half each) if given; None if a stop
        was requested meanwhile (a long evaluation must not delay a stop; a spent budget is no such stop: the
        run's final evaluation comes after it)."""
        stopping = lambda: self.stop_reason not in (None, "max_steps", "max_seconds")  # noqa: E731
        per_split = None if seconds is None else seconds / 2
        losses = [estimate_loss(self.model, split, self.cfg, self.step + i, stopping, per_split)
                  for i, split in enumerate((self.corpus.train, self.corpus.val))]
        return None if None in losses else (losses[0], losses[1])

    @contextmanager
    def _averaged(self):
        """The model holds its average's weights inside the block (nothing changes without an average)."""
        if self.average is None:
            yield
            return
        self.average.swap(self.model)
        try:
            yield
        finally:
            self.average.swap(self.model)

    def _emit_train(self, losses: list[float], seconds: float) -> None:
        chars = len(losses) * self.cfg.batch_size * self.cfg.seq_len
        self.emit(Train(step=self.step, loss=round(sum(losses) / len(losses), 4), lr=self.lr,
                        chars_per_s=round(chars / max(seconds, 1e-9)), elapsed=round(self.elapsed, 2)))

    def _fail(self, reason: str) -> str:
        self.emit(Failed(step=self.step, reason=reason))
        return "failed"

    def checkpoint(self) -> None:
        self.last_checkpoint_elapsed = self.elapsed
        if not self.world.is_main:
            return
        t0 = time.perf_counter()
        self.run_dir.save_checkpoint(self.checkpoint_payload())
        with self._averaged():
            self._save_weights(self.run_dir.weights_path)
        self.pacing.last_checkpoint = time.perf_counter() - t0
        self._tick()
        self.emit(Checkpoint(step=self.step, path=str(self.run_dir.weights_path)))

    def _save_weights(self, path) -> None:
        """The model as a weights file with its training summary (rank 0 only: the others write nothing)."""
        if not self.world.is_main:
            return
        summary = {"step": self.step, "elapsed_s": round(self.elapsed, 1), "device": str(self.device),
                   "estimated_val_loss": self.best_val, "command": self.command, "init_from": self.cfg.init_from}
        save_weights(path, self.model, self.corpus.vocab, summary)

    def checkpoint_payload(self) -> dict:
        """Everything ``restore`` needs to continue exactly; tensors and plain values only."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "best_val": self.best_val if self.best_val is not None else float("nan"),
            "train_config": dataclasses.asdict(self.cfg),
            "model_config": dataclasses.asdict(self.model.config),
            "batches": self.batches.state_dict(),
            "carried_state": map_state(lambda t: t.detach().cpu(), self.state),
            **({} if self.average is None else {"average": self.average.state_dict()}),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state() if self.device.type == "cuda" else torch.empty(0),
            "vocab": self.corpus.vocab.chars,
            **self.text,
            **self.pacing.state_dict(),
        }

    def restore(self, ckpt: dict) -> None:
        """Continue exactly from a checkpoint written by ``checkpoint``."""
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.batches.load_state_dict(ckpt["batches"])
        self.step, self.elapsed = int(ckpt["step"]), float(ckpt["elapsed"])
        self.last_eval_step, self.last_eval_elapsed = self.step, self.elapsed
        self.last_checkpoint_elapsed = self.elapsed
        self.pacing.load_state_dict(ckpt)
        best = float(ckpt["best_val"])
        self.best_val = None if math.isnan(best) else best
        self.state = map_state(lambda t: t.to(self.device), ckpt["carried_state"])
        if self.average is not None:
            if not isinstance(ckpt.get("average"), dict):
                raise ShakesError("this run's checkpoint keeps no average of its weights: resume it without --ema")
            self.average.load_state_dict(ckpt["average"])
        self.rng = {"torch_rng": ckpt["torch_rng"], "cuda_rng": ckpt["cuda_rng"]}


def carried_state(model: CharModel, state, fresh: torch.Tensor | None):
    """The recurrent state to start a batch from: the carried one, detached, and the model's learned initial state
    (with its gradient, so it learns) for the streams that start afresh. None for windowed batches."""
    if fresh is None:
        return None
    start = model.initial_state(fresh.numel())
    if state is None:
        return start
    keep = (~fresh).view(1, -1, 1)
    return zip_state(lambda carried, init: torch.where(keep.to(init.device), carried.detach(), init), state, start)


class WeightAverage:
    """An exponential moving average of a model's weights, kept beside them (``--ema DECAY``).

    Averaging the last stretch of a run smooths out the noise of its last steps; it is what a run evaluates and
    saves (best.safetensors, weights.safetensors), while training goes on with the raw weights. Early on the decay
    is lowered to (1 + step) / (10 + step), so the average does not lean on the first weights for long.
    """

    def __init__(self, model: CharModel, decay: float) -> None:
        self.decay = decay
        self.shadow = {name: t.detach().clone() for name, t in model.state_dict().items() if t.is_floating_point()}

    @torch.no_grad()
    def update(self, model: CharModel, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        current = model.state_dict()
        for name, t in self.shadow.items():
            t.lerp_(current[name].detach(), 1 - decay)

    @torch.no_grad()
    def swap(self, model: CharModel) -> None:
        """Exchange the model's weights with the average's (twice: back as they were)."""
        current = model.state_dict()
        for name, t in self.shadow.items():
            held = current[name].detach().clone()
            current[name].copy_(t)
            t.copy_(held)

    def state_dict(self) -> dict:
        return {name: t.detach().cpu() for name, t in self.shadow.items()}

    def load_state_dict(self, state: dict) -> None:
        for name, t in self.shadow.items():
            t.copy_(state[name])


def autocast_for(model: CharModel, device: torch.device):
    if device.type == "cuda" and model.autocast_ok:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


@torch.no_grad()
def estimate_loss(model: CharModel, split: torch.Tensor, cfg: TrainConfig, rng_seed: int,
                  should_stop: Callable[[], bool] = lambda: False, seconds: float | None = None) -> float | None:
    """Mean loss over cfg.eval_batches random windows (from a zero state); a quick estimate.
    None if ``should_stop()`` turned true before the last batch. Given seconds, it ends early (after at
    least one batch) once they are used up, with the mean of the batches done."""
    model.eval()
    device = next(model.parameters()).device
    seq_len = min(cfg.seq_len, split.numel() - 2)  # a short validation split still gets an estimate
    batches = WindowBatches(resident(split, device), cfg.batch_size, seq_len, rng_seed, device)
    losses, deadline = [], time.perf_counter() + (math.inf if seconds is None else seconds)
    while len(losses) < cfg.eval_batches and (not losses or time.perf_counter() < deadline):
        if should_stop():
            model.train()
            return None
        x, y, _ = batches.next()
        with autocast_for(model, device):
            losses.append(model(x, y)[1].item())
    model.train()
    return sum(losses) / len(losses)


def set_rng_state(rng: dict, device: torch.device, rng_seed: int) -> None:
    """Hand the global RNG (dropout draws from it) the run's state: seeded, or from a checkpoint."""
    torch.set_rng_state(rng["torch_rng"])
    if device.type == "cuda" and rng["cuda_rng"].numel():
        torch.cuda.set_rng_state(rng["cuda_rng"])
    elif device.type == "cuda":
        torch.cuda.manual_seed(rng_seed)


def _weights_vocab(run: RunDir) -> str | None:
    """The vocabulary of a run from before checkpoints recorded it: its weights file has it."""
    try:
        return load_weights(run.weights_path).vocab.chars
    except ShakesError:
        return None


def resume_trainer(run: RunDir, corpus: Corpus, *, ckpt: dict | None = None, **kwargs) -> Trainer:
    """A Trainer for an existing run directory, restored from its checkpoint (checked first).

    kwargs may raise the budget (max_steps, max_seconds) or move it to another device.
    """
    ckpt = ckpt or run.load_checkpoint()
    check_checkpoint(ckpt, run.checkpoint_path, TRAIN_CONFIG_KEYS)
    saved = TrainConfig.from_saved(ckpt["train_config"])
    cfg = dataclasses.replace(saved, **{k: v for k, v in kwargs.pop("overrides", {}).items() if v is not None})
    saved_vocab = ckpt.get("vocab") if isinstance(ckpt.get("vocab"), str) else _weights_vocab(run)
    if saved_vocab != corpus.vocab.chars:
        raise ShakesError(f"this text's alphabet ({len(corpus.vocab)} characters) is not the one the run was trained "
                          f"on ({len(saved_vocab or '')}): resume with the same --data")
    trainer = Trainer(cfg, corpus, run, saved_config=ckpt["model_config"], **kwargs)
    trainer.restore(ckpt)
    return trainer
