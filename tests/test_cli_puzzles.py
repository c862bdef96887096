"""`reasonlab solve`, `reasonlab score` and `reasonlab run` through the real CLI."""

from __future__ import annotations

import csv
import json
import time

from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.cli.puzzles import sample_csv
from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.solve import solve_many
from reasonlab.puzzles.types import Status

runner = CliRunner()


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_solve_writes_every_row_with_status(tmp_path):
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["solve", str(sample_csv()), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    gold = read_puzzles(sample_csv()).puzzles
    assert [r["id"] for r in rows] == [p.id for p in gold]
    assert {"id", "answer", "family", "subtype", "status"} <= set(rows[0])
    assert {r["status"] for r in rows} <= {s.value for s in Status}
    assert "overall" in result.stdout


def test_slow_and_crashing_puzzles_do_not_stop_the_run(monkeypatch):
    numeral = get_family("numeral")
    gravity = get_family("gravity")
    monkeypatch.setattr(numeral, "solve", lambda inst: time.sleep(5))
    monkeypatch.setattr(gravity, "solve", lambda inst: 1 / 0)
    puzzles = read_puzzles(sample_csv()).puzzles
    rows = list(solve_many(puzzles, workers=1, timeout=0.2))
    by_family = {r.family: r.solution.status for r in rows}
    assert by_family["numeral"] is Status.TIMEOUT
    assert by_family["gravity"] is Status.ERROR
    assert by_family["cipher"] in (Status.SOLVED, Status.AMBIGUOUS)
    assert len(rows) == len(puzzles)


def test_skip_invalid_sets_rows_aside(tmp_path):
    src = tmp_path / "in.csv"
    good = read_puzzles(sample_csv()).puzzles[0]
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "prompt", "answer"])
        w.writerows(
            [(good.id, good.prompt, good.answer), (good.id, good.prompt, good.answer), ("z9", "", "1")]
        )
    out = tmp_path / "out.csv"
    refused = runner.invoke(app, ["solve", str(src), "--out", str(out)])
    assert refused.exit_code == 2 and "duplicate id" in refused.output
    result = runner.invoke(app, ["solve", str(src), "--out", str(out), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert len(read_csv(out)) == 1
    assert [r["problem"] for r in read_csv(out.with_suffix(".invalid.csv"))] == [
        "duplicate id",
        "empty prompt",
    ]


def test_score_csv_and_jsonl_with_missing_ids(tmp_path):
    gold = read_puzzles(sample_csv()).puzzles
    preds = tmp_path / "p.csv"
    with preds.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "answer"])
        for p in gold[1:]:
            w.writerow([p.id, p.answer])
    report_path = tmp_path / "r.json"
    result = runner.invoke(app, ["score", str(sample_csv()), str(preds), "--json", str(report_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["overall"]["rows"] == len(gold)
    assert report["overall"]["correct"] == len(gold) - 1
    assert report["missing_ids"] == [gold[0].id]

    completions = tmp_path / "c.jsonl"
    with completions.open("w") as fh:
        for i, p in enumerate(gold):
            text = (
                f"<think>working</think>\nThe answer is \\boxed{{{p.answer}}}" if i % 2 == 0 else "I give up"
            )
            fh.write(json.dumps({"id": p.id, "completion": text}) + "\n")
    result = runner.invoke(app, ["score", str(sample_csv()), str(completions), "--json", str(report_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(report_path.read_text())["overall"]["correct"] == (len(gold) + 1) // 2


def test_score_rejects_bad_prediction_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "completion": "1"}\nnot json\n')
    result = runner.invoke(app, ["score", str(sample_csv()), str(bad)])
    assert result.exit_code == 2 and "line 2" in result.output
