"""The layering is a test, not a wish: engine/ stands alone, family names are not special-cased outside the
registry, and every package folder is installed under shakes_tui."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from shakes_tui.engine.models import family_names

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"
PROJECT_PACKAGES = {"engine", "tui", "weights", "bench", "tests"}


def imported_modules(path: Path) -> list[str]:
    """The modules a file imports, our own named by their folder (shakes_tui.engine.x as engine.x)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." if node.level else node.module or "")
    return [name.removeprefix("shakes_tui.") for name in names]


def source_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def test_engine_imports_only_engine_the_standard_library_and_third_party_packages():
    for path in ENGINE.rglob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top != "textual", f"{path} imports {name}"
            assert top not in PROJECT_PACKAGES - {"engine"}, f"{path} imports {name}: outside engine/"


def test_the_scan_would_see_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom shakes_tui.weights import x\nfrom shakes_tui.tui.app import ShakesApp\n")
    assert [n.split(".")[0] for n in imported_modules(bad)] == ["os", "weights", "tui"]


def test_importing_the_whole_engine_loads_nothing_outside_it():
    code = ("import sys, pkgutil, importlib, shakes_tui.engine\n"
            "for m in pkgutil.walk_packages(shakes_tui.engine.__path__, 'shakes_tui.engine.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = sorted(k for k in sys.modules if k.split('.')[0] == 'textual' or k.split('.')[:2] in\n"
            "             (['shakes_tui', 'tui'], ['shakes_tui', 'weights'], ['shakes_tui', 'bench']))\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def family_name_comparisons(path: Path) -> list[str]:
    """A family's name written as a string where code decides by it: a comparison (==, !=, in, not in), a dict's
    key ({"romeo": ...}) or a default (an argparse default=, a parameter's default)."""
    names, found = set(family_names()), []

    def hits(node, what: str) -> None:
        elts = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
        found.extend(f"{path}:{node.lineno} {what} {e.value!r}" for e in elts
                     if isinstance(e, ast.Constant) and e.value in names)

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                hits(side, "compares with")
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    hits(key, "has the key")
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "default":
                    hits(keyword.value, "defaults to")
        elif isinstance(node, ast.arguments):
            for default in [*node.defaults, *node.kw_defaults]:
                if default is not None:
                    hits(default, "defaults to")
    return found


def test_no_code_outside_the_registry_compares_with_a_family_name():
    paths = [p for p in source_files("engine", "tui", "bench", "weights") if "models" not in p.parts]
    assert [hit for p in paths for hit in family_name_comparisons(p)] == []


def test_the_family_name_scan_would_see_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('if cfg.model == "romeo" or name in ("mercutio",):\n    pass\n'
                   'COLOURS = {"benvolio": "#e5c07b", **{}}\n'
                   'p.add_argument("--model", default="romeo")\n'
                   'p.add_argument("--weights", nargs="+", default=["mercutio", "benvolio"])\n'
                   'def trace(weights="mercutio", *, model="romeo"):\n    pass\n')
    assert len(family_name_comparisons(bad)) == 8


def test_every_package_folder_is_installed_under_shakes_tui():
    """pyproject.toml lists the packages by hand (their folders are not named shakes_tui/...): a new folder with an
    __init__.py must be listed, or an installed copy would lack it."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"shakes_tui." + ".".join(p.parent.relative_to(ROOT).parts)
               for top in ("engine", "tui", "weights", "bench") for p in (ROOT / top).rglob("__init__.py")}
    assert folders == listed


def test_nothing_of_ours_is_importable_under_a_bare_name():
    code = ("import importlib.util\n"
            "print([n for n in ('engine', 'tui', 'weights', 'bench') if importlib.util.find_spec(n)])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_loading_and_using_the_shipped_models_never_imports_the_compiler():
    """torch._dynamo costs the app 80 MB and 2.7 s; loading, generating and tracing never need it."""
    code = ("import sys, torch\n"
            "from shakes_tui.engine.shipped import shipped_path\n"
            "from shakes_tui.engine.weights import load_weights\n"
            "from shakes_tui.engine.generation.sampling import sample_text\n"
            "from shakes_tui.engine.models import family_names\n"
            "for name in family_names():\n"
            "    loaded = load_weights(shipped_path(name))\n"
            "    sample_text(loaded.model, loaded.vocab, 'Hello', 5)\n"
            "    if loaded.model.has_gates:\n"
            "        loaded.model.trace(torch.tensor([1, 2, 3]))\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
