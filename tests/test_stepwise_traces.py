"""Stepwise traces of the four easy families: traced from the prompt alone, audited, replayed, correct on
dev.csv; the shared arithmetic steps re-execute independently; drills and styles through synth."""

from __future__ import annotations

import json
import random
import re
from decimal import Decimal
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.grader import extract, verify
from reasonlab.prompting import user_prompt
from reasonlab.puzzles import trace_style
from reasonlab.puzzles.audit import audit_trace, match_step
from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.families._synthesis import TraceError
from reasonlab.puzzles.families.numeral import to_roman
from reasonlab.puzzles.trace_style import find_drills, find_tracer, get_tracer
from reasonlab.puzzles.traces import arithmetic
from reasonlab.puzzles.types import Solution, Status
from reasonlab.synth.check import Rejection, trace_puzzle
from reasonlab.synth.drills import make_drills, shares
from reasonlab.synth.generate import Mixture, generate_one, iter_traced

EASY = ("gravity", "unit", "cipher", "numeral")
runner = CliRunner()


def test_dev_rows_of_the_easy_families_are_traced_audited_and_correct(dev_puzzles):
    """Every 3rd dev row of each easy family: a trace from the prompt, passing the audit, whose replay
    is what the grader reads and what it accepts as gold."""
    checked = dict.fromkeys(EASY, 0)
    for puzzle in dev_puzzles[::3]:
        family = classify(puzzle.prompt).family
        if family not in EASY:
            continue
        tracer = get_tracer(family, "stepwise")
        instance = get_family(family).parse(puzzle.prompt)
        trace = tracer.trace(instance)
        assert trace is not None, puzzle.id
        assert audit_trace(user_prompt(puzzle.prompt), trace, tracer).ok, puzzle.id
        answer = tracer.replay(instance, trace)
        assert answer == extract(trace) and verify(puzzle.answer, answer), puzzle.id
        checked[family] += 1
    assert min(checked.values()) > 250


@pytest.mark.parametrize("family", EASY)
def test_the_same_prompt_gives_the_same_bytes_and_tampering_fails_replay(family):
    tracer = get_tracer(family, "stepwise")
    puzzle = generate_one(8, 0, Mixture.resolve({family: 1}))[1]
    instance = get_family(family).parse(puzzle.prompt)
    trace = tracer.trace(instance)
    assert trace == tracer.trace(get_family(family).parse(puzzle.prompt))
    lines = trace.splitlines()
    for at in (1, len(lines) // 2, len(lines) - 2):
        line = lines[at]
        digit = re.search(r"\d", line)
        if digit:
            changed = line[: digit.start()] + str((int(digit.group()) + 1) % 10) + line[digit.end() :]
        else:
            changed = line + " and more"
        with pytest.raises(TraceError):
            tracer.replay(instance, "\n".join([*lines[:at], changed, *lines[at + 1 :]]))
    with pytest.raises(TraceError):
        tracer.replay(instance, "\n".join(lines[:-1] + ["\\boxed{wrong}"]))


def _replayed(lines: list[str]) -> None:
    for line in lines:
        kind, found = match_step(arithmetic.STEP_KINDS, line)
        arithmetic.check_step(kind, found)


decimals = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)


@settings(max_examples=60, deadline=None)
@given(a=decimals, b=decimals, coarse=st.booleans())
def test_products_and_sums_are_exact_and_every_line_re_executes(a, b, coarse):
    grain = arithmetic.COARSE if coarse else arithmetic.FINE
    lines: list[str] = []
    assert arithmetic.write_product(lines, a, b, grain) == a * b
    assert arithmetic.write_sum(lines, [a, b, a], grain) == 2 * a + b
    _replayed(lines)
    kinds = {match_step(arithmetic.STEP_KINDS, line)[0].name for line in lines}
    assert ("mul_line" in kinds) == coarse


@settings(max_examples=60, deadline=None)
@given(n=decimals, d=decimals, places=st.integers(0, 6))
def test_long_division_truncates_and_every_digit_re_executes(n, d, places):
    lines: list[str] = []
    quotient = arithmetic.write_quotient(lines, n, d, places)
    assert quotient == (n / d).quantize(Decimal(1).scaleb(-places), rounding="ROUND_DOWN")
    _replayed(lines)


def test_a_wrong_digit_in_any_arithmetic_step_is_caught():
    lines: list[str] = []
    arithmetic.write_product(lines, Decimal("3.07"), Decimal("5.2"))
    arithmetic.write_quotient(lines, Decimal("96.89"), Decimal("138.10"), 4)
    arithmetic.write_round(lines, Decimal("30.655"), 2)
    for line in lines:
        last = re.search(r"\d(?=\D*$)", line)
        wrong = line[: last.start()] + str((int(last.group()) + 1) % 10) + line[last.end() :]
        kind, found = match_step(arithmetic.STEP_KINDS, wrong)
        with pytest.raises(TraceError):
            arithmetic.check_step(kind, found)


