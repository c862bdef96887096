"""The fast path of synthesis: generators that hand over their own rule, traced without the solver."""

from __future__ import annotations

import random
from itertools import islice

import pytest
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.grader import extract, verify
from reasonlab.prompting import BOXED_SUFFIX
from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.families.equation_priors import default_priors
from reasonlab.puzzles.families.equation_symbolic import solve_given
from reasonlab.puzzles.types import Status
from reasonlab.synth.check import Rejection
from reasonlab.synth.generate import Mixture, generate_solved_one, iter_traced
from reasonlab.synth.records import read_records


@pytest.mark.parametrize("name", ["bit", "equation"])
def test_generate_solved_draws_the_puzzle_generate_draws(name):
    family = get_family(name)
    for seed in range(30):
        puzzle, solution = family.generate_solved(random.Random(seed))
        assert puzzle == family.generate(random.Random(seed))
        if solution is not None and solution.answer is not None:
            assert solution.answer == puzzle.answer or solution.status is Status.AMBIGUOUS


def test_fast_path_skips_the_solver_and_still_proves_every_trace(monkeypatch):
    mixture = Mixture.resolve({"bit": 1})

    def no_solver(instance):
        raise AssertionError("the fast path must not search")

    monkeypatch.setattr(get_family("bit"), "solve", no_solver)
    fast = list(islice(iter_traced(4, mixture, workers=1, chunk_size=10, style="compact"), 20))
    assert all(t.rejection is None for t in fast)
    assert all(verify(t.puzzle.answer, extract(t.trace)) for t in fast)
    checked = list(
        islice(
            iter_traced(4, mixture, workers=1, chunk_size=10, verify_with_solver=True, style="compact"), 20
        )
    )
    assert {t.rejection for t in checked} == {Rejection.ERROR}
    assert [t.puzzle for t in checked] == [t.puzzle for t in fast]


def test_verify_with_solver_keeps_only_rows_the_solver_answers_and_the_same_puzzles():
    mixture = Mixture.resolve(None)
    fast = list(islice(iter_traced(7, mixture, workers=1, chunk_size=30, style="compact"), 90))
    checked = list(
        islice(
            iter_traced(7, mixture, workers=1, chunk_size=30, verify_with_solver=True, style="compact"), 90
        )
    )
    assert [t.puzzle for t in fast] == [t.puzzle for t in checked]
    for row in checked:
        if row.rejection is None:
            family = get_family(row.family)
            solved = family.solve(family.parse(row.puzzle.prompt))
            assert verify(row.puzzle.answer, solved.answer)
    for row in fast:
        if row.rejection is None:
            assert verify(row.puzzle.answer, extract(row.trace))


def test_fast_path_is_the_same_whatever_the_worker_count():
    mixture = Mixture.resolve({"bit": 1, "equation": 2})

    def first(workers):
        stream = iter_traced(21, mixture, workers=workers, chunk_size=15, style="compact")
        return [(t.puzzle, t.trace, t.rejection) for t in islice(stream, 60)]

    assert first(1) == first(2)


def test_given_digit_map_vote_agrees_with_the_solver_where_the_examples_determine_the_answer():
    family = get_family("equation")
    mixture = Mixture.resolve({"equation": 1})
    agreed = 0
    for index in range(200):
        _, puzzle, given = generate_solved_one(
            9, index, mixture, {"equation": {"subtype": "symbolic-deduce"}}
        )
        solved = family.solve(family.parse(puzzle.prompt))
        if solved.status is Status.SOLVED and given.answer is not None:
            assert given.answer == solved.answer == puzzle.answer
            agreed += 1
        if agreed == 25:
            break
    assert agreed == 25


def test_query_with_digits_the_examples_leave_open_is_not_answered():
    family = get_family("equation")
    puzzle, _ = family.generate_solved(random.Random(0), subtype="symbolic-deduce")
    instance = family.parse(puzzle.prompt)
    query_symbols = set(instance.query.left + instance.query.right)
    digits = {s: d for d, s in enumerate("ABCDEFG") if s not in query_symbols}
    solution = solve_given(instance.query, digits, {}, default_priors())
    assert solution.answer is None and "digits" in solution.rule


def test_synth_command_with_the_solver_round_trip_writes_solver_agreed_records(tmp_path):
    out = tmp_path / "checked.jsonl"
    args = [
        "synth",
        "--n",
        "6",
        "--mix",
        "bit=1,equation=1",
        "--seed",
        "3",
        "--tokenizer",
        "none",
        "--style",
        "compact",
    ]
    result = CliRunner().invoke(app, [*args, "--workers", "1", "--verify-with-solver", "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = read_records(out)
    assert len(records) == 6
    for record in records:
        family = get_family(record["family"])
        prompt = record["messages"][0]["content"].removesuffix("\n" + BOXED_SUFFIX)
        assert verify(record["answer"], family.solve(family.parse(prompt)).answer)
