"""Captures of every step of the guided tour, as a person sees them: a headless Pilot opens the tour on the shipped
weights, waits for each step's figures, saves the screen as SVG and (with rsvg-convert, Debian's librsvg2-bin) PNG,
and writes the words each step showed, figures filled in, to words_WxH.md.

Usage: python -m shakes_tui.bench.tour_captures OUT_DIR [--size 120x36] [--data FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

from shakes_tui.engine.inspect.lesson import load_tour
from shakes_tui.engine.models import family_names
from shakes_tui.tui.cli import DEFAULT_TOUR, create_app
from shakes_tui.tui.tour import TourPanel


async def capture(out: Path, width: int, height: int, data: str | None) -> None:
    with tempfile.TemporaryDirectory() as runs:
        app = create_app(runs_dir=Path(runs), data=data, tour=load_tour(DEFAULT_TOUR, family_names()))
        async with app.run_test(size=(width, height)) as pilot:
            while not app.query(TourPanel):
                await pilot.pause(0.1)
            panel, words = app.query_one(TourPanel), []
            for number in range(1, len(app.tour.steps) + 1):
                for _ in range(3000):  # a step's figures are measured in a worker: minutes on a busy CPU
                    await pilot.pause(0.1)
                    busy = [w for w in app.workers if w.is_running and not w.group.startswith("follow")]
                    if "…" not in str(panel.words.render()) and not busy:
                        break
                await pilot.pause(1.0)
                svg = out / f"step{number}_{width}x{height}.svg"
                app.save_screenshot(svg.name, path=str(out))
                if shutil.which("rsvg-convert"):
                    subprocess.run(["rsvg-convert", str(svg), "-o", str(svg.with_suffix(".png"))], check=True)
                words.append(f"## {panel.border_title}\n{panel.words.render()}\n")
                await pilot.press("n")
            (out / f"words_{width}x{height}.md").write_text("\n".join(words))
            await app.action_quit()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m shakes_tui.bench.tour_captures", description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path, help="the folder the captures go to")
    p.add_argument("--size", default="120x36", help="the terminal's columns x rows (default %(default)s)")
    p.add_argument("--data", help="the corpus, for the training-gap step (default: as the app finds it)")
    args = p.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(capture(args.out, width, height, args.data))


if __name__ == "__main__":
    main()
