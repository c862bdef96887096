"""Bit manipulation: grammar search, solver, generator, traces."""

from __future__ import annotations

import pytest

from reasonlab.puzzles.families.bit import FAMILY, BitInstance, bits
from reasonlab.puzzles.families.bit_grammar import ATOMS, consistent_rules, parse_rule, rule_count
from reasonlab.puzzles.types import Status
from reasonlab.scoring.metric import verify

# Ten varied inputs (every bit position takes both values several times) and a query.
INPUTS = (
    0b11101001,
    0b11010100,
    0b00110011,
    0b00111000,
    0b00101011,
    0b10100010,
    0b10000010,
    0b01011110,
    0b01100111,
    0b10011101,
)
QUERY = 0b01010110


def instance_for(rule_text: str, inputs=INPUTS, query=QUERY) -> BitInstance:
    rule = parse_rule(rule_text)
    return BitInstance(tuple((bits(x), bits(rule.apply(x))) for x in inputs), bits(query))


@pytest.mark.parametrize(
    ("rule_text", "expected_query_output"),
    [
        ("rol3(x)", 0b10110010),
        ("shl2(x)", 0b01011000),
        ("shr3(x)", 0b00001010),
        ("not(x)", 0b10101001),
        ("xor(shl1(x), shr2(x))", 0b10111001),
        ("and(rol1(x), not(shr4(x)))", 0b10101000),
        ("maj(x, rol2(x), shr1(x))", 0b01011011),
        ("ch(x, rol4(x), not(shl3(x)))", 0b01001101),
        ("sel_nand_xnor(not(rol1(x)), not(shr3(x)), shl2(x))", 0b00000011),
        ("and(x, not(x))", 0b00000000),
    ],
)
def test_each_operation_kind_is_recovered(rule_text, expected_query_output):
    assert parse_rule(rule_text).apply(QUERY) == expected_query_output
    solution = FAMILY.solve(instance_for(rule_text))
    assert solution.answer == bits(expected_query_output)
    assert solution.details["method"] == "word"


def test_single_shift_is_solved_unambiguously_and_named():
    solution = FAMILY.solve(instance_for("rol3(x)"))
    assert solution.status is Status.SOLVED
    assert solution.rule == "out = rol3(x)"
    assert solution.details["candidates"] == {bits(0b10110010): solution.details["rules_fitting"]}


def test_constant_output_rule():
    solution = FAMILY.solve(instance_for("and(shl4(x), shr4(x))"))
    assert solution.answer == "00000000"


def test_ambiguous_minimal_rule_takes_the_answer_most_rules_give():
    # The top bit is 0 in every example, so shl1 and rol1 (both minimal: one atom) fit every example but
    # disagree on a query whose top bit is 1. The vote over all fitting rules decides; the rule reported is
    # the simplest one giving the chosen answer.
    inputs = (0b00010110, 0b01101001, 0b00111100, 0b01000011)
    solution = FAMILY.solve(instance_for("shl1(x)", inputs=inputs, query=0b10000001))
    assert solution.status is Status.AMBIGUOUS
    votes = solution.details["candidates"]
    assert {"00000010", "00000011"} <= set(votes)
    assert solution.answer == max(votes, key=votes.get) == "00000011"
    assert solution.rule.startswith("out = rol1(x);")
    assert sum(votes.values()) == solution.details["rules_fitting"]


def test_every_fitting_rule_really_fits():
    instance = instance_for("xor(shl1(x), shr2(x))")
    rules = consistent_rules(
        [int(a, 2) for a, _ in instance.examples], [int(b, 2) for _, b in instance.examples]
    )
    assert rules
    for rule in rules:
        assert all(bits(rule.apply(int(a, 2))) == b for a, b in instance.examples)
        assert parse_rule(rule.text) == rule


def test_rule_counts_match_the_canonical_enumeration():
    assert rule_count("atom") == len(ATOMS) == 44
    assert rule_count("xor") == 44 * 43 // 2
    assert rule_count("maj") == 44 * 43 * 42 // 6


def test_per_bit_fallback_when_no_word_rule_fits():
    # Output = input with bits 0 and 7 swapped: not a shift/rotation family rule, but each bit is a literal.
    def swap_ends(x: int) -> int:
        top, low = x >> 7 & 1, x & 1
        return (x & 0b01111110) | (low << 7) | top

    instance = BitInstance(tuple((bits(x), bits(swap_ends(x))) for x in INPUTS), bits(QUERY))
    solution = FAMILY.solve(instance)
    assert solution.details["method"] == "per-bit"
    assert solution.answer == bits(swap_ends(QUERY))


def test_dev_accuracy(dev_puzzles):
    puzzles = [p for p in dev_puzzles if FAMILY.matches(p.prompt)]
    assert len(puzzles) > 900
    correct = sum(verify(p.answer, FAMILY.solve(FAMILY.parse(p.prompt)).answer or "") for p in puzzles)
    assert correct / len(puzzles) >= 0.98
