"""How much of a run its evaluations may take.

A run's clock (Trainer.elapsed) counts everything: training steps, evaluations and checkpoints, and its
Budget (engine.training.trainer) stops it. Evaluations are paced so that they take at most ``share`` of the time
(10 % by default); under a time budget, ``reserve`` is what the run still needs once training stops
(its final evaluation and checkpoint), which the Budget keeps room for.
"""

from __future__ import annotations

from dataclasses import dataclass

EVAL_SHARE = 0.1  # at most this fraction of a run's time goes to evaluations


@dataclass
class EvalPacing:
    share: float = EVAL_SHARE
    budget_s: float | None = None  # the run's time budget (Budget.seconds), when it has one
    spent: float = 0.0  # seconds spent evaluating so far
    last_cost: float = 0.0  # seconds the latest evaluation took: the estimate of the next one
    last_checkpoint: float = 0.0  # seconds the latest checkpoint took

    def record_eval(self, seconds: float) -> None:
        self.spent += seconds
        self.last_cost = seconds

    def allows(self, elapsed: float) -> bool:
        """Whether one more evaluation now keeps evaluations within their share of the time so far
        and, under a time budget, still leaves room for the final one."""
        cost = self.last_cost
        if self.spent + cost > self.share * (elapsed + cost):
            return False
        return self.budget_s is None or self.spent + 2 * cost <= self.share * self.budget_s

    def reserve(self) -> float:
        """Seconds the run needs after training stops: one more evaluation and a checkpoint."""
        return self.last_cost + self.last_checkpoint

    def eval_time_cap(self) -> float | None:
        """The most seconds one evaluation may take under a time budget: a quarter of the share, so the
        first, the last and a couple between fit. None without a time budget (evaluations run in full)."""
        return None if self.budget_s is None else self.share * self.budget_s / 4

    def state_dict(self) -> dict:
        return {"eval_spent": self.spent, "eval_last_cost": self.last_cost}

    def load_state_dict(self, state: dict) -> None:
        """Checkpoints written before pacing existed have neither field: they start from zero."""
        self.spent = float(state.get("eval_spent", 0.0))
        self.last_cost = float(state.get("eval_last_cost", 0.0))
