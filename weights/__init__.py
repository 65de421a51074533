"""The shipped pretrained weights: one .safetensors file per model, described in README.md."""

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent
MODELS = ("benvolio", "mercutio", "romeo")


def shipped_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.safetensors"
