import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from shakes_tui.engine import cli
from shakes_tui.engine.runs import Finished, RunDir, Train


def run_cli(main, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_sample_with_a_fixed_rng_seed_prints_the_same_text_twice(capsys):
    for model in ("benvolio", "mercutio", "romeo"):
        argv = ["--model", model, "--seed", "ROMEO:\n", "-n", "80", "--rng-seed", "42"]
        first = run_cli(cli.sample_main, argv, capsys)
        second = run_cli(cli.sample_main, argv, capsys)
        assert first[0] == 0 and first == second
        assert first[1].startswith("ROMEO:\n") and len(first[1]) == len("ROMEO:\n") + 80 + 1


def test_sample_with_a_draft_model_gives_the_same_greedy_text(capsys):
    argv = ["--model", "romeo", "--seed", "ROMEO:\n", "-n", "60", "--temperature", "0"]
    plain = run_cli(cli.sample_main, argv, capsys)
    drafted = run_cli(cli.sample_main, argv + ["--draft", "benvolio"], capsys)
    assert plain[0] == 0 and drafted == plain
    code, _, err = run_cli(cli.sample_main, ["--model", "benvolio", "--draft", "mercutio"], capsys)
    assert code != 0 and "speculative sampling takes" in err


def test_sample_reports_dropped_seed_characters(capsys):
    code, out, err = run_cli(cli.sample_main, ["--model", "benvolio", "--seed", "héllo", "-n", "5"], capsys)
    assert code == 0 and "dropped 1 seed character" in err


@pytest.mark.parametrize("main, argv, message", [
    (cli.sample_main, ["--weights", "/nonexistent.safetensors"], "weights file not found"),
    (cli.train_main, ["--model", "romeo", "--data", "/nonexistent.txt"], "corpus file not found"),
    (cli.train_main, [], "say which model"),
    (cli.trace_main, ["hi", "--weights", "romeo"], "tracing needs Mercutio"),
    (cli.eval_main, ["--weights", "/nonexistent.safetensors", "--data", "/nonexistent.txt"], "not found"),
    (cli.sample_main, ["--model", "juliet"], "choose from 'benvolio', 'mercutio', 'romeo'"),
    (cli.sample_main, ["--draft", "juliet"], "no model named 'juliet': the models are benvolio, mercutio, romeo"),
    (cli.train_main, ["--init", "juliet"], "no model named 'juliet'"),
])
def test_errors_are_one_line_without_traceback(capsys, main, argv, message):
    code, _, err = run_cli(main, argv, capsys)
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_trace_exports_gates_for_notebooks(tmp_path, capsys):
    out = tmp_path / "t.npz"
    code, _, err = run_cli(cli.trace_main, ["To be, or not", "--out", str(out)], capsys)
    assert code == 0
    arrays = np.load(out)
    assert str(arrays["text"]) == "To be, or not"
    assert arrays["f"].shape == arrays["c"].shape == (13, 3, 512)


def test_train_and_eval_from_the_command_line(tmp_path, small_text_file, capsys):
    run = tmp_path / "run"
    argv = ["--model", "benvolio", "--preset", "tiny", "--data", str(small_text_file), "--out", str(run),
            "--max-steps", "12", "--eval-interval", "6", "--seq-len", "16", "--batch-size", "4", "--device", "cpu"]
    code, _, err = run_cli(cli.train_main, argv, capsys)
    assert code == 0 and "finished at step 12" in err
    assert isinstance(RunDir(run).events()[-1], Finished)
    code, _, err = run_cli(cli.train_main, argv, capsys)  # the same --out again is refused
    assert code == 2 and "--resume" in err
    code, out, _ = run_cli(cli.train_main, ["--resume", str(run), "--max-steps", "15", "--data",
                                            str(small_text_file)], capsys)
    assert code == 0 and RunDir(run).load_checkpoint()["step"] == 15
    code, out, _ = run_cli(cli.eval_main, ["--weights", str(run / "weights.safetensors"), "--data",
                                           str(small_text_file), "--json"], capsys)
    result = json.loads(out)[str(run / "weights.safetensors")]
    assert code == 0 and result["family"] == "benvolio" and 0 < result["val_loss"] < 5


def test_sigterm_stops_training_cleanly(tmp_path, small_text_file):
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "shakes_tui.engine",
                             "train", "--model", "mercutio", "--preset", "tiny",
                             "--data", str(small_text_file), "--out", str(run), "--seq-len", "16",
                             "--max-steps", "1000000", "--device", "cpu"], stderr=subprocess.PIPE, text=True)
    follower = RunDir(run)
    for _ in range(300):
        if any(isinstance(e, Train) for e in follower.events()):
            break
        proc.wait(timeout=0.1) if proc.poll() is not None else __import__("time").sleep(0.1)
    proc.terminate()
    assert proc.wait(timeout=60) == 0
    events = follower.events()
    assert isinstance(events[-1], Finished) and events[-1].reason == "signal"
    assert follower.load_checkpoint()["step"] == events[-1].step


def test_every_tool_has_help():
    for tool in ("train", "eval", "sample", "trace"):
        result = subprocess.run([sys.executable, "-m", "shakes_tui.engine",
                                 tool, "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and "usage:" in result.stdout


def test_train_help_names_every_preset():
    help_text = " ".join(cli.train_parser().format_help().split())
    for name in ("default", "tiny", "quick"):
        assert name in help_text.split("--preset PRESET named size", 1)[1].split("--n-layer", 1)[0]


def test_a_text_too_short_for_the_window_is_a_clear_error(tmp_path, capsys):
    tiny_text = tmp_path / "tiny.txt"
    tiny_text.write_text("ab" * 20)
    code, _, err = run_cli(cli.train_main, ["--model", "romeo", "--data", str(tiny_text), "--max-steps", "1",
                                            "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "too short" in err and "--seq-len" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # a failed start creates nothing


@pytest.mark.parametrize("argv, message", [
    (["--model", "romeo", "--batch-size", "-1"], "must be greater than 0"),
    (["--model", "romeo", "--lr", "fast"], "is not a number"),
    (["--model", "romeo", "--dropout", "1"], "below 1"),
])
def test_bad_numbers_are_refused_before_anything_runs(capsys, argv, message):
    code, _, err = run_cli(cli.train_main, argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_heads_must_divide_the_width(tmp_path, small_text_file, capsys):
    code, _, err = run_cli(cli.train_main, ["--model", "romeo", "--n-head", "5", "--data", str(small_text_file),
                                            "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "multiple of n_head" in err
    assert not (tmp_path / "run").exists()


def test_the_old_seed_flag_of_shakes_train_still_works_and_says_it_is_deprecated(tmp_path, small_text_file, capsys):
    common = ["--model", "benvolio", "--preset", "tiny", "--data", str(small_text_file), "--max-steps", "3",
              "--seq-len", "16", "--batch-size", "4", "--device", "cpu"]
    code, _, err = run_cli(cli.train_main, [*common, "--out", str(tmp_path / "old"), "--seed", "5"], capsys)
    assert code == 0 and "--seed is deprecated, use --rng-seed" in err
    code, _, err = run_cli(cli.train_main, [*common, "--out", str(tmp_path / "new"), "--rng-seed", "5"], capsys)
    assert code == 0 and "deprecated" not in err
    old, new = (RunDir(tmp_path / name).load_checkpoint() for name in ("old", "new"))
    assert old["train_config"]["rng_seed"] == new["train_config"]["rng_seed"] == 5
    assert all(torch.equal(old["model"][k], new["model"][k]) for k in new["model"])  # the same seed, the same run
