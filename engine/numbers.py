"""Numbers a person gives (a command-line flag, a box in the app, a setting in code): what each may be, checked
and worded in one place, so that every way in says the same about the same mistake."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from shakes_tui.engine.errors import ShakesError


class BadNumber(ShakesError, ValueError):
    """A number that is not one, or out of range: a ShakesError for the tools, a ValueError for input boxes."""


@dataclass(frozen=True)
class Number:
    """What a number may be: its kind (int: a whole number), finite, and passing ``ok``, said in words by ``what``
    ("greater than 0")."""

    kind: type
    ok: Callable[[float], bool]
    what: str

    def parse(self, text: str, label: str | None = None) -> int | float:
        """The number written in text, else BadNumber. A label names it in the message ("temperature must be ...");
        without one (a flag, which argparse names) the message starts from the text."""
        try:
            value = self.kind(text)
        except ValueError:
            a_number = f"a {'whole ' if self.kind is int else ''}number"
            raise BadNumber(f"{label} must be {a_number}, not {text!r}" if label else
                            f"{text!r} is not {a_number}") from None
        return self.check(value, label, shown=repr(text))

    def check(self, value, label: str | None = None, shown: str | None = None) -> int | float:
        """value itself, when it is a number of this kind and in range; else BadNumber."""
        whole = isinstance(value, int) and not isinstance(value, bool)
        kind_ok = whole if self.kind is int else (whole or isinstance(value, float))
        if not (kind_ok and math.isfinite(value) and self.ok(value)):
            what = self.what if kind_ok or self.kind is not int else f"a whole number {self.what}"
            shown = shown or repr(value)
            raise BadNumber(f"{label} must be {what}, not {shown}" if label else f"{shown}: must be {what}")
        return value


def positive(kind: type) -> Number:
    return Number(kind, lambda v: v > 0, "greater than 0")


def at_least_zero(kind: type) -> Number:
    return Number(kind, lambda v: v >= 0, "0 or more")


def between(kind: type, lo, hi, why: str = "") -> Number:
    """From lo to hi, both included; why: what a value beyond hi would do, for the message."""
    return Number(kind, lambda v: lo <= v <= hi, f"from {lo:,} to {hi:,}{why}")
