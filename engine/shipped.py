"""The shipped pretrained weights: ``weights/FAMILY.safetensors``, a data folder installed beside ``engine/``.

The folder is found by its place, not imported: the engine depends on nothing outside itself.
"""

from __future__ import annotations

from pathlib import Path

from engine.models import family_names

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "weights"


def shipped_path(name: str, folder: Path = SHIPPED_DIR) -> Path:
    return Path(folder) / f"{name}.safetensors"


def weights_for(name_or_path: str) -> Path:
    """A family's name means its shipped weights; anything else is a path to a weights file."""
    return shipped_path(name_or_path) if name_or_path in family_names() else Path(name_or_path)
