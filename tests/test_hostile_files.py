"""Hostile weights files through every door: the loader, each command-line tool, and the app.

Each must give one clear line naming the file (CLIs: exit status 2), allocate nothing big, and
never run a pickle's code.
"""

from __future__ import annotations

import resource
import shutil

import pytest
from shakes_tui.engine import cli
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.shipped import SHIPPED_DIR as WEIGHTS_DIR
from shakes_tui.engine.weights import load_weights

from tests.conftest import SMALL_TEXT
from tests.hostile import ALPHABET, hostile_weights

KINDS = ["truncated", "random-bytes", "empty", "pickle", "torch-pickle", "oversized-header", "oversized-metadata",
         "negative-width", "string-width", "huge-width", "big-declared-width", "dropout-5", "unknown-setting",
         "short-vocabulary", "dict-vocabulary", "repeated-vocabulary", "vocab-not-json", "unknown-family",
         "nan-weights", "wrong-shape"]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "PWNED"
    files = hostile_weights(folder, marker)
    assert set(files) == set(KINDS) | {"good"}
    yield files
    assert not marker.exists(), "a pickle in a weights file was executed"


@pytest.mark.parametrize("kind", KINDS)
def test_the_loader_refuses_with_one_line_naming_the_file(bad_files, kind):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ShakesError) as caught:
        load_weights(bad_files[kind])
    message = str(caught.value)
    assert str(bad_files[kind]) in message and "\n" not in message
    assert "weights_only" not in message
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"{kind}: the peak grew by {grown_mb:.0f} MB before refusing"


def test_the_good_file_loads(bad_files):
    assert load_weights(bad_files["good"]).vocab == ALPHABET


def _tool_args(tool: str, path, tmp_path, data) -> list[str]:
    return {
        "sample": ["--weights", str(path), "-n", "5"],
        "eval": ["--weights", str(path), "--data", str(data)],
        "trace": ["some text", "--weights", str(path), "--out", str(tmp_path / "t.npz")],
        "train": ["--init", str(path), "--data", str(data), "--max-steps", "1", "--out", str(tmp_path / "run")],
    }[tool]


@pytest.mark.parametrize("tool", ["sample", "eval", "trace", "train"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_tool_refuses_with_one_line_and_status_2(bad_files, tool, kind, tmp_path, capsys):
    data = tmp_path / "text.txt"
    data.write_text(SMALL_TEXT)
    main = getattr(cli, f"{tool}_main")
    with pytest.raises(SystemExit) as exited:
        main(_tool_args(tool, bad_files[kind], tmp_path, data))
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 2, err
    assert len(err.splitlines()) == 1 and str(bad_files[kind]) in err, err
    assert "Traceback" not in err and "weights_only" not in err
    assert not (tmp_path / "t.npz").exists()


@pytest.mark.parametrize("kind", ["nan-weights", "huge-width", "pickle", "truncated"])
async def test_the_app_opens_and_only_the_bad_files_pane_says_so(bad_files, kind, tmp_path):
    from shakes_tui.tui.widgets.generation_pane import GenerationPane

    from tests.tui_helpers import make_app, settle

    folder = tmp_path / "weights"
    folder.mkdir()
    for name in ("benvolio", "romeo"):
        shutil.copy(WEIGHTS_DIR / f"{name}.safetensors", folder)
    shutil.copy(bad_files[kind], folder / "mercutio.safetensors")
    app = make_app(tmp_path, weights_dir=folder)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert app.bank.get("benvolio").loaded is not None and app.bank.get("romeo").loaded is not None
        slot = app.bank.get("mercutio")
        assert slot.loaded is None and "mercutio.safetensors" in slot.error
        shown = str(app.query_one("#gen-mercutio", GenerationPane).render())
        assert "loading" not in shown.lower()
