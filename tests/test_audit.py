"""The learnable-trace audit: every crafted violation of each rule is caught, at its line, and today's
compact traces are flagged; the CLI exits non-zero on any violation."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

import pytest
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.prompting import user_prompt
from reasonlab.puzzles.audit import Rule, audit_records, audit_trace, printed
from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.trace_style import StepKind, get_tracer
from reasonlab.synth.generate import Mixture, generate_one
from reasonlab.synth.records import assistant_text

runner = CliRunner()

# A toy family's documented steps: copy a value, add two values, choose one of the printed values.
COPY = StepKind("copy", re.compile(r"copy (?P<c_x>\d+)"), "copy a value")
ADD = StepKind(
    "add",
    re.compile(r"(?P<c_terms>\d+(?: \+ \d+)+) = (?P<total>\d+)"),
    "add two numbers",
    lambda m: None if m.group("c_terms").count("+") == 1 else "more than two terms",
    separators=re.compile(r"[\s+]+"),
)
CHOOSE = StepKind("choose", re.compile(r"choose (?P<c_x>\d+)"), "choose a printed value", choice=True)


@dataclass(frozen=True)
class ToyTracer:
    family: str = "toy"
    style: str = "stepwise"
    step_kinds: tuple[StepKind, ...] = field(default=(COPY, ADD, CHOOSE))

    def trace(self, instance):
        return None

    def replay(self, instance, text):
        return ""


TOY = ToyTracer()
PROMPT = "Values: 12 and 30."


def _caught(trace: str, tracer=TOY, prompt: str = PROMPT, window: int = 20) -> set[tuple[Rule, int]]:
    return {(v.rule, v.line) for v in audit_trace(prompt, trace, tracer, window=window).violations}


def test_a_clean_toy_trace_passes():
    trace = "copy 12\n12 + 30 = 42\nchoose 42"
    audit = audit_trace(PROMPT, trace, TOY)
    assert audit.ok and audit.kinds == {"copy": 1, "add": 1, "choose": 1}


@pytest.mark.parametrize(
    ("trace", "expected"),
    [
        # no hidden compute: an undocumented line, and a documented kind beyond its bound
        ("copy 12\nso the answer is 42", {(Rule.HIDDEN_COMPUTE, 2)}),
        ("12 + 30 + 12 = 54", {(Rule.HIDDEN_COMPUTE, 1)}),
        # reference integrity: a cited value printed nowhere above (13 is not 12, 3 is not in 30)
        ("13 + 30 = 43", {(Rule.REFERENCE, 1)}),
        ("copy 3", {(Rule.REFERENCE, 1)}),
        ("12 + 30 = 42\n42 + 7 = 49", {(Rule.REFERENCE, 2)}),
        # evidence before choice: the choice cites a value the trace never printed (only the prompt has it)
        ("copy 12\nchoose 30", {(Rule.EVIDENCE, 2)}),
        ("choose 99", {(Rule.EVIDENCE, 1)}),
    ],
)
def test_every_crafted_violation_is_caught_at_its_line(trace, expected):
    assert _caught(trace) == expected


def test_locality_catches_a_value_printed_beyond_the_window():
    filler = "\n".join("copy 12" for _ in range(5))
    trace = f"12 + 30 = 42\n{filler}\n42 + 12 = 54"
    assert _caught(trace, window=5) == {(Rule.LOCALITY, 7)}
    assert _caught(trace, window=6) == set()


def test_blank_lines_keep_their_line_numbers():
    assert _caught("copy 12\n\n13 + 1 = 14") == {(Rule.REFERENCE, 3)}


def test_too_many_step_kinds_is_a_violation_of_the_trace():
    crowded = ToyTracer(step_kinds=tuple(StepKind(f"k{i}", re.compile(f"k{i}"), "") for i in range(30)))
    assert (Rule.STEP_KINDS, 0) in _caught("k1", tracer=crowded)


def test_whole_tokens_only():
    assert printed("5", "x = 5.")
    assert not printed("5", "3.5 and 15 and 5.1")
    assert printed("queen", "the queen, ")
    assert not printed("queen", "queens")
    assert printed("z=q", "map: a=b z=q")


def _generated(family: str, index: int):
    return generate_one(5, index, Mixture.resolve({family: 1}))[1]


@pytest.mark.parametrize("family", ["gravity", "unit", "cipher", "numeral"])
def test_stepwise_traces_pass_and_tampered_ones_are_caught(family):
    tracer = get_tracer(family, "stepwise")
    puzzle = _generated(family, 0)
    prompt = user_prompt(puzzle.prompt)
    lines = tracer.trace(get_family(family).parse(puzzle.prompt)).splitlines()
    assert audit_trace(prompt, "\n".join(lines), tracer).ok
    # a conclusion stated without steps
    stated = [*lines[:2], "the rule is clear, so:", *lines[2:]]
    assert (Rule.HIDDEN_COMPUTE, 3) in _caught("\n".join(stated), tracer, prompt)
    # the last computing line moved far below what it cites
    padded = [*lines[:-2], *([lines[0]] * 25), *lines[-2:]]
    assert any(rule is Rule.LOCALITY for rule, _ in _caught("\n".join(padded), tracer, prompt))


def test_gravity_arithmetic_beyond_its_bound_and_an_unprinted_operand_are_caught():
    tracer = get_tracer("gravity", "stepwise")
    puzzle = _generated("gravity", 1)
    prompt = user_prompt(puzzle.prompt)
    lines = tracer.trace(get_family("gravity").parse(puzzle.prompt)).splitlines()
    at = next(i for i, line in enumerate(lines) if re.fullmatch(r"0\.\d+\*[\d.]+ = [\d.]+", line))
    factor = lines[at].split("*")[1].split(" =")[0]
    wide = [*lines[:at], f"0.37*{factor} = 1", *lines[at + 1 :]]  # two digits in a one-digit product
    assert (Rule.HIDDEN_COMPUTE, at + 1) in _caught("\n".join(wide), tracer, prompt)
    invented = [*lines[:at], f"0.3*987654.321 = {987654.321 * 0.3:.4f}", *lines[at + 1 :]]
    assert (Rule.REFERENCE, at + 1) in _caught("\n".join(invented), tracer, prompt)


def test_cipher_choice_without_printed_evidence_is_caught():
    tracer = get_tracer("cipher", "stepwise")
    for index in range(200):
        puzzle = _generated("cipher", index)
        lines = tracer.trace(get_family("cipher").parse(puzzle.prompt)).splitlines()
        at = next((i for i, line in enumerate(lines) if line.startswith("choose ")), None)
        if at is not None:
            break
    lines[at - 1] = lines[at - 1].split(" could be:")[0] + " could be: none 0/0"  # evidence withheld
    found = _caught("\n".join(lines), tracer, user_prompt(puzzle.prompt))
    assert (Rule.EVIDENCE, at + 1) in found


@pytest.mark.parametrize("family", ["gravity", "unit", "cipher", "numeral", "bit", "equation"])
def test_todays_compact_style_is_flagged(family):
    puzzle = next(
        p
        for p in (_generated(family, i) for i in range(50))
        if get_tracer(family, "compact").trace(get_family(family).parse(p.prompt))
    )
    tracer = get_tracer(family, "compact")
    trace = tracer.trace(get_family(family).parse(puzzle.prompt))
    audit = audit_trace(user_prompt(puzzle.prompt), trace, tracer)
    lines = [n for n, line in enumerate(trace.splitlines(), 1) if line.strip()]
    assert {(v.rule, v.line) for v in audit.violations} >= {(Rule.HIDDEN_COMPUTE, n) for n in lines}


def _record(puzzle, trace, family, style, **extra):
    return {
        "id": puzzle.id or "row",
        "family": family,
        "style": style,
        "messages": [
            {"role": "user", "content": user_prompt(puzzle.prompt)},
            {"role": "assistant", "content": assistant_text(trace, "x")},
        ],
        **extra,
    }


def test_records_audit_counts_kinds_skips_drills_and_rejects_unknown_tracers():
    puzzle = _generated("numeral", 2)
    trace = get_tracer("numeral", "stepwise").trace(get_family("numeral").parse(puzzle.prompt))
    records = [
        _record(puzzle, trace, "numeral", "stepwise"),
        _record(puzzle, "anything", "numeral", "stepwise", drill=True),
        _record(puzzle, trace, "numeral", "compact"),
        _record(puzzle, trace, "nosuchfamily", "stepwise"),
    ]
    report = audit_records(records)
    assert (report.records, report.drills, report.passed) == (3, 1, 1)
    counted = {
        kind: n for (f, style, kind), n in report.kinds.items() if (f, style) == ("numeral", "stepwise")
    }
    assert sum(counted.values()) == len(trace.splitlines()) and counted["answer"] == 1
    assert report.failed == {("numeral", "compact"): 1, ("nosuchfamily", "stepwise"): 1}


def test_audit_command_exit_codes_and_report(tmp_path):
    puzzle = _generated("unit", 3)
    good = get_tracer("unit", "stepwise").trace(get_family("unit").parse(puzzle.prompt))
    clean, dirty = tmp_path / "clean.jsonl", tmp_path / "dirty.jsonl"
    clean.write_text(json.dumps(_record(puzzle, good, "unit", "stepwise")) + "\n")
    bad = good.replace("sum of y:", "sum of y, k and the answer at once:")
    dirty.write_text(json.dumps(_record(puzzle, bad, "unit", "stepwise")) + "\n")
    ok = runner.invoke(app, ["traces", "audit", str(clean)])
    assert ok.exit_code == 0, ok.output
    assert "1 pass" in ok.output and "div_digit" in ok.output
    failed = runner.invoke(app, ["traces", "audit", str(dirty), "--window", "5"])
    assert failed.exit_code == 1
    assert "no hidden compute" in failed.output and "line " in failed.output


def test_synth_stepwise_output_passes_the_audit(tmp_path):
    out = tmp_path / "s.jsonl"
    made = runner.invoke(app, ["synth", "--n", "60", "--seed", "99", "--out", str(out), "--workers", "1"])
    assert made.exit_code == 0, made.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 60 and {r["style"] for r in records} == {"stepwise"}
    audited = runner.invoke(app, ["traces", "audit", str(out)])
    assert audited.exit_code == 0, audited.output


def test_audit_random_mutations_of_cited_numbers_are_caught():
    """Any cited number of a stepwise trace replaced by one printed nowhere is a reference violation."""
    rng = random.Random(0)
    tracer = get_tracer("unit", "stepwise")
    for index in range(20):
        puzzle = _generated("unit", index)
        lines = tracer.trace(get_family("unit").parse(puzzle.prompt)).splitlines()
        at = rng.choice(
            [i for i, line in enumerate(lines) if re.fullmatch(r"[\d.]+ \+ [\d.]+ = [\d.]+", line)]
        )
        left, rest = lines[at].split(" + ", 1)
        lines[at] = f"{left}1 + {rest}"  # an operand with a digit more: printed nowhere
        assert (Rule.REFERENCE, at + 1) in _caught("\n".join(lines), tracer, user_prompt(puzzle.prompt))
