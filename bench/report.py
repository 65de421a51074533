"""Rows of figures, printed as a table and written as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Row:
    what: str
    figure: float
    unit: str
    reference: str  # what the figure is compared with, and its value
    ratio: float | None  # figure / reference (or reference / figure for times), None where there is none
    goal: str
    passed: bool | None  # None: reported only

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else ("pass" if self.passed else "MISS")


def print_table(rows: list[Row]) -> None:
    header = f"{'what':<52} {'figure':>14} {'reference':<34} {'ratio':>7}  {'goal':<22} result"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        figure = f"{r.figure:,.1f} {r.unit}"
        print(f"{r.what:<52} {figure:>14} {r.reference:<34} {ratio:>7}  {r.goal:<22} {r.verdict}")


def print_growth(title: str, column: str, unit: str, table: dict[str, dict[int, float]]) -> None:
    sizes = sorted({s for series in table.values() for s in series})
    print(f"\n{title}")
    print(f"{column:>10} " + " ".join(f"{name:>12}" for name in table))
    for size in sizes:
        cells = [f"{table[name][size]:>12.3f}" if size in table[name] else f"{'':>12}" for name in table]
        print(f"{size:>10} " + " ".join(cells))
    print(f"({unit})")


def write_json(path: Path, rows: list[Row], growth: dict) -> None:
    data = [{**asdict(r), "pass": r.passed} for r in rows]
    for item in data:
        item.pop("passed")
    Path(path).write_text(json.dumps({"rows": data, "growth": growth}, indent=2))
