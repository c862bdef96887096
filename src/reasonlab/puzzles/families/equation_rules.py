"""The operator rules of the equation puzzles, as data: one inventory shared by solver, generator, traces.

An equation is ``AB op CD``: two two-digit operands (leading zeros kept) and an operator character.
Every rule is a point in a small grammar:

* ``combine``: ``join`` (``ABCD``), ``join_swap`` (``CDAB``), or an arithmetic combination of the two
  operands as numbers: ``add``, ``sub`` (left minus right), ``rsub`` (right minus left), ``absdiff``,
  ``mod`` (the larger modulo the smaller; undefined when the smaller is 0) or ``mul``;
* ``offset``: -1, 0 or +1 added to the arithmetic value;
* ``flip``: operands read right to left (``BA``, ``DC``) and the result's digits written right to left
  (reversal keeps leading zeros: the reverse of 120 is ``021``);
* ``sign``: how the operator character marks a sign: ``neg_prefix`` / ``neg_suffix`` before/after the
  digits of a negative value, ``nz_prefix`` / ``nz_suffix`` before/after the digits of any non-zero value
  (a zero is written ``0``).

The puzzles use 24 points of this grammar (``INVENTORY``), in four groups (``join``, ``add``, ``sub``,
``mul``). Within one puzzle the non-join operators share one ``flip`` mode and no two of them share a
group; :func:`compatible` states that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

JOIN_GROUP = "join"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    group: str  # join | add | sub | mul
    combine: str
    offset: int = 0
    flip: bool = False
    sign: str = "neg_prefix"

    @property
    def is_join(self) -> bool:
        return self.group == JOIN_GROUP

    @property
    def plain_meaning(self) -> bool:
        """Whether the rule is its group's plain arithmetic (``+``, ``-`` or ``*`` with no offset, in
        either mode): puzzles rarely give that meaning to none or to several of their operators."""
        return self.combine in ("add", "sub", "mul") and self.offset == 0 and self.sign == "neg_prefix"

    def value(self, left: int, right: int) -> int | None:
        """The signed arithmetic value on operands already read in this rule's direction."""
        match self.combine:
            case "add":
                v = left + right
            case "sub":
                v = left - right
            case "rsub":
                v = right - left
            case "absdiff":
                v = abs(left - right)
            case "mul":
                v = left * right
            case "mod":
                low, high = min(left, right), max(left, right)
                if low == 0:
                    return None
                v = high % low
            case _:
                raise ValueError(f"{self.combine!r} is not an arithmetic combination")
        return v + self.offset

    def apply(self, left: str, right: str, operator: str) -> str | None:
        """The result as printed for digit operands ``left`` and ``right`` (None where undefined)."""
        if self.combine == "join":
            return left + right
        if self.combine == "join_swap":
            return right + left
        if self.flip:
            left, right = left[::-1], right[::-1]
        v = self.value(int(left), int(right))
        if v is None:
            return None
        return render(v, self.flip, self.sign, operator)

    def describe(self) -> str:
        """The rule as a formula, e.g. ``rev(BA+DC-1)`` or ``AB-CD, op prefix if negative``."""
        return DESCRIPTIONS[self.name]


def render(value: int, flip: bool, sign: str, operator: str) -> str:
    digits = str(abs(value))
    if flip:
        digits = digits[::-1]
    marked = value < 0 if sign.startswith("neg") else value != 0
    if not marked:
        return digits
    return operator + digits if sign.endswith("prefix") else digits + operator


