"""The README and the pages under docs/ stay true: every link leads somewhere, and every command they show is one
its tool accepts (parsed by the tool itself, stopped before it runs)."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from shakes_tui.engine.cli import common

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
MODULE_TOOLS = {"shakes_tui.engine": {"train": "shakes-train", "eval": "shakes-eval", "sample": "shakes-sample",
                                      "trace": "shakes-trace"}}


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")}


def links(page: Path) -> list[str]:
    return [target for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()) if "://" not in target]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_leads_to_a_file_and_heading_that_exist(page):
    for target in links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} leads nowhere"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: {target}: no such heading in {linked.name}"


def test_the_readme_links_every_page_under_docs():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(ROOT / "README.md")}
    assert set(PAGES[1:]) <= linked, sorted(p.name for p in set(PAGES[1:]) - linked)


def shown_commands() -> list[tuple[str, str, list[str]]]:
    """(page, tool, arguments) for each command of the project's tools in a page's sh blocks (pipes split)."""
    found = []
    for page in PAGES:
        for block in re.findall(r"```sh\n(.*?)```", page.read_text(), flags=re.S):
            for line in block.splitlines():
                for part in line.split(" | "):
                    words = shlex.split(part, comments=True)
                    words = [w for w in words if not w.startswith(".venv/bin/")] or words
                    command = tool_and_arguments(words)
                    if command:
                        found.append((page.name, *command))
    return found


def tool_and_arguments(words: list[str]) -> tuple[str, list[str]] | None:
    for i, word in enumerate(words):
        name = word.rsplit("/", 1)[-1]
        if name in SCRIPTS:
            return name, words[i + 1:]
        if word == "-m" and i + 2 < len(words) and words[i + 1] in MODULE_TOOLS:
            return MODULE_TOOLS[words[i + 1]][words[i + 2]], words[i + 3:]
    return None


class Parsed(Exception):
    """Raised in place of running a tool, once its arguments have parsed."""


def test_the_pages_show_commands_of_every_tool():
    assert {tool for _, tool, _ in shown_commands()} == set(SCRIPTS)


@pytest.mark.parametrize("page, tool, argv", shown_commands(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_command_shown_is_accepted_by_its_tool(page, tool, argv, monkeypatch):
    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        parse(self, args, namespace)
        raise Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    monkeypatch.setattr(common, "resolve_device", lambda name: name)  # --device cuda parses as on a GPU machine
    module, _, function = SCRIPTS[tool].partition(":")
    main = getattr(importlib.import_module(module), function)
    with pytest.raises(Parsed):
        main(argv)


def test_ci_runs_the_readmes_test_command_as_written():
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.endswith("python -m pytest -q"))
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_the_cpu_torch_line_asks_for_a_version_the_project_accepts():
    from packaging.requirements import Requirement

    wanted = re.search(r"pip install torch==(\S+) --index-url https://download.pytorch.org/whl/cpu",
                       (ROOT / "README.md").read_text())
    pin = next(Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
               ["dependencies"] if r.startswith("torch"))
    assert wanted and pin.specifier.contains(wanted.group(1))


def test_the_readme_counts_the_tours_steps_right():
    from shakes_tui.engine.inspect.lesson import load_tour
    from shakes_tui.engine.models import family_names

    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    said = re.search(r"(\w+) short steps", (ROOT / "README.md").read_text()).group(1).lower()
    assert words.index(said) + 1 == len(load_tour(ROOT / "tui" / "tour.toml", family_names()))
