"""What every command-line tool shares: its parser, its number parsers, its flags for the machine, and
errors as one line.

Each tool prints a user's error as one line (no traceback) and exits with status 2.
"""

from __future__ import annotations

import argparse
import functools
import sys

from shakes_tui.engine import numbers
from shakes_tui.engine.data.corpus import DATA_ENV
from shakes_tui.engine.devices import resolve_device
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.generation.sampling import RNG_SEED
from shakes_tui.engine.models import display_name, family_names
from shakes_tui.engine.numbers import BadNumber, Number
from shakes_tui.engine.threads import set_threads

# Upper limits at parse time: far beyond any use, far below what would overflow or never end.
MAX_THREADS = 1024  # torch takes a C int, and beyond the cores there is nothing to gain
TRACE_CHARS = 5000  # a trace holds 6 x layers x units floats per character: 5,000 of Mercutio's is 180 MB
DATA_HELP = f"the training text (default: ${DATA_ENV}, else the cached or downloaded TinyShakespeare)"


def user_errors(main):
    """Turn ShakesError into a one-line message and exit status 2; Ctrl-C into status 130."""

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        prog = main.__name__.removesuffix("_main").replace("_", "-")
        try:
            return main(argv) or 0
        except ShakesError as exc:
            print(f"shakes-{prog}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"shakes-{prog}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0

    return lambda argv=None: sys.exit(wrapper(argv))


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with a pointer to --help) and exit status 2."""

    text_options = ("--seed",)  # their value is free text, which may begin with '-' ('-- Enter ROMEO')

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def parse_args(self, args=None, namespace=None):
        return super().parse_args(self.join_text_values(sys.argv[1:] if args is None else list(args)), namespace)

    def join_text_values(self, args: list[str]) -> list[str]:
        """'--seed -:' becomes '--seed=-:', which argparse reads as the value, not as an unknown option."""
        out, i = [], 0
        while i < len(args):
            if args[i] in self.text_options and i + 1 < len(args) and args[i + 1] not in self._option_string_actions:
                out.append(f"{args[i]}={args[i + 1]}")
                i += 2
            else:
                out.append(args[i])
                i += 1
        return out


THREADS_HELP = ("CPU threads for PyTorch (default: the cores that other work leaves idle, at least 1; "
                "one for sampling and tracing)")


def _set_threads(threads: int | None, per_character: bool = False) -> None:
    set_threads(threads, per_character=per_character)  # see engine/threads.py: fair on a busy machine


def _threads_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=between(int, 1, MAX_THREADS), help=THREADS_HELP)


def _number(kind, ok, what: str):
    return flag(Number(kind, ok, what))


def flag(number: Number):
    """An argparse type: the number a flag's text gives (engine/numbers.py), argparse's one-line error if none."""
    def parse(text: str):
        try:
            return number.parse(text)
        except BadNumber as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _names(last_sep: str, case=display_name) -> str:
    names = [case(n) for n in family_names()]
    return ", ".join(names[:-1]) + last_sep + names[-1] if len(names) > 1 else "".join(names)


def positive(kind):
    return flag(numbers.positive(kind))


def at_least_zero(kind):
    return flag(numbers.at_least_zero(kind))


def between(kind, lo, hi, why: str = ""):
    """A number from lo to hi (both included); why: what a value beyond hi would do, for the message."""
    return flag(numbers.between(kind, lo, hi, why))


rng_seed = flag(RNG_SEED)


def device_name(name: str) -> str:
    """A device that exists here (checked at parse time, before any work)."""
    try:
        resolve_device(name)
    except ShakesError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def add_machine_flags(p: argparse.ArgumentParser, device_default: str = "auto") -> None:
    p.add_argument("--device", default=device_default, type=device_name,
                   help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps")
    _threads_flag(p)


class _nothing:
    """Stands in for a progress bar where there is none: ``with bar or _nothing() as b`` gives None."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False