def _rules() -> tuple[Rule, ...]:
    rules = [Rule("join", JOIN_GROUP, "join"), Rule("join_swap", JOIN_GROUP, "join_swap")]
    for flip in (False, True):
        tag = "flip_" if flip else ""
        for combine, group in (("add", "add"), ("mul", "mul")):
            for offset, suffix in ((0, ""), (1, "_plus1"), (-1, "_minus1")):
                rules.append(Rule(f"{tag}{combine}{suffix}", group, combine, offset, flip))
    rules += [
        Rule("sub", "sub", "sub"),
        Rule("absdiff", "sub", "absdiff"),
        Rule("absdiff_prefix", "sub", "absdiff", sign="nz_prefix"),
        Rule("mod", "sub", "mod"),
        Rule("flip_sub", "sub", "sub", flip=True),
        Rule("flip_rsub_suffix", "sub", "rsub", flip=True, sign="neg_suffix"),
        Rule("flip_absdiff", "sub", "absdiff", flip=True),
        Rule("flip_absdiff_prefix", "sub", "absdiff", flip=True, sign="nz_prefix"),
        Rule("flip_absdiff_suffix", "sub", "absdiff", flip=True, sign="nz_suffix"),
        Rule("flip_mod", "sub", "mod", flip=True),
    ]
    return tuple(rules)


INVENTORY: tuple[Rule, ...] = _rules()
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in INVENTORY}

_SYMBOL = {"add": "+", "sub": "-", "rsub": "-", "mul": "*"}


def _describe(rule: Rule) -> str:
    if rule.combine == "join":
        return "AB op CD -> ABCD (concatenate)"
    if rule.combine == "join_swap":
        return "AB op CD -> CDAB (concatenate, right first)"
    a, c = ("BA", "DC") if rule.flip else ("AB", "CD")
    match rule.combine:
        case "absdiff":
            core = f"|{a}-{c}|"
        case "mod":
            core = f"max({a},{c}) mod min({a},{c})"
        case "rsub":
            core = f"{c}-{a}"
        case _:
            core = f"{a}{_SYMBOL[rule.combine]}{c}"
    if rule.offset:
        core += f"{rule.offset:+d}"
    if rule.flip:
        core = f"rev({core})"
    can_be_negative = rule.combine in ("sub", "rsub") or rule.offset < 0
    if rule.sign.startswith("neg") and not can_be_negative:
        return core
    marker = {
        "neg_prefix": "op before it if negative",
        "neg_suffix": "op after it if negative",
        "nz_prefix": "op before it if non-zero",
        "nz_suffix": "op after it if non-zero",
    }[rule.sign]
    return f"{core}, {marker}"


DESCRIPTIONS: dict[str, str] = {rule.name: _describe(rule) for rule in INVENTORY}


def compatible(rules: Iterable[Rule]) -> bool:
    """Whether rules can share one puzzle: non-join rules in one flip mode, each in its own group."""
    modes, groups = set(), set()
    for rule in rules:
        if rule.is_join:
            continue
        if rule.group in groups:
            return False
        groups.add(rule.group)
        modes.add(rule.flip)
    return len(modes) <= 1


SIGN = "\x00"  # stands for the operator character where a result table marks a sign


_REVERSED = tuple(int(f"{i:02d}"[::-1]) for i in range(100))  # an operand read right to left


@cache
def result_table(rule_name: str) -> tuple[str | None, ...]:
    """The rule's printed result for every operand pair, indexed ``100*left + right``, with
    :data:`SIGN` for the operator character (computed once per process)."""
    rule = RULES_BY_NAME[rule_name]
    if rule.is_join:
        return tuple(rule.apply(f"{i // 100:02d}", f"{i % 100:02d}", SIGN) for i in range(10000))
    operands = _REVERSED if rule.flip else range(100)
    values = list(map(rule.value, [left for left in operands for _ in range(100)], list(operands) * 100))
    printed = {v: render(v, rule.flip, rule.sign, SIGN) for v in set(values) - {None}}  # each value once
    return tuple(map(printed.get, values))


def assignments(candidates: Mapping[str, Sequence[Rule]]) -> Iterator[dict[str, Rule]]:
    """Every choice of one candidate rule per operator that :func:`compatible` allows."""
    operators = sorted(candidates, key=lambda op: len(candidates[op]))
    chosen: dict[str, Rule] = {}

    def extend(i: int) -> Iterator[dict[str, Rule]]:
        if i == len(operators):
            yield dict(chosen)
            return
        op = operators[i]
        for rule in candidates[op]:
            if compatible([*chosen.values(), rule]):
                chosen[op] = rule
                yield from extend(i + 1)
                del chosen[op]

    return extend(0)
