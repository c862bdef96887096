"""Arithmetic as steps a model performs reliably, shared by the stepwise tracers.

Every number is written with every digit place and its zeros (``format(x, "f")``, never ``1E-7``);
work runs high-order digit first. The step kinds, each one bounded:

- ``mul_expand``  ``3.07*5.2 = 3*5.2 + 0.0*5.2 + 0.07*5.2``: the first factor split by digit place;
- ``mul_digit``   ``0.07*5.2 = 0.364``: one digit (at its place) times a number;
- ``mul_line``    ``3.07*5.2 = 3*5.2 + 0.0*5.2 + 0.07*5.2 = 15.6 + 0 + 0.364 = 15.964``: the coarse
  granularity, the whole product on one line (at most :data:`MAX_PLACES` places);
- ``add``         ``15.6 + 0.364 = 15.964``: at most :data:`MAX_ADD_TERMS` terms (two by default);
- ``div_scale``   ``96.89/138.10 = 9689/13810``: both shifted by one power of ten to whole numbers;
- ``div_digit``   one digit of a long division: the running value (the first digits of the dividend,
  or the last remainder with the next digit brought down), the digit ``q`` with ``q*D <= value <
  (q+1)*D`` shown by both products, and the new remainder;
- ``div_result``  ``9689/13810 = 0.701593``: the digits above, read as the quotient (truncated: the
  places shown are exact, the rest dropped);
- ``round``       ``round 30.6543 to 2 decimals: 30.65``: half up, looking at the next digit only.

The granularity is a knob (:class:`Granularity`): one line per digit product and per addition of two
terms (the default), or whole products and longer sums on one line.
:func:`check_step` re-executes any of these lines from its own numbers, so a replay can check the
arithmetic without trusting the writer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from reasonlab.puzzles.families._synthesis import TraceError, expect
from reasonlab.puzzles.trace_style import StepKind

#: At most this many digit places in a factor that a multiplication splits.
MAX_PLACES = 10
#: At most this many terms in one addition line.
MAX_ADD_TERMS = 8
#: At most this many digits in any operand of a step (a long number is still read digit by digit).
MAX_DIGITS = 16

_NUM = r"\d+(?:\.\d+)?"
_TERMS = re.compile(r"[\s,+]+")  # the tokens of a cited sum are its terms


@dataclass(frozen=True)
class Granularity:
    """How much arithmetic one line holds."""

    split_products: bool = True  # one line per digit product (else the whole product on one line)
    add_terms: int = 2  # terms per addition line (2..MAX_ADD_TERMS)

    def __post_init__(self) -> None:
        if not 2 <= self.add_terms <= MAX_ADD_TERMS:
            raise ValueError(f"add_terms must be in 2..{MAX_ADD_TERMS}, not {self.add_terms}")


FINE = Granularity()
COARSE = Granularity(split_products=False, add_terms=MAX_ADD_TERMS)


def number(x: Decimal) -> str:
    """``x`` with every digit place written out; a zero is ``0``."""
    return "0" if x == 0 else format(x, "f")


def place_values(x: Decimal) -> list[str]:
    """``x`` split by digit place, high-order first, zero places kept: 3.07 -> 3, 0.0, 0.07."""
    _, digits, exponent = x.as_tuple()
    places = []
    for i, digit in enumerate(digits):
        power = len(digits) - 1 - i + exponent
        places.append(f"{digit}{'0' * power}" if power >= 0 else f"0.{'0' * (-power - 1)}{digit}")
    return places


def _digits(text: str) -> int:
    return len(text) - text.count(".")  # operands are digits and at most one point


def _too_long(*operands: str) -> str | None:
    long = [op for op in operands if op and _digits(op) > MAX_DIGITS]
    return f"operand over {MAX_DIGITS} digits: {long[0]}" if long else None


# ---------------------------------------------------------------------------------------------- writers


def write_sum(lines: list[str], terms: list[Decimal], grain: Granularity = FINE) -> Decimal:
    """Add ``terms`` left to right, ``grain.add_terms`` terms a line (the running total first)."""
    total, rest = terms[0], list(terms[1:])
    while rest:
        chunk, rest = rest[: grain.add_terms - 1], rest[grain.add_terms - 1 :]
        new_total = total + sum(chunk)
        lines.append(f"{' + '.join(number(t) for t in [total, *chunk])} = {number(new_total)}")
        total = new_total
    return total


def write_product(lines: list[str], a: Decimal, b: Decimal, grain: Granularity = FINE) -> Decimal:
    """``a*b`` with ``a`` split by digit place; returns the product."""
    a, b = Decimal(number(a)), Decimal(number(b))  # as printed
    places = place_values(a)
    if len(places) > MAX_PLACES:
        raise ValueError(f"{a} has more than {MAX_PLACES} digit places")
    parts = [Decimal(number(Decimal(p) * b)) for p in places]  # as printed: a zero part is 0
    expansion = f"{number(a)}*{number(b)} = " + " + ".join(f"{p}*{number(b)}" for p in places)
    if not grain.split_products:
        total = sum(parts)
        sums = " + ".join(number(p) for p in parts)
        lines.append(
            f"{expansion} = {sums} = {number(total)}" if len(parts) > 1 else f"{expansion} = {number(total)}"
        )
        return total
    if len(places) > 1:
        lines.append(expansion)
    for place, part in zip(places, parts, strict=True):
        lines.append(f"{place}*{number(b)} = {number(part)}")
    return write_sum(lines, parts, grain) if len(parts) > 1 else parts[0]


def write_quotient(lines: list[str], n: Decimal, d: Decimal, decimals: int) -> Decimal:
    """``n/d`` by long division to ``decimals`` places, truncated; returns the quotient."""
    shift = max(_decimals(n), _decimals(d))
    whole_n, whole_d = int(n.scaleb(shift)), int(d.scaleb(shift))
    if whole_d <= 0:
        raise ValueError("division by zero")
    lines.append(f"{number(n)}/{number(d)} = {whole_n}/{whole_d}")
    digits_n = str(whole_n)
    first = next((i for i in range(1, len(digits_n) + 1) if int(digits_n[:i]) >= whole_d), len(digits_n))
    value = int(digits_n[:first])
    head = f"{whole_n}/{whole_d} first {value}"
    quotient_digits = []
    to_bring = list(digits_n[first:]) + ["0"] * decimals
    while True:
        q = value // whole_d
        remainder = value - q * whole_d
        lines.append(
            f"{head}: {q}*{whole_d} = {q * whole_d}, {q + 1}*{whole_d} = {(q + 1) * whole_d} > {value}, "
            f"digit {q}, {value} - {q * whole_d} = {remainder}"
        )
        quotient_digits.append(str(q))
        if not to_bring:
            break
        brought = to_bring.pop(0)
        value = remainder * 10 + int(brought)
        head = f"{remainder} and {brought} -> {value}"
    text = "".join(quotient_digits)
    whole, fraction = text[: len(text) - decimals] or "0", text[len(text) - decimals :]
    result = Decimal(f"{int(whole)}.{fraction}" if decimals else str(int(whole)))
    lines.append(f"{whole_n}/{whole_d} = {number(result)}")
    return result


def write_round(lines: list[str], x: Decimal, decimals: int, *, drop_zeros: bool = False) -> str:
    """``x`` rounded half up to ``decimals`` places; with ``drop_zeros``, trailing zeros dropped (one
    decimal kept), as Python prints ``round(x, 2)``."""
    text = rounded(x, decimals, drop_zeros=drop_zeros)
    lines.append(f"round {number(x)} to {decimals} decimals: {text}")
    return text


def rounded(x: Decimal, decimals: int, *, drop_zeros: bool = False) -> str:
    text = format(x.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP), "f")
    if drop_zeros and "." in text:
        text = text.rstrip("0")
        text = text + "0" if text.endswith(".") else text
    return text


def _decimals(x: Decimal) -> int:
    return max(0, -x.as_tuple().exponent)


# ------------------------------------------------------------------------------------- kinds and checks


def _bound_places(match: re.Match[str]) -> str | None:
    places = match.group("places").split(" + ")
    if len(places) > MAX_PLACES:
        return f"{len(places)} digit places > {MAX_PLACES}"
    return _too_long(match.group("c_a"), match.group("c_b"))


def _bound_digit(match: re.Match[str]) -> str | None:
    digit = match.group("c_digit")
    if sum(ch not in "0." for ch in digit) > 1:
        return f"{digit} is not one digit at its place"
    return _too_long(match.group("c_b"), match.group("product"))


def _bound_add(match: re.Match[str]) -> str | None:
    terms = match.group("c_terms").split(" + ")
    if len(terms) > MAX_ADD_TERMS:
        return f"{len(terms)} terms > {MAX_ADD_TERMS}"
    return _too_long(*terms, match.group("total"))


MUL_EXPAND = StepKind(
    "mul_expand",
    re.compile(rf"(?P<c_a>{_NUM})\*(?P<c_b>{_NUM}) = (?P<places>{_NUM}\*{_NUM}(?: \+ {_NUM}\*{_NUM})+)"),
    "split the first factor by digit place, zeros kept, high-order first",
    _bound_places,
)
MUL_DIGIT = StepKind(
    "mul_digit",
    re.compile(rf"(?P<c_digit>{_NUM})\*(?P<c_b>{_NUM}) = (?P<product>{_NUM})"),
    "multiply a number by one digit at its place",
    _bound_digit,
)
MUL_LINE = StepKind(
    "mul_line",
    re.compile(
        rf"(?P<c_a>{_NUM})\*(?P<c_b>{_NUM}) = (?P<places>{_NUM}\*{_NUM}(?: \+ {_NUM}\*{_NUM})*)"
        rf"(?: = (?P<parts>{_NUM}(?: \+ {_NUM})+))? = (?P<product>{_NUM})"
    ),
    "a whole product on one line: digit places, one-digit products, their sum (coarse granularity)",
    _bound_places,
)
ADD = StepKind(
    "add",
    re.compile(rf"(?P<c_terms>{_NUM}(?: \+ {_NUM})+) = (?P<total>{_NUM})"),
    f"add a few numbers (two by default, at most {MAX_ADD_TERMS})",
    _bound_add,
    separators=_TERMS,
)
DIV_SCALE = StepKind(
    "div_scale",
    re.compile(rf"(?P<c_n>{_NUM})/(?P<c_d>{_NUM}) = (?P<n>\d+)/(?P<d>\d+)"),
    "shift dividend and divisor by one power of ten to whole numbers",
)
DIV_DIGIT = StepKind(
    "div_digit",
    re.compile(
        r"(?:(?P<c_n>\d+)/(?P<c_d>\d+) first (?P<first>\d+)|(?P<c_rest>\d+) and (?P<next>\d) -> (?P<value>\d+))"
        r": (?P<q>\d)\*(?P<c_div>\d+) = (?P<product>\d+), (?P<q1>\d+)\*(?P<div1>\d+) = (?P<product1>\d+)"
        r" > (?P<value1>\d+), digit (?P<digit>\d), (?P<value2>\d+) - (?P<product2>\d+) = (?P<rest>\d+)"
    ),
    "one long-division digit: bring the next digit down, bracket the value between two one-digit "
    "multiples of the divisor, subtract",
    lambda m: _too_long(m.group("c_div"), m.group("value1")),
)
DIV_RESULT = StepKind(
    "div_result",
    re.compile(r"(?P<c_n>\d+)/(?P<c_d>\d+) = (?P<quotient>\d+(?:\.\d+)?)"),
    "read the digits above as the quotient (truncated)",
)
ROUND = StepKind(
    "round",
    re.compile(rf"round (?P<c_x>{_NUM}) to (?P<decimals>\d) decimals: (?P<result>{_NUM})"),
    "round half up on the next digit (trailing zeros dropped where the family prints them so)",
)

#: Every arithmetic kind, most frequent first (no line fullmatches two of them, so the order only
#: saves time).
STEP_KINDS: tuple[StepKind, ...] = (
    MUL_DIGIT,
    ADD,
    DIV_DIGIT,
    MUL_EXPAND,
    MUL_LINE,
    DIV_SCALE,
    DIV_RESULT,
    ROUND,
)


def _check_mul(m: re.Match[str]) -> None:
    a, b = Decimal(m.group("c_a")), m.group("c_b")
    places = [p.split("*") for p in m.group("places").split(" + ")]
    expect([p for p, _ in places] == place_values(a), f"{m.group('places')} does not split {a} by place")
    expect(all(f == b for _, f in places), f"every place must multiply {b}")
    if "product" in m.groupdict() and m.group("product") is not None:
        parts = [Decimal(number(Decimal(p) * Decimal(b))) for p, _ in places]
        if m.group("parts"):
            expect([Decimal(p) for p in m.group("parts").split(" + ")] == parts, "wrong digit products")
            expect(m.group("parts").split(" + ") == [number(p) for p in parts], "products not written out")
        expect(m.group("product") == number(sum(parts)), f"{a}*{b} is {number(sum(parts))}")


def _check_digit(m: re.Match[str]) -> None:
    product = Decimal(m.group("c_digit")) * Decimal(m.group("c_b"))
    expect(m.group("product") == number(product), f"{m.group(0)}: the product is {number(product)}")


def _check_add(m: re.Match[str]) -> None:
    total = sum(Decimal(t) for t in m.group("c_terms").split(" + "))
    expect(m.group("total") == number(total), f"{m.group(0)}: the sum is {number(total)}")


def _check_scale(m: re.Match[str]) -> None:
    n, d = Decimal(m.group("c_n")), Decimal(m.group("c_d"))
    shift = max(_decimals(n), _decimals(d))
    expect(
        (m.group("n"), m.group("d")) == (str(int(n.scaleb(shift))), str(int(d.scaleb(shift)))),
        f"{m.group(0)}: shift both by 10^{shift}",
    )


def _check_div_digit(m: re.Match[str]) -> None:
    if m.group("first") is not None:
        n, d, value = m.group("c_n"), int(m.group("c_d")), m.group("first")
        expect(n.startswith(value), f"{value} is not the first digits of {n}")
        shorter = value[:-1]
        expect(
            int(value) >= d and (not shorter or int(shorter) < d) or value == n,
            f"{value}: start with the fewest digits of {n} that reach {d}",
        )
        value = int(value)
    else:
        value = int(m.group("value"))
        expect(value == int(m.group("c_rest")) * 10 + int(m.group("next")), f"{m.group(0)}: bring-down")
    q, div = int(m.group("q")), int(m.group("c_div"))
    expect(int(m.group("q1")) == q + 1 and int(m.group("div1")) == div, "bracket q and q+1 times the divisor")
    expect(int(m.group("product")) == q * div and int(m.group("product1")) == (q + 1) * div, "wrong multiple")
    expect(q * div <= value < (q + 1) * div, f"{value} is not between {q * div} and {(q + 1) * div}")
    expect(int(m.group("value1")) == value and int(m.group("value2")) == value, "the value changed")
    expect(int(m.group("digit")) == q and int(m.group("product2")) == q * div, "the digit is q")
    expect(int(m.group("rest")) == value - q * div, f"{value} - {q * div} is {value - q * div}")


def _check_round(m: re.Match[str]) -> None:
    x, decimals, result = Decimal(m.group("c_x")), int(m.group("decimals")), m.group("result")
    expect(
        result in (rounded(x, decimals), rounded(x, decimals, drop_zeros=True)),
        f"{x} rounds to {rounded(x, decimals)}",
    )


_CHECKS: dict[str, Callable[[re.Match[str]], None]] = {
    "mul_expand": _check_mul,
    "mul_line": _check_mul,
    "mul_digit": _check_digit,
    "add": _check_add,
    "div_scale": _check_scale,
    "div_digit": _check_div_digit,
    "div_result": lambda m: check_division(m.group("c_n"), m.group("c_d"), m.group("quotient")),
    "round": _check_round,
}


def check_step(kind: StepKind, match: re.Match[str]) -> None:
    """Re-execute one arithmetic line of ``kind``; raises :class:`TraceError` when it is wrong."""
    try:
        _CHECKS[kind.name](match)
    except KeyError:
        raise TraceError(f"{kind.name} is not an arithmetic step kind") from None


def check_division(n: str, d: str, quotient: str) -> None:
    """A ``div_result`` line's quotient is ``n/d`` truncated to the places it shows."""
    decimals = len(quotient.partition(".")[2])
    exact = (Decimal(n) / Decimal(d)).quantize(Decimal(1).scaleb(-decimals), ROUND_DOWN)
    expect(Decimal(quotient) == exact and number(exact) == quotient, f"{n}/{d} is {number(exact)}")
