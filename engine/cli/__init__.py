"""The command-line tools, one module each over what they share (common.py):

    train.py    shakes-train     train a model into a run directory, or resume one
    evaluate.py shakes-eval      the loss over every character of a split
    sample.py   shakes-sample    stream a continuation of a seed
    trace.py    shakes-trace     Mercutio's gates per character, for notebooks
    inspect.py  shakes-inspect   surprise, memory span, attention, saturation, copying
    progress.py                  the progress bars they draw on a terminal
"""

from shakes_tui.engine.cli.evaluate import eval_main
from shakes_tui.engine.cli.sample import sample_main
from shakes_tui.engine.cli.trace import trace_main
from shakes_tui.engine.cli.train import train_main, train_parser

__all__ = ["eval_main", "sample_main", "trace_main", "train_main", "train_parser"]