def test_every_digit_place_is_written_with_its_zeros():
    assert arithmetic.place_values(Decimal("3.07")) == ["3", "0.0", "0.07"]
    assert arithmetic.place_values(Decimal("305")) == ["300", "00", "5"]
    lines: list[str] = []
    arithmetic.write_product(lines, Decimal("3.07"), Decimal("5.2"), arithmetic.COARSE)
    assert lines == ["3.07*5.2 = 3*5.2 + 0.0*5.2 + 0.07*5.2 = 15.6 + 0 + 0.364 = 15.964"]


def test_stepwise_traces_come_from_the_prompt_and_families_without_a_tracer_are_counted(monkeypatch):
    def no_solver(instance):
        raise AssertionError("a stepwise tracer writes its own procedure; it does not take a solution")

    monkeypatch.setattr(get_family("numeral"), "solve", no_solver)
    rows = list(
        islice(iter_traced(3, Mixture.resolve({"bit": 1, "numeral": 1}), workers=1, chunk_size=10), 30)
    )
    for row in rows:
        if find_tracer(row.family, "stepwise") is None:
            assert row.rejection is Rejection.NO_STYLE_TRACER
        elif row.family == "numeral":
            assert row.rejection is None and row.style == "stepwise"
    assert any(r.family == "numeral" for r in rows)
    puzzle = next(r.puzzle for r in rows if r.family == "numeral")
    bogus = Solution("MMM", Status.SOLVED, "a generator's rule")
    assert trace_puzzle(puzzle, solution=bogus).traced_answer == puzzle.answer


def test_a_stepwise_trace_with_a_wrong_gold_is_rejected_as_a_wrong_answer():
    puzzle = generate_one(2, 0, Mixture.resolve({"cipher": 1}))[1]
    wrong = puzzle.__class__(puzzle.id, puzzle.prompt, "not the answer")
    assert trace_puzzle(wrong).rejection is Rejection.WRONG_ANSWER
    assert trace_puzzle(puzzle).rejection is None


class _CountingDrills:
    family = "numeral"
    style = "stepwise"

    def drills(self, rng: random.Random, n: int) -> list[tuple[str, str]]:
        values = [rng.randint(1, 100) for _ in range(n)]
        return [(f"Roman numeral of {v}?", f"{v} = {to_roman(v)}") for v in values]


DRILLS = _CountingDrills()


def test_drills_come_from_registered_sources_and_are_marked(monkeypatch, tmp_path):
    assert find_drills("numeral", "stepwise") is None
    monkeypatch.setitem(trace_style._DRILLS, ("numeral", "stepwise"), "test_stepwise_traces:DRILLS")
    made = make_drills(Mixture.resolve({"numeral": 1, "unit": 1}), "stepwise", 7, seed=1)
    assert made.per_family == {"numeral": 7} and "unit" in made.without_source
    assert all(r["drill"] and r["family"] == "numeral" for r in made.records)
    assert shares({"a": 1, "b": 2}, 10) == {"a": 3, "b": 7}
    out = tmp_path / "d.jsonl"
    args = [
        "synth",
        "--n",
        "4",
        "--mix",
        "numeral=1,unit=1",
        "--drills",
        "5",
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    result = runner.invoke(app, [*args, "--tokenizer", "none"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["drill"] for r in records] == [True] * 5 + [False] * 4
    assert "no stepwise drill source for unit" in " ".join(result.output.split())
    audited = runner.invoke(app, ["traces", "audit", str(out)])
    assert audited.exit_code == 0 and "5 drill records" in " ".join(audited.output.split())


def test_solve_writes_stepwise_traces_for_unlabelled_rows(tmp_path):
    mixture = Mixture.resolve({"numeral": 1, "gravity": 1, "bit": 1})
    puzzles = [generate_one(4, i, mixture)[1] for i in range(6)]
    source = tmp_path / "test.csv"
    source.write_text(
        "id,prompt\n" + "".join(f'p{i},"{p.prompt}"\n' for i, p in enumerate(puzzles)), encoding="utf-8"
    )
    out, traces = tmp_path / "preds.csv", tmp_path / "traces.jsonl"
    result = runner.invoke(
        app, ["solve", str(source), "--out", str(out), "--traces", str(traces), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in traces.read_text().splitlines()]
    traceable = [i for i, p in enumerate(puzzles) if find_tracer(classify(p.prompt).family, "stepwise")]
    assert [r["id"] for r in records] == [f"p{i}" for i in traceable]
    assert all(r["style"] == "stepwise" for r in records)
    assert all(verify(puzzles[i].answer, r["answer"]) for i, r in zip(traceable, records, strict=True))
    assert runner.invoke(app, ["traces", "audit", str(traces)]).exit_code == 0


def test_cipher_vocabulary_drills_recall_the_table_the_traces_score():
    from reasonlab.puzzles.families.cipher import VOCABULARY

    made = make_drills(Mixture.resolve({"cipher": 1}), "stepwise", 20, seed=3)
    assert made.per_family == {"cipher": 20} and not made.without_source
    for record in made.records:
        length = int(re.search(r"have (\d+) letters", record["messages"][0]["content"]).group(1))
        listed = record["messages"][1]["content"].split(": ", 1)[1].rstrip(".").split(", ")
        assert listed == [w for w in VOCABULARY if len(w) == length]
