"""The completion store survives torn writes and never repeats a row; the statistics are right."""

from __future__ import annotations

import json

import pytest

from reasonlab.inference.store import CompletionStore, stored_records
from reasonlab.scoring.stats import mcnemar_exact_p, paired_comparison, wilson_interval


def test_store_resumes_skips_done_rows_and_repairs_a_torn_line(tmp_path):
    path = tmp_path / "completions.jsonl"
    with CompletionStore(path, "h1") as store:
        store.append({"id": "a", "completion": "x"})
        store.append({"id": "b", "completion": "y"})
        store.append({"id": "a", "completion": "again"})  # ignored: a row is written once
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "c", "completion": "cut sh')  # what a kill -9 mid-write leaves
    with CompletionStore(path, "h1") as store:
        assert store.pending(["a", "b", "c"]) == ["c"]
        store.append({"id": "c", "completion": "z"})
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in lines] == ["a", "b", "c"]
    assert lines[0]["completion"] == "x"


def test_store_ignores_rows_of_another_config(tmp_path):
    path = tmp_path / "completions.jsonl"
    with CompletionStore(path, "old") as store:
        store.append({"id": "a", "completion": "x"})
    with CompletionStore(path, "new") as store:
        assert store.pending(["a"]) == ["a"]


def test_reading_a_store_leaves_a_file_still_being_written_as_it_is(tmp_path):
    path = tmp_path / "c.jsonl"
    with CompletionStore(path, "h") as store:
        store.append({"id": "a", "completion": "x"})
    path.write_text(path.read_text() + '{"id": "b", "config_ha', encoding="utf-8")  # a write under way
    before = path.read_bytes()
    assert list(stored_records(path, "h")) == ["a"]
    assert stored_records(path, "other") == {}
    assert path.read_bytes() == before


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0) and wilson_interval(10, 10)[1] == pytest.approx(
        1.0
    )


def test_mcnemar_exact():
    assert mcnemar_exact_p(0, 0) == 1.0
    assert mcnemar_exact_p(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_exact_p(5, 5) == 1.0


def test_paired_comparison_detects_a_real_gain_and_not_noise():
    a = [True] * 50 + [False] * 50
    better = [True] * 50 + [True] * 30 + [False] * 20
    result = paired_comparison(a, better)
    assert result.difference == pytest.approx(0.3)
    assert result.ci_low > 0 and result.significant
    shuffled = [True] * 45 + [False] * 5 + [True] * 5 + [False] * 45
    noise = paired_comparison(a, shuffled)
    assert noise.difference == 0 and noise.ci_low < 0 < noise.ci_high and not noise.significant
