"""Numeric equations: the rule inventory, hand-built puzzles per rule kind, priors."""

from __future__ import annotations

import pytest

from reasonlab.puzzles.families.equation import FAMILY
from reasonlab.puzzles.families.equation_priors import OPERATOR_CLASSES, default_priors
from reasonlab.puzzles.families.equation_rules import INVENTORY, RULES_BY_NAME, compatible
from reasonlab.puzzles.types import Status

HEADER = (
    "In Alice's Wonderland, a secret set of transformation rules is applied to equations. "
    "Below are a few examples:\n"
)


def prompt(examples: list[str], query: str) -> str:
    return HEADER + "\n".join(examples) + f"\nNow, determine the result for: {query}"


def solve(examples: list[str], query: str):
    return FAMILY.solve(FAMILY.parse(prompt(examples, query)))


def test_inventory_has_24_rules_in_four_groups():
    assert len(INVENTORY) == 24
    groups = {rule.group for rule in INVENTORY}
    assert groups == {"join", "add", "sub", "mul"}
    assert len(RULES_BY_NAME) == 24


@pytest.mark.parametrize(
    ("name", "left", "right", "op", "expected"),
    [
        ("join", "07", "30", "?", "0730"),
        ("join_swap", "07", "30", "?", "3007"),
        ("add_minus1", "12", "34", "+", "45"),
        ("flip_add", "12", "34", "+", "46"),  # 21 + 43 = 64, written right to left
        ("flip_mul", "12", "11", "*", "132"),  # 21 * 11 = 231
        ("sub", "12", "34", "-", "-22"),
        ("absdiff_prefix", "34", "34", "-", "0"),  # a zero carries no sign
        ("absdiff_prefix", "34", "12", "!", "!22"),
        ("flip_rsub_suffix", "12", "34", "!", "22"),  # 43 - 21 = 22
        ("flip_rsub_suffix", "34", "12", "!", "22!"),
        ("flip_absdiff_suffix", "12", "34", "!", "22!"),
        ("mod", "07", "30", "%", "2"),
        ("flip_mod", "07", "30", "%", "1"),  # 70 mod 3 = 1
        ("mod", "00", "30", "%", None),  # undefined: the smaller operand is 0
    ],
)
def test_rule_rendering(name, left, right, op, expected):
    assert RULES_BY_NAME[name].apply(left, right, op) == expected


def test_reversal_keeps_leading_zeros():
    assert RULES_BY_NAME["flip_add"].apply("01", "01", "+") == "02"  # 10 + 10 = 20
    assert RULES_BY_NAME["flip_mul"].apply("01", "12", "*") == "012"  # 10 * 21 = 210


def test_compatibility_regularities():
    r = RULES_BY_NAME
    assert compatible([r["flip_add"], r["flip_sub"], r["join"], r["join_swap"]])
    assert not compatible([r["add"], r["flip_mul"]])  # mixed modes
    assert not compatible([r["add"], r["add_plus1"]])  # one group twice


def test_flip_add_with_carries_is_solved():
    solution = solve(["19+19 = 281", "56+78 = 251", "48+38 = 761"], "27+65")
    assert (solution.answer, solution.status) == ("821", Status.SOLVED)
    assert solution.details["rules"] == {"+": "flip_add"}


def test_join_and_sign_suffix_jointly():
    solution = solve(["12?34 = 1234", "34!61 = 72!", "12!34 = 22", "98?07 = 9807"], "34!12")
    assert solution.details["rules"]["?"] == "join"
    assert (solution.answer, solution.status) == ("22!", Status.SOLVED)  # flip_rsub_suffix only


def test_ambiguous_when_fitting_rules_disagree_on_the_query():
    # sub and |sub| agree on every example (all non-negative) but not on 12-34
    solution = solve(["55-11 = 44", "78-32 = 46"], "12-34")
    assert solution.status == Status.AMBIGUOUS
    assert set(solution.details["candidates"]) >= {"-22", "22"}


def test_regularity_picks_the_mode():
    # '*' alone fits mul and flip_mul (symmetric examples); '+' is only flip_add, so '*' must be flip_mul
    solution = solve(["11*11 = 121", "19+19 = 281", "56+78 = 251"], "12*11")
    assert (solution.answer, solution.status) == ("132", Status.SOLVED)


def test_unexplained_operator_is_unsolved():
    solution = solve(["12?34 = 999999"], "12?34")
    assert solution.status == Status.UNSOLVED


def test_priors_are_sane():
    priors = default_priors()
    assert set(priors.counts) <= set(OPERATOR_CLASSES)
    for table in priors.counts.values():
        assert set(table) <= set(RULES_BY_NAME)
        assert all(n >= 0 for n in table.values())
    r = RULES_BY_NAME

    def weight(op, name):
        return priors.assignment_weight({op: r[name]}, True)

    # the operator characters lean towards their usual meaning in numeric prompts
    assert weight("+", "flip_add") > weight("+", "flip_mul")
    assert weight("*", "flip_mul") > weight("*", "flip_add")
    # numeric puzzles with two or three of + - * as operators are (nearly) always in flip mode
    assert priors.flip_share["standard 3"] > 0.9 > 0.6 > priors.flip_share["standard 0"]
    for cls in OPERATOR_CLASSES:
        assert 0 < priors.join_share[cls] < 1
        assert abs(sum(priors.group_affinity[cls].values()) - 1) < 1e-9


def test_an_unseen_operator_prefers_the_free_arithmetic_group():
    # '+' and '-' take the add and sub groups (flip mode): an unseen '?' leans towards flip mul
    solution = solve(["19+19 = 281", "56+78 = 251", "75-04 = 71", "53-85 = -32"], "12?11")
    assert solution.status == Status.AMBIGUOUS
    assert solution.details["rules"]["?"].startswith("flip_mul")


def test_one_operator_keeps_its_plain_meaning():
    priors = default_priors()
    # puzzles with several arithmetic operators nearly always leave exactly one at its plain meaning
    for key, ratio in priors.plain_ratio.items():
        assert ratio[1] > 1 > ratio[0], key
    r = RULES_BY_NAME
    both_plain = priors.assignment_weight({"+": r["add"], "@": r["mul"]}, True)
    one_plain = priors.assignment_weight({"+": r["add"], "@": r["mul_plus1"]}, True)
    assert one_plain > both_plain


def test_a_plain_add_tips_an_all_negative_operator_towards_the_prefixed_difference():
    # '?' shows only negative differences, so "AB-CD" and "op + |AB-CD|" both fit it; '%' is already
    # a plain addition, which makes a second plain meaning unlikely: the query gets the '?' prefix
    solution = solve(["12%34 = 46", "51%20 = 71", "40*21 = 839", "19?58 = ?39"], "90?76")
    assert solution.status == Status.AMBIGUOUS
    assert solution.details["rules"]["?"] == "absdiff_prefix"
    assert solution.answer == "?14"


def test_the_minus_character_keeps_its_own_sign_variants():
    # the '-' character prefers the prefixed sign variants more than other characters do
    priors = default_priors()
    minus, other = (priors.class_variant[cls, "sub", True] for cls in ("-", "other"))
    assert minus["flip_absdiff_prefix"] > other["flip_absdiff_prefix"]
    assert other["flip_rsub_suffix"] > minus["flip_rsub_suffix"]
