"""Stepwise equation traces: hand-built puzzles per rule group, the regularities, guess rows,
determinism, replay rejecting tampered traces, the learnable-trace audit, and floors on dev.csv."""

from __future__ import annotations

import itertools
import random

import pytest

from reasonlab.grader import verify
from reasonlab.puzzles.audit import audit_trace
from reasonlab.puzzles.families._synthesis import TraceError
from reasonlab.puzzles.families.equation import FAMILY, Equation
from reasonlab.puzzles.families.equation_numeric import consistent_rules
from reasonlab.puzzles.families.equation_rules import INVENTORY, RULES_BY_NAME, Rule
from reasonlab.puzzles.trace_style import get_tracer

HEADER = (
    "In Alice's Wonderland, a secret set of transformation rules is applied to equations. "
    "Below are a few examples:"
)
TRACER = get_tracer("equation", "stepwise")


def prompt(examples: list[str], query: str) -> str:
    return "\n".join([HEADER, *examples, f"Now, determine the result for: {query}"])


def numeric_examples(rule: Rule, op: str, count: int = 3) -> list[str]:
    """``count`` examples of ``rule`` that together leave it the only rule of the inventory."""
    pairs = [(f"{a:02d}", f"{b:02d}") for a, b in itertools.product(range(13, 99, 7), range(11, 99, 9))]
    chosen: list[tuple[str, str]] = []
    for left, right in pairs:
        if rule.apply(left, right, op) is None:
            continue
        chosen.append((left, right))
        if len(chosen) > count:
            chosen.pop(0)
        fitting = consistent_rules(op, [(Equation(a, op, b), rule.apply(a, b, op)) for a, b in chosen])
        if len(chosen) == count and fitting == [rule]:
            break
    return [f"{a}{op}{b} = {rule.apply(a, b, op)}" for a, b in chosen]


def traced(text: str) -> tuple[str, str]:
    instance = FAMILY.parse(text)
    trace = TRACER.trace(instance)
    assert trace is not None
    assert audit_trace(text, trace, TRACER).violations == ()
    return trace, TRACER.replay(instance, trace)


@pytest.mark.parametrize("rule", INVENTORY, ids=lambda r: r.name)
def test_each_rule_is_found_and_applied(rule):
    text = prompt(numeric_examples(rule, "?"), "47?23")
    trace, answer = traced(text)
    assert answer == rule.apply("47", "23", "?")
    assert f"{rule.name} " in trace.split("query")[1]


def test_products_are_built_from_products_by_one_digit():
    trace, _ = traced(prompt(["87\\64 = 8853", "12\\34 = 309"], "23\\45"))
    assert "flip_mul 78*4 = 280+32 = 312" in trace
    assert "flip_mul 78*6 = 420+48 = 468" in trace
    assert "flip_mul 78*46 = 3120+468 = 3588: flip_mul 3588 -> 8853 ok" in trace


def test_a_settled_mode_strikes_the_other_mode_then_one_plain_meaning_is_preferred():
    # '-' fits sub, absdiff, flip_sub and flip_absdiff; '*' fits flip_mul only (flip mode, plain meaning)
    text = prompt(["79-12 = 67", "27-05 = 22", "87*64 = 8853"], "06-77")
    trace, answer = traced(text)
    lines = trace.splitlines()
    mode = lines.index("mode flip: * has only flip rules, strike sub absdiff")
    assert lines[mode + 1] == "state: - = flip_sub flip_absdiff, * = flip_mul"
    assert "plain: * has a plain rule, so - prefers flip_absdiff" in lines
    assert answer == RULES_BY_NAME["flip_absdiff"].apply("06", "77", "-")


def test_a_guess_row_votes_with_the_prior_weights_of_the_rules_left_to_it():
    text = prompt(["79-12 = 67", "27-05 = 22", "65-21 = 44", "65?19 = 5905"], "06@77")
    trace, answer = traced(text)
    lines = trace.splitlines()
    unseen = next(line for line in lines if line.startswith("unseen @"))
    candidates = unseen.split(" -> ")[1].split()
    assert "taken mul sub" in unseen and "flip_add" in candidates
    assert not any(RULES_BY_NAME[name].group in ("mul", "sub") for name in candidates)
    weights_line = next(line for line in lines if line.startswith("weights @"))
    weights = dict(item.split() for item in weights_line.split(": ")[1].split(", "))
    assert sorted(weights) == sorted(candidates)
    totals: dict[str, int] = {}
    for name, weight in weights.items():
        result = RULES_BY_NAME[name].apply("06", "77", "@")
        totals[result] = totals.get(result, 0) + int(weight)
    vote = next(line for line in lines if line.startswith("vote: "))
    assert vote.endswith(f"-> {answer}") and totals[answer] == max(totals.values())


def test_traces_are_deterministic_and_replay_rejects_tampering():
    text = prompt(["34/44 = 1", "41/32 = 9", "34|25 = 69", "87\\64 = 8853"], "69/52")
    instance = FAMILY.parse(text)
    trace = TRACER.trace(instance)
    assert trace == TRACER.trace(FAMILY.parse(text))
    assert TRACER.replay(instance, trace) == "17/"
    tampered = [
        trace.replace("43+44 = 87", "43+44 = 86"),  # an arithmetic slip
        trace.replace("flip_rsub_suffix 1 -> 1 ok", "flip_rsub_suffix 1 -> 1 no"),  # a wrong verdict
        trace.replace("\\boxed{17/}", "\\boxed{71/}"),  # an answer the steps do not give
        "\n".join(line for line in trace.splitlines() if not line.startswith("state")),  # a skipped step
    ]
    for bad in tampered:
        assert bad != trace
        with pytest.raises(TraceError):
            TRACER.replay(instance, bad)


