"""Symbolic equations: joint digit-map and rule inference on hand-built cryptarithms."""

from __future__ import annotations

from reasonlab.puzzles.families import equation_symbolic, prepare_families
from reasonlab.puzzles.families.equation import FAMILY
from reasonlab.puzzles.families.equation_rules import RULES_BY_NAME
from reasonlab.puzzles.families.equation_symbolic import signature, signature_index
from reasonlab.puzzles.types import Status

HEADER = (
    "In Alice's Wonderland, a secret set of transformation rules is applied to equations. "
    "Below are a few examples:\n"
)
SYMBOLS = dict(zip("0123456789", "!@#$%^&<>?", strict=True))


def encode(text: str) -> str:
    return "".join(SYMBOLS.get(ch, ch) for ch in text)


def solve_encoded(examples: list[tuple[str, str, str, str]], query: tuple[str, str, str]):
    """Examples as (left, op, right, rule name); the result is computed, then digits become symbols."""
    lines = []
    for left, op, right, rule in examples:
        result = RULES_BY_NAME[rule].apply(left, right, op)
        lines.append(f"{encode(left)}{op}{encode(right)} = {encode(result)}")
    left, op, right = query
    prompt = HEADER + "\n".join(lines) + f"\nNow, determine the result for: {encode(left)}{op}{encode(right)}"
    instance = FAMILY.parse(prompt)
    assert FAMILY.subtype(instance).startswith("symbolic")
    return FAMILY.solve(instance)


def test_signature_pattern_and_symbols():
    pattern, symbols = signature("ABAC\x01CA")
    assert pattern == (0, 1, 0, 2, -2, 2, 0)
    assert symbols == ("A", "B", "C")


def test_signature_index_covers_the_non_join_rules():
    index = signature_index()
    assert len(index) > 4000
    # 12 * 34 = 408 under plain mul: the pattern of "1234" + "408" has six distinct digits
    pattern, _ = signature("1234\x01408")
    assert (1, 2, 3, 4, 0, 8) in index[pattern]["mul"]


def test_recovers_digits_and_rules_jointly():
    examples = [
        ("12", "[", "34", "mul"),
        ("56", "[", "78", "mul"),
        ("90", "[", "19", "mul"),
        ("47", "{", "85", "sub"),
        ("93", "{", "26", "sub"),
        ("13", "}", "57", "join"),
    ]
    solution = solve_encoded(examples, ("23", "[", "41"))
    assert solution.answer == encode("943")
    assert solution.details["rules"]["["] == "mul"


def test_answer_with_a_digit_never_shown_is_reported():
    # only digits 1 and 2 ever appear; 11 + 11 = 22 would need a new symbol for the query 21 + 21 = 42
    examples = [("11", "+", "11", "add"), ("12", "+", "21", "add"), ("21", "+", "11", "add")]
    solution = solve_encoded(examples, ("21", "+", "21"))
    assert solution.status in (Status.UNSOLVED, Status.AMBIGUOUS)
    if solution.status == Status.UNSOLVED:
        assert "symbol" in solution.rule


def test_prepare_families_builds_the_tables_a_symbolic_solve_needs(monkeypatch):
    """Worker processes fork after prepare_families: the option tables of the prompts' examples are
    built there, once, so that no worker builds its own."""
    lines = [
        f"{encode(left)}{op}{encode(right)} = {encode(RULES_BY_NAME[rule].apply(left, right, op))}"
        for left, op, right, rule in [("37", "+", "48", "flip_add"), ("52", "*", "13", "flip_mul")]
    ]
    prompt = HEADER + "\n".join(lines) + f"\nNow, determine the result for: {encode('61')}+{encode('25')}"
    prepare_families([prompt])
    built = []
    monkeypatch.setattr(equation_symbolic, "option_table", lambda options: built.append(options))
    solution = FAMILY.solve(FAMILY.parse(prompt))
    assert built == [] and solution.answer is not None
