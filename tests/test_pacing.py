"""The rules that keep evaluations within their share of a run and a run within its time budget."""

from engine.pacing import EvalPacing
from engine.train import Budget


def test_an_evaluation_waits_until_it_fits_in_its_share():
    pacing = EvalPacing(share=0.1)
    pacing.record_eval(1.0)  # the first evaluation took 1 s
    assert not pacing.allows(elapsed=10.0)  # 2 s of 11 would be 18 %
    assert pacing.allows(elapsed=19.0)  # 2 s of 20 is 10 %


def test_a_time_budget_keeps_room_for_the_final_evaluation():
    pacing = EvalPacing(share=0.1, budget_s=100.0)
    pacing.record_eval(3.0)
    pacing.record_eval(3.0)
    assert pacing.spent == 6.0
    assert not pacing.allows(elapsed=90.0)  # a third and the final one would make 12 s of 100


def test_training_stops_early_enough_for_the_last_evaluation_and_checkpoint():
    pacing = EvalPacing(budget_s=120.0)
    pacing.record_eval(4.0)
    pacing.last_checkpoint = 1.0
    budget = Budget(max_seconds=120.0)
    assert budget.spent(10, 114.9, reserve=pacing.reserve()) is None
    assert budget.spent(10, 115.0, reserve=pacing.reserve()) == "max_seconds"
    assert Budget(max_steps=100).spent(10, 1e9, reserve=pacing.reserve()) is None  # no time budget: steps decide


def test_one_evaluation_may_take_a_quarter_of_the_share():
    assert EvalPacing(share=0.1, budget_s=120.0).eval_time_cap() == 3.0
    assert EvalPacing().eval_time_cap() is None


def test_pacing_survives_a_checkpoint_and_old_checkpoints_start_from_zero():
    pacing = EvalPacing()
    pacing.record_eval(2.5)
    restored = EvalPacing()
    restored.load_state_dict(pacing.state_dict())
    assert (restored.spent, restored.last_cost) == (2.5, 2.5)
    restored.load_state_dict({})
    assert (restored.spent, restored.last_cost) == (0.0, 0.0)
