"""The benchmark code cannot rot: its --quick smoke run works and writes well-formed rows."""

import json
import subprocess
import sys


def test_quick_bench_prints_the_table_and_writes_json(tmp_path, small_text_file):
    out = tmp_path / "shakes_tui.bench.json"
    result = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out),
                             "--data", str(small_text_file)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "generation time per character against context length" in result.stdout
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert all({"what", "figure", "reference", "ratio", "goal", "pass"} <= set(row) for row in rows)
    names = " ".join(row["what"] for row in rows)
    for expected in ("train chars/s benvolio", "train chars/s romeo", "train GFLOP/s romeo",
                     "generate chars/s mercutio", "first char", "gate trace", "event-loop lag", "peak RSS", "beside"):
        assert expected in names
    assert all(row["figure"] > 0 for row in rows)
    assert set(data["growth"]) == {"generation ms/char by context", "gate trace ms by text length",
                                   "training k chars/s by batch"}