def test_an_operator_no_rule_fits_gives_no_trace():
    assert TRACER.trace(FAMILY.parse(prompt(["12+34 = 7", "12+35 = 9"], "11+11"))) is None


def _traced_correct(puzzles, subtype: str) -> float:
    rows = [
        p for p in puzzles if FAMILY.matches(p.prompt) and FAMILY.subtype(FAMILY.parse(p.prompt)) == subtype
    ]
    good = 0
    for puzzle in rows:
        instance = FAMILY.parse(puzzle.prompt)
        trace = TRACER.trace(instance)
        if trace is None or not audit_trace(puzzle.prompt, trace, TRACER).ok:
            continue
        good += verify(puzzle.answer, TRACER.replay(instance, trace))
    return good / len(rows)


def test_numeric_deduce_floor_on_dev(dev_puzzles):
    assert _traced_correct(dev_puzzles, "numeric-deduce") >= 0.96


# --- symbolic equations

DIGIT_SYMBOLS = dict(zip("0123456789", "!@{$%^&()[", strict=True))


def encode(text: str) -> str:
    return "".join(DIGIT_SYMBOLS.get(ch, ch) for ch in text)


def test_a_small_cryptarithm_is_searched_and_decoded():
    examples = [("12+34", "46"), ("57+38", "95"), ("29+61", "90"), ("83+14", "97")]
    text = prompt([f"{encode(lhs)} = {encode(result)}" for lhs, result in examples], encode("45+23"))
    trace, answer = traced(text)
    assert answer == encode("68")
    lines = trace.splitlines()
    assert lines[0] == "e1 @{+$% = %&: AB CD = DE, rows 2350"  # the signature and its catalog row count
    assert any(line.startswith("back from ") for line in lines)  # dead ends are printed, then left
    assert "query %^+{$ = 45+23: add 45 23 = 68 -> 68: 68 -> &)" in lines


def test_a_known_rule_is_checked_by_computing_it():
    # '*' is mul: once e1 fixes its digits, e2 reuses them and is settled by one multiplication
    examples = [("12*34", "408"), ("21*43", "903"), ("13*24", "312")]
    text = prompt([f"{encode(lhs)} = {encode(result)}" for lhs, result in examples], encode("31*42"))
    trace, answer = traced(text)
    assert answer == encode("1302")
    assert any(line.startswith("check e") and ": ok" in line for line in trace.splitlines())


def test_symbolic_replay_rejects_tampering():
    examples = [("12*34", "408"), ("21*43", "903"), ("13*24", "312")]
    text = prompt([f"{encode(lhs)} = {encode(result)}" for lhs, result in examples], encode("31*42"))
    instance = FAMILY.parse(text)
    trace = TRACER.trace(instance)
    assert trace == TRACER.trace(FAMILY.parse(text))
    row = next(line for line in trace.splitlines() if " row " in line)
    digit = row[-1]
    for bad in (
        trace.replace(row, row[:-1] + str((int(digit) + 1) % 10)),  # a misremembered catalog row
        trace.replace(f"\\boxed{{{encode('1302')}}}", f"\\boxed{{{encode('1303')}}}"),
    ):
        assert bad != trace
        with pytest.raises(TraceError):
            TRACER.replay(instance, bad)


def _rows_reproduce(signature: str, name: str, row: str) -> bool:
    lhs, result = signature.replace(" ", "", 1).split(" = ")
    letters = dict(zip(dict.fromkeys(lhs + result.replace("#", "")), row, strict=True))
    operands = "".join(letters[ch] for ch in lhs)
    printed = RULES_BY_NAME[name].apply(operands[:2], operands[2:], "#")
    return printed == "".join(letters.get(ch, ch) for ch in result)


def test_drills_teach_catalog_entries_counts_and_prior_rows():
    from reasonlab.puzzles.trace_style import get_drills
    from reasonlab.puzzles.traces.equation_numeric import prior_order

    drills = get_drills("equation", "stepwise")
    records = drills.drills(random.Random(0), 9)
    assert len(records) == 9 and records == drills.drills(random.Random(0), 9)
    entries, counts, priors = records[0::3], records[1::3], records[2::3]
    for question, answer in entries:
        signature = question.split("signature ")[1].rstrip("?")
        head, *rule_lines = answer.splitlines()
        assert head == f"{signature}: rows {sum(len(line.split()) - 1 for line in rule_lines)}"
        for line in rule_lines:
            name, *rows = line.split()
            assert all(_rows_reproduce(signature, name.rstrip(":"), row) for row in rows)
    for question, answer in counts:
        signature = question.split("signature ")[1].rstrip("?")
        total, per_rule = answer.removeprefix(f"{signature}: rows ").rstrip(")").split(" (")
        assert int(total) == sum(int(part.split()[1]) for part in per_rule.split(", "))
    for question, answer in priors:
        cls, mode, taken = (
            question.removeprefix("Equation prior table: operator class ").rstrip("?").split(", ")
        )
        groups = tuple(taken.removeprefix("taken ").split()) if taken != "taken none" else ()
        assert answer == ", ".join(prior_order(cls, mode.removeprefix("mode "), groups))
        assert not any(RULES_BY_NAME[name].group in groups for name in answer.split(", "))


def test_symbolic_deduce_floor_on_dev(dev_puzzles):
    assert _traced_correct(dev_puzzles, "symbolic-deduce") >= 0.60
