"""Measurements that show why the three models differ; plain functions over a model, its vocabulary and text.

    surprise    per-character loss and the top guesses           surprise.py
    span        loss against context length, and influence       span.py
    attention   Romeo's attention weights per layer and head     attention.py
    saturation  how often Mercutio's gates sit near 0 or 1       saturation.py
    copying     how much of a text occurs in the training text   copying.py
    lesson      the guided tour's steps (from TOML) and figures  lesson.py

Each returns numpy arrays or small dataclasses; ``shakes-inspect`` (engine/cli/inspect.py) prints them, the app
draws them.
"""
