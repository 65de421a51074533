"""The engine of shakes-tui: corpus, models, training, sampling and inspection.

Nothing in this package imports Textual; it works from a script or a notebook
(``from shakes_tui.engine.weights import load_weights``).

    models/      the three families behind one interface, described once in the registry
    data/        the corpus, its vocabulary and split, token files, training batches, a text's identity
    training/    the trainer and what a run needs around it (pacing, memory check, torchrun, resuming)
    generation/  sampling a character at a time, and speculative sampling with a recurrent draft
    inspect/     what the app's Insight views and shakes-inspect measure; the tour's figures (lesson.py)
    cli/         the command-line tools, one module each
    evaluate.py  the loss over every character of a split, with the context each model can use
    figures.py   each view as figures for slides (CSV, PNG, SVG); colours.py, the colour scales the app shares
    runs.py      the run directory: the one contract between a trainer and any viewer
    weights.py   weights files: written atomically, read without unpickling, every field checked
    shipped.py   where the shipped weights are; atomic.py, devices.py, errors.py, numbers.py, threads.py
"""

from shakes_tui.engine.threads import prefer_sleeping_threads

prefer_sleeping_threads()  # before any engine module imports torch: see engine/threads.py
