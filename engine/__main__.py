"""``python -m shakes_tui.engine train|eval|sample|trace ...``: the same tools without installed scripts."""

import sys

from shakes_tui.engine import cli

COMMANDS = {"train": cli.train_main, "eval": cli.eval_main, "sample": cli.sample_main, "trace": cli.trace_main}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python -m shakes_tui.engine {{{','.join(COMMANDS)}}} [options]")
    COMMANDS[sys.argv[1]](sys.argv[2:])
