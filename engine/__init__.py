"""The engine of shakes-tui: corpus, models, training, sampling and inspection.

Nothing in this package imports Textual; it works from a script or a notebook.
"""

from shakes_tui.engine.threads import prefer_sleeping_threads

prefer_sleeping_threads()  # before any engine module imports torch: see engine/threads.py
