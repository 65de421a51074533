"""x: the Train tab's loss chart, the Gates heatmap or the Insight view shown, exported as a figure for slides
(CSV, PNG and SVG, engine/figures.py) into shakes-figures/ under the directory the app started in. The key is
bound on those three tabs' panes, so their footers show it; the writing is a thread worker (workers.export_figure)."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

EXPORT = Binding("x", "app.export_figure", "export")  # short: narrow footers keep ? Help
FIGURES_DIR = Path("shakes-figures")
