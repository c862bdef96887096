"""`reasonlab reproduce` re-runs a run from its record: identical figures on CPU, and a changed one is named."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.reproduce import diff


def test_diff_leaves_timings_out_and_names_what_differs():
    a = {"overall": {"accuracy": 0.5, "seconds": 3.0, "tokens_per_s": 10.0}, "rows": [1, 2]}
    b = {"overall": {"accuracy": 0.6, "seconds": 9.0, "tokens_per_s": 99.0}, "rows": [1, 3]}
    assert diff(a, b) == [("overall.accuracy", 0.5, 0.6), ("rows[1]", 2, 3)]
    assert diff(a, {**a, "overall": {**a["overall"], "generation_seconds": 1}}) == []


def test_an_eval_run_reproduces_identically_and_a_tampered_one_does_not(tmp_path):
    runner = CliRunner()
    first = runner.invoke(
        app, ["eval", "data.limit=6", "generation.max_tokens=16", "--out", str(tmp_path / "a")]
    )
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["reproduce", str(tmp_path / "a"), "--out", str(tmp_path / "b")])
    assert again.exit_code == 0, again.output
    assert "identical" in again.output
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    metrics["overall"]["accuracy"] = 0.123
    (tmp_path / "a" / "metrics.json").write_text(json.dumps(metrics))
    changed = runner.invoke(app, ["reproduce", str(tmp_path / "a"), "--out", str(tmp_path / "c")])
    assert changed.exit_code == 1 and "overall.accuracy" in changed.output


def test_reproduce_refuses_what_it_cannot_rerun(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"command": "tune"}))
    result = CliRunner().invoke(app, ["reproduce", str(tmp_path), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "cannot reproduce a 'tune' run" in " ".join(result.output.split())


def test_a_file_inside_each_run_is_the_same_figure(tmp_path):
    from reasonlab.reproduce import _located

    then = _located({"submission": str(tmp_path / "a" / "submission.zip")}, tmp_path / "a")
    now = _located({"submission": str(tmp_path / "b" / "submission.zip")}, tmp_path / "b")
    assert diff(then, now) == [] and then["submission"] == "RUN_DIR/submission.zip"
