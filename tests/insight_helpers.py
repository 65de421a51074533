"""What the Insight tests share: a long text written for them (not the corpus) and tiny weights that fit it."""

from __future__ import annotations

from pathlib import Path

import torch
from shakes_tui.engine.data.corpus import Vocab
from shakes_tui.engine.models import build_model, family_names, make_config
from shakes_tui.engine.weights import save_weights

LINES = ("The lighthouse keeper rows out at dawn, counting gulls along the harbour wall.\n",
         "A cooper hammers staves beside the quay; the tide turns, and the nets come in.\n",
         "Old Marlow mends the sails and hums a tune about the winter that the river froze.\n")
BIG_TEXT = "".join(LINES[i % 3] for i in range(800))  # ~64,000 characters: enough validation text for a span


def tiny_weights(folder: Path) -> dict[str, str]:
    """FAMILY.safetensors in folder for every family: tiny, seeded, untrained, with BIG_TEXT's vocabulary."""
    vocab = Vocab.from_text(BIG_TEXT)
    paths = {}
    for family in family_names():
        torch.manual_seed(0)
        model = build_model(family, make_config(family, len(vocab), "tiny")).eval()
        paths[family] = str(save_weights(Path(folder) / f"{family}.safetensors", model, vocab))
    return paths


def big_text_file(folder: Path) -> Path:
    path = Path(folder) / "big.txt"
    path.write_text(BIG_TEXT, encoding="utf-8")
    return path
