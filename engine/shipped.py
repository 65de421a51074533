"""The shipped pretrained weights: ``weights/FAMILY.safetensors``, a data folder installed beside ``engine/``.

The folder is found by its place, not imported: the engine depends on nothing outside itself.
"""

from __future__ import annotations

from pathlib import Path

from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models import family_names

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "weights"


def shipped_path(name: str, folder: Path = SHIPPED_DIR) -> Path:
    return Path(folder) / f"{name}.safetensors"


def weights_for(name_or_path: str) -> Path:
    """A family's name means its shipped weights; anything else is a path to a weights file. A bare word that
    is neither ('juliet') is refused naming the models, not as a missing file."""
    if name_or_path in family_names():
        return shipped_path(name_or_path)
    path = Path(name_or_path)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1:
        raise ShakesError(f"no model named {name_or_path!r}: the models are {', '.join(family_names())} "
                          "(or give a weights file)")
    return path
