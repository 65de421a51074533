"""The engine of shakes-tui: corpus, models, training, sampling and inspection.

Nothing in this package imports Textual; it works from a script or a notebook.
"""
