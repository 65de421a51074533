"""Training a model into a run directory.

    trainer.py            the loop and its state: TrainConfig, Trainer, the schedule, the weight average
    pacing.py             how much of a run's time evaluations may take
    memory_check.py       refuses a batch that cannot fit before the first step
    distributed.py        torchrun: one process per rank, one global batch
    checkpoint_checks.py  a checkpoint from elsewhere, checked before it is trusted
    write_failures.py     a write that fails (full disk, file-size limit) as one line
    parent_watch.py       a child trainer that stops when the app that started it is gone
    resumable.py          runs that stopped before their budget (or were left running): offered for Resume
"""
