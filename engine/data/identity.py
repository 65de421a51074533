"""Which text a run was trained on, so a resume continues on that text and no other.

A run records its text's path and sha256 when it starts (in its start event and checkpoint). A resume
reads that path by default; a text whose checksum differs is refused with the reason, wherever it is.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from shakes_tui.engine.errors import ShakesError


@dataclass(frozen=True)
class TextIdentity:
    path: str  # absolute, as it was found when the run started
    sha256: str

    def as_dict(self) -> dict:
        return {"data_path": self.path, "data_sha256": self.sha256}


def identify(path: str | os.PathLike) -> TextIdentity:
    path = Path(path).resolve()
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise ShakesError(f"cannot read the text {path}: {exc.strerror}") from None
    return TextIdentity(str(path), digest.hexdigest())


def recorded(values: dict) -> TextIdentity | None:
    """The text a checkpoint recorded, or None for runs from before texts were recorded."""
    path, sha = values.get("data_path"), values.get("data_sha256")
    if isinstance(path, str) and isinstance(sha, str) and len(sha) == 64:
        return TextIdentity(path, sha)
    return None


def text_to_resume(saved: TextIdentity | None, explicit: str | None) -> str | None:
    """The path a resume should read: the explicit --data if it is the same text, else the recorded one.

    None means "as before texts were recorded" (the usual search); a changed or missing text is refused.
    """
    if saved is None:
        return explicit
    if explicit is not None:
        given = identify(explicit)
        if given.sha256 != saved.sha256:
            raise ShakesError(f"--data {explicit} is not the text this run was trained on ({saved.path}, "
                              f"sha256 {saved.sha256[:12]}...; this one is {given.sha256[:12]}...)")
        return explicit
    if not Path(saved.path).is_file():
        raise ShakesError(f"this run's text {saved.path} is gone: pass --data with the same text "
                          f"(sha256 {saved.sha256[:12]}...)")
    now = identify(saved.path)
    if now.sha256 != saved.sha256:
        raise ShakesError(f"this run's text {saved.path} has changed since it started (sha256 {now.sha256[:12]}..., "
                          f"was {saved.sha256[:12]}...): restore it, or pass --data with the original")
    return saved.path
