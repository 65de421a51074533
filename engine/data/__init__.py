"""The text a model learns from: the corpus and its vocabulary and split (corpus.py), token files for corpora of
any size (tokens.py), training batches (batches.py) and a text's identity, its path and checksum (identity.py)."""
