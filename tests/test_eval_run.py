"""`reasonlab eval` end to end: run directory, metrics equal to `reasonlab score`, kill -9 and resume."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.runs.evaluate import data_path, load_eval_config, run_eval
from reasonlab.runs.report import html_report
from reasonlab.scoring.predictions import read_predictions, score_predictions

SRC = Path(__file__).resolve().parents[1] / "src"


def _score_like_cli(run_dir: Path):
    from reasonlab.puzzles.io import read_puzzles

    config = load_eval_config(run_dir / "config.yaml")
    gold = read_puzzles(data_path(config)).puzzles
    return score_predictions(gold, read_predictions(run_dir / "completions.jsonl"))


def test_solver_run_writes_the_run_dir_and_matches_reasonlab_score(tmp_path):
    config = load_eval_config(
        None, ["backend.kind=solver", "generation.max_tokens=7680", "budgets=[64, 7680]"]
    )
    result = run_eval(config, tmp_path / "run")
    run = result.run.path
    for name in (
        "config.yaml",
        "run.json",
        "environment.json",
        "completions.jsonl",
        "metrics.json",
        "report.html",
        "report.md",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    report = _score_like_cli(run)
    assert metrics["overall"]["accuracy"] == pytest.approx(report.overall.accuracy)
    assert metrics["overall"]["accuracy"] > 0.5  # the solvers answer most sample rows
    for family, group in report.by_family.items():
        assert metrics["by_family"][family]["correct"] == group.correct
    assert metrics["overall"]["accuracy_at_budget"]["7680"] == metrics["overall"]["accuracy"]
    page = (run / "report.html").read_text()
    assert page.count("data:image/svg+xml;base64,") == 3 and "http" not in page.replace("http-equiv", "")
    plots = re.findall(r'<img alt="([^"]+)" src="data:image/svg\+xml;base64,([^"]+)"', page)
    for caption, data in plots:
        svg = ElementTree.fromstring(base64.b64decode(data))
        assert svg.tag.endswith("svg")
        texts = [t.text for t in svg.iter() if t.tag.endswith("text") and t.text]
        assert any(caption.split()[0] in text for text in texts), caption  # titles are text, not paths
    assert html_report(metrics, result.rows, "t") == html_report(metrics, result.rows, "t")  # same bytes


def test_rerun_reuses_completions_and_refuses_other_settings(tmp_path):
    config = load_eval_config(None, ["backend.kind=solver", "data.limit=4"])
    first = run_eval(config, tmp_path / "run")
    assert (first.generated_rows, first.reused_rows) == (4, 0)
    more = run_eval(load_eval_config(None, ["backend.kind=solver", "data.limit=6"]), tmp_path / "run")
    assert (more.generated_rows, more.reused_rows) == (2, 4)
    from reasonlab.runs.rundir import RunDirError

    with pytest.raises(RunDirError, match="another config"):
        run_eval(load_eval_config(None, ["backend.kind=solver", "generation.max_tokens=5"]), tmp_path / "run")


def test_default_eval_cli_on_the_tiny_model(tmp_path):
    result = CliRunner().invoke(app, ["eval", "--out", str(tmp_path / "run"), "generation.max_tokens=8"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["overall"]["rows"] == _score_like_cli(tmp_path / "run").overall.rows
    assert metrics["overall"]["tokens_per_s"] > 0
    bad = CliRunner().invoke(app, ["eval", "generation.max_tokens=lots"])
    assert bad.exit_code == 2 and "generation.max_tokens" in bad.output


# One row at a time, so the run is still going when a few rows are stored.
KILL_TEST_OVERRIDES = [
    "backend.model=tiny:llama",
    "backend.max_batch_size=1",
    "generation.max_tokens=48",
    "report=false",
]


def _eval_process(out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "reasonlab", "eval", "--out", str(out), *KILL_TEST_OVERRIDES]
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _lines(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n") if path.is_file() else 0


def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_result(tmp_path):
    from reasonlab.models.tiny import tiny_model

    tiny_model("llama")  # built before the clock starts
    killed = tmp_path / "killed"
    process = _eval_process(killed)
    deadline = time.monotonic() + 120
    while _lines(killed / "completions.jsonl") < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = _lines(killed / "completions.jsonl")
    total = len(_sample_rows())
    assert 3 <= done_before < total

    assert _eval_process(killed).wait(timeout=300) == 0
    clean = tmp_path / "clean"
    run_eval(load_eval_config(None, KILL_TEST_OVERRIDES), clean)

    def rows(run: Path) -> list[dict]:
        return [
            json.loads(line) for line in (run / "completions.jsonl").read_text(encoding="utf-8").splitlines()
        ]

    resumed_rows = rows(killed)
    assert len(resumed_rows) == len({r["id"] for r in resumed_rows}) == total
    assert {r["id"]: r["completion"] for r in resumed_rows} == {r["id"]: r["completion"] for r in rows(clean)}
    resumed_metrics = json.loads((killed / "metrics.json").read_text())
    clean_metrics = json.loads((clean / "metrics.json").read_text())
    for key in ("rows", "correct", "accuracy", "truncation_rate", "mean_completion_tokens", "efficiency"):
        assert resumed_metrics["overall"][key] == clean_metrics["overall"][key]


def _sample_rows() -> list:
    from reasonlab.puzzles.io import read_puzzles

    return read_puzzles(data_path(load_eval_config(None))).puzzles
