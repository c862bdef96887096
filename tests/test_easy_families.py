"""Gravity, unit conversion, cipher and numeral: rules inferred from the examples alone."""

from __future__ import annotations

from collections import Counter

import pytest

from reasonlab.grader import verify
from reasonlab.puzzles.classify import UnknownFamilyError, classify
from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.families.numeral import to_roman
from reasonlab.puzzles.solve import solve_prompt
from reasonlab.puzzles.types import Status

GRAVITY = (
    "In Alice's Wonderland, the gravitational constant has been secretly changed. Here are some example observations:\n"
    "For t = 2.0s, distance = 20.0 m\nFor t = 1.0s, distance = 5.0 m\nFor t = 3.0s, distance = 45.0 m\n"
    "Now, determine the falling distance for t = 4.0s given d = 0.5*g*t^2."
)
UNIT = (
    "In Alice's Wonderland, a secret unit conversion is applied to measurements. For example:\n"
    "10.0 m becomes 15.00\n20.0 m becomes 30.00\n7.5 m becomes 11.25\n"
    "Now, convert the following measurement: 3.0 m"
)
CIPHER_HEAD = "In Alice's Wonderland, secret encryption rules are used on text. Here are some examples:\n"


def encrypt(text: str, shift: int = 3) -> str:
    return "".join(chr((ord(c) - 97 + shift) % 26 + 97) if c.isalpha() else c for c in text)


def cipher_prompt(examples: list[str], query: str) -> str:
    lines = "\n".join(f"{encrypt(s)} -> {s}" for s in examples)
    return f"{CIPHER_HEAD}{lines}\nNow, decrypt the following text: {encrypt(query)}"


def test_gravity_infers_g():
    solution = solve_prompt(GRAVITY)
    assert solution.answer == "80.0"  # g = 10: python prints round(80.0, 2) as 80.0
    assert solution.details["g"] == pytest.approx(10.0, abs=1e-3)


def test_unit_infers_factor_and_keeps_two_decimals():
    solution = solve_prompt(UNIT)
    assert solution.answer == "4.50" and solution.status is Status.SOLVED


def test_rounded_examples_leave_an_interval():
    # d printed to 2 decimals bounds g only to an interval; a query far outside the examples can
    # round differently at the ends of that interval, which the solver must flag.
    prompt = GRAVITY.replace("t = 4.0s given", "t = 400.0s given").replace("20.0 m", "20.01 m")
    solution = solve_prompt(prompt.replace("5.0 m", "5.0 m").replace("45.0 m", "45.02 m"))
    lo, hi = solution.details["g_interval"]
    assert lo < hi and solution.status is Status.AMBIGUOUS


def test_numeral_uses_examples_as_evidence():
    prompt = (
        "In Alice's Wonderland, numbers are secretly converted into a different numeral system. "
        "Some examples are given below:\n4 -> IV\n90 -> XC\nNow, write the number 49 in the Wonderland numeral system."
    )
    assert solve_prompt(prompt).answer == "XLIX"
    bad = prompt.replace("4 -> IV", "4 -> IIII")
    assert solve_prompt(bad).status is Status.UNSOLVED


@pytest.mark.parametrize("n", [1, 4, 9, 14, 40, 44, 49, 90, 99, 100, 1994])
def test_to_roman(n):
    expected = {
        1: "I",
        4: "IV",
        9: "IX",
        14: "XIV",
        40: "XL",
        44: "XLIV",
        49: "XLIX",
        90: "XC",
        99: "XCIX",
        100: "C",
        1994: "MCMXCIV",
    }
    assert to_roman(n) == expected[n]


def test_cipher_with_every_letter_seen():
    prompt = cipher_prompt(["the wise king reads", "alice follows the dragon"], "the dragon reads")
    solution = solve_prompt(prompt)
    assert solution.answer == "the dragon reads" and solution.status is Status.SOLVED
    assert solution.details["unseen_letters"] == []


def test_cipher_fills_unseen_letters_from_vocabulary():
    # 'z' -> 'w' (from 'wizard') never appears in the examples; only one vocabulary word fits.
    prompt = cipher_prompt(["the cat reads the book", "alice sees the door"], "the wizard reads")
    solution = solve_prompt(prompt)
    assert solution.answer == "the wizard reads" and solution.status is Status.SOLVED
    assert "z" in solution.details["unseen_letters"]


def test_cipher_reports_ambiguity():
    # Query words whose letters were never seen: several vocabulary words of that shape fit.
    prompt = cipher_prompt(["the cat"], "the door")
    solution = solve_prompt(prompt)
    assert solution.status is Status.AMBIGUOUS
    assert solution.details["candidates"] == ["the book", "the door"]
    assert solution.answer in solution.details["candidates"]


def test_unknown_family_is_an_error():
    with pytest.raises(UnknownFamilyError):
        classify("In Alice's Wonderland, the tea party never ends.")


def test_dev_families_and_subtypes(dev_puzzles):
    counts = Counter(classify(p.prompt).label for p in dev_puzzles)
    assert counts["bit"] == 954 and counts["gravity"] == 956 and counts["unit"] == 924
    assert counts["cipher"] == 949 and counts["numeral"] == 955
    equation = {k: v for k, v in counts.items() if k.startswith("equation/")}
    assert sum(equation.values()) == 935
    assert set(equation) == {
        f"equation/{k}-{m}" for k in ("numeric", "symbolic") for m in ("deduce", "guess")
    }


@pytest.mark.parametrize("family", ["gravity", "unit", "cipher", "numeral"])
def test_dev_accuracy_is_perfect(dev_puzzles, family):
    fam = get_family(family)
    rows = [p for p in dev_puzzles if fam.matches(p.prompt)]
    wrong = [p.id for p in rows if not verify(p.answer, fam.solve(fam.parse(p.prompt)).answer or "")]
    assert rows and wrong == []
