"""``reasonlab eval`` over a mix of track tasks and puzzle families, end to end with the solver backend."""

from __future__ import annotations

import json

import pytest

from reasonlab.runs.evaluate import load_eval_config, run_eval
from reasonlab.runs.rundir import RunDirError
from reasonlab.tracks import TracksExtraMissing, load_task

TASKS = ["gsm8k", "humaneval", "knights_knaves", "piqa"]


@pytest.fixture(scope="module", autouse=True)
def _needs_track_data():
    try:
        for name in TASKS:
            load_task(name).requests(limit=1)
    except TracksExtraMissing as exc:
        pytest.skip(str(exc))


def _config(*overrides: str):
    # the grader's budget: the embedded default's 64 tokens would truncate the references (never correct)
    base = [
        "backend.kind=solver",
        "generation.max_tokens=7680",
        f"data.tasks=[{', '.join(TASKS)}]",
        "data.limit=2",
        "report=false",
    ]
    return load_eval_config(None, [*base, *overrides])


def test_a_mix_of_tasks_and_families_runs_through_one_store_and_one_metrics_table(tmp_path):
    result = run_eval(_config("data.families=[gravity, unit]"), tmp_path / "run")
    tasks, families = result.metrics["by_task"], result.metrics["by_family"]
    assert set(tasks) == {*TASKS, "wonderland"} and set(families) and set(families) <= {"gravity", "unit"}
    # the solver backend answers task rows with their references: every one must score
    assert all(tasks[name]["accuracy"] == 1.0 and tasks[name]["rows"] == 2 for name in TASKS)
    assert tasks["wonderland"]["rows"] == sum(group["rows"] for group in families.values()) == 2
    assert set(result.metrics["by_track"]) == {"math", "code", "logic", "commonsense", "puzzles"}
    assert all(group["no_answer_rate"] == 0.0 for group in result.metrics["by_track"].values())
    stored = [json.loads(line) for line in (tmp_path / "run" / "completions.jsonl").read_text().splitlines()]
    assert {"gsm8k/0", "humaneval/HumanEval/1", "piqa/1"} <= {record["id"] for record in stored}
    assert result.metrics["overall"]["missing_rows"] == 0


def test_tasks_alone_skip_the_puzzles_and_a_rerun_reuses_every_row(tmp_path):
    first = run_eval(_config(), tmp_path / "run")
    assert set(first.metrics["by_task"]) == set(TASKS) and first.metrics["by_family"] == {}
    again = run_eval(_config(), tmp_path / "run")
    assert again.generated_rows == 0 and again.reused_rows == first.generated_rows == 8


def test_sampled_tasks_report_pass_at_k(tmp_path):
    result = run_eval(_config("data.samples=3", "data.tasks=[humaneval, gsm8k]"), tmp_path / "run")
    assert result.metrics["by_task"]["humaneval"]["rows"] == 6
    assert result.metrics["pass_at_k"]["humaneval"] == {"pass@1": 1.0, "pass@2": 1.0, "pass@3": 1.0}


def test_few_shot_examples_change_the_run_identity(tmp_path):
    run_eval(_config(), tmp_path / "run")
    with pytest.raises(RunDirError, match="another config"):
        run_eval(_config("data.fewshot=2"), tmp_path / "run")
