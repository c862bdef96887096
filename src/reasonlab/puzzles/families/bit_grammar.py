"""The grammar of bit-manipulation rules: word transforms of an 8-bit input combined by bitwise functions.

An *atom* is one of ``x``, ``shl k``, ``shr k``, ``rol k`` (k = 1..7) or the negation of one: 44 words.
A rule is one atom, a 2-input function (and/or/xor) of two atoms, or a 3-input function of three atoms.
Every function is bitwise, so a rule can be checked on all examples at once: the examples' values are
packed side by side into one integer (8 bits per example) and the rule is evaluated on the packed atoms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

WIDTH = 8
BYTE = (1 << WIDTH) - 1
SHIFT_KINDS = ("shl", "shr", "rol")


@dataclass(frozen=True, slots=True)
class Atom:
    """``kind`` is "x" or a shift kind; ``amount`` is 0 for "x"; ``negated`` wraps it in not()."""

    kind: str
    amount: int
    negated: bool

    def apply(self, value: int) -> int:
        k = self.amount
        if self.kind == "x":
            word = value
        elif self.kind == "shl":
            word = (value << k) & BYTE
        elif self.kind == "shr":
            word = value >> k
        else:
            word = ((value << k) | (value >> (WIDTH - k))) & BYTE
        return word ^ BYTE if self.negated else word

    @property
    def name(self) -> str:
        core = "x" if self.kind == "x" else f"{self.kind}{self.amount}(x)"
        return f"not({core})" if self.negated else core

    def literal(self, position: int) -> str:
        """What this word holds at output bit ``position`` (0 = leftmost): an input bit, or a constant."""
        k = self.amount
        if self.kind == "shl":
            source = position + k if position + k < WIDTH else None
        elif self.kind == "shr":
            source = position - k if position - k >= 0 else None
        else:
            source = (position + k) % WIDTH
        if source is None:
            return "1" if self.negated else "0"
        return f"~b{source}" if self.negated else f"b{source}"


# Per-bit expressions are written over literals: input bit j (0 = leftmost) "bj", its negation "~bj", and
# the constants "0" and "1".
LITERALS: tuple[str, ...] = (
    *(f"b{j}" for j in range(WIDTH)),
    *(f"~b{j}" for j in range(WIDTH)),
    "0",
    "1",
)


def expression_text(function: str | None, operands: Sequence[str]) -> str:
    return operands[0] if function is None else f"{function}({','.join(operands)})"


def _make_atoms() -> tuple[Atom, ...]:
    plain = [Atom("x", 0, False)] + [Atom(kind, k, False) for kind in SHIFT_KINDS for k in range(1, WIDTH)]
    return tuple(plain + [Atom(a.kind, a.amount, True) for a in plain])


ATOMS = _make_atoms()
ATOM_BY_NAME = {atom.name: atom for atom in ATOMS}


# Every function is bitwise; ch(s, a, b) = s ? a : b and sel_nand_xnor(s, a, b) = s ? nand(a, b) : xnor(a, b)
# select by their first argument; ao = (a & b) | c, oa = (a | b) & c, ax = (a & b) ^ c, ox = (a | b) ^ c,
# xa = (a ^ b) & c, xo = (a ^ b) | c.
#
# A function's "solver" answers: given the packed values u, v of the first arguments and the packed target
# y, which values of the last argument w make f(u, v, w) == y? It returns (mask, value): w must equal
# ``value`` on the bits of ``mask`` and is free elsewhere; or None when no w works. ``full`` is all ones.
Solver = Callable[[int, int, int, int], "tuple[int, int] | None"]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    arity: int
    evaluate: Callable[..., int]  # (args..., full) -> packed result
    solve_last: Solver  # binary functions are solved for their second argument, ignoring v
    symmetric_prefix: bool  # whether swapping the first two arguments gives the same function
    fully_symmetric: bool = False  # whether any permutation of the arguments gives the same function


def _solve_and(u, _v, y, full):
    return None if y & ~u & full else (u, y)


def _solve_or(u, _v, y, full):
    return None if u & ~y & full else (~u & full, y)


def _solve_xor(u, _v, y, full):
    return (full, u ^ y)


def _solve_maj(u, v, y, full):
    differ = u ^ v
    return None if ~differ & (u ^ y) & full else (differ, y)


def _solve_par(u, v, y, full):
    return (full, u ^ v ^ y)


def _solve_choice(s, a, y, full):
    # s=1 picks a (must already equal y); s=0 picks the last argument.
    return None if s & (a ^ y) else (~s & full, y)


def _solve_sel_nand_xnor(s, a, y, full):
    # s=1: nand(a, b) is 1 whenever a=0 (y must be 1 there), else ~b; s=0: xnor(a, b) = ~(a ^ b).
    if s & ~a & ~y & full:
        return None
    return ((~s | a) & full, ((s & ~y) | (~s & (a ^ ~y))) & full)


def _solve_and_or(a, b, y, full):  # (a & b) | c
    both = a & b
    return None if both & ~y else (~both & full, y)


def _solve_or_and(a, b, y, full):  # (a | b) & c
    either = a | b
    return None if ~either & y & full else (either, y)


def _solve_and_xor(a, b, y, full):  # (a & b) ^ c
    return (full, (a & b) ^ y)


def _solve_or_xor(a, b, y, full):  # (a | b) ^ c
    return (full, (a | b) ^ y)


def _solve_xor_and(a, b, y, full):  # (a ^ b) & c
    differ = a ^ b
    return None if ~differ & y & full else (differ, y)


def _solve_xor_or(a, b, y, full):  # (a ^ b) | c
    differ = a ^ b
    return None if differ & ~y else (~differ & full, y)


FUNCTIONS: tuple[Function, ...] = (
    Function("and", 2, lambda a, b, full: a & b, _solve_and, True, True),
    Function("or", 2, lambda a, b, full: a | b, _solve_or, True, True),
    Function("xor", 2, lambda a, b, full: a ^ b, _solve_xor, True, True),
    Function("maj", 3, lambda a, b, c, full: (a & b) | (a & c) | (b & c), _solve_maj, True, True),
    Function("par3", 3, lambda a, b, c, full: a ^ b ^ c, _solve_par, True, True),
    Function("ch", 3, lambda s, a, b, full: (s & a) | (~s & b & full), _solve_choice, False, False),
    Function(
        "sel_nand_xnor",
        3,
        lambda s, a, b, full: ((s & ~(a & b)) | (~s & ~(a ^ b))) & full,
        _solve_sel_nand_xnor,
        False,
        False,
    ),
    Function("ao", 3, lambda a, b, c, full: (a & b) | c, _solve_and_or, True, False),
    Function("oa", 3, lambda a, b, c, full: (a | b) & c, _solve_or_and, True, False),
    Function("ax", 3, lambda a, b, c, full: (a & b) ^ c, _solve_and_xor, True, False),
    Function("ox", 3, lambda a, b, c, full: (a | b) ^ c, _solve_or_xor, True, False),
    Function("xa", 3, lambda a, b, c, full: (a ^ b) & c, _solve_xor_and, True, False),
    Function("xo", 3, lambda a, b, c, full: (a ^ b) | c, _solve_xor_or, True, False),
)
FUNCTION_BY_NAME = {f.name: f for f in FUNCTIONS}
RULE_KINDS: tuple[str, ...] = ("atom", *FUNCTION_BY_NAME)


@dataclass(frozen=True, slots=True)
class Rule:
    """A whole-word rule: ``function`` None means the single atom ``atoms[0]``."""

    function: str | None
    atoms: tuple[int, ...]  # indices into ATOMS

    @property
    def kind(self) -> str:
        return self.function or "atom"

    def apply(self, value: int) -> int:
        return self.apply_to_words([atom.apply(value) for atom in ATOMS])

    def apply_to_words(self, words: list[int]) -> int:
        """The rule's output given every atom's value (``words[i]`` for ``ATOMS[i]``) on one input."""
        if self.function is None:
            return words[self.atoms[0]]
        return FUNCTION_BY_NAME[self.function].evaluate(*(words[i] for i in self.atoms), BYTE)

    @property
    def text(self) -> str:
        names = [ATOMS[i].name for i in self.atoms]
        return names[0] if self.function is None else f"{self.function}({', '.join(names)})"

    def bit_expressions(self) -> list[str]:
        """The rule written per output bit (0 = leftmost) over literals, e.g. ``xor(b1,~b4)``."""
        return [
            expression_text(self.function, [ATOMS[i].literal(position) for i in self.atoms])
            for position in range(WIDTH)
        ]


def canonical_argument_tuples(function: Function) -> list[tuple[int, ...]]:
    """Every argument tuple counted once: distinct atoms, symmetric arguments in increasing order."""
    n = len(ATOMS)
    tuples = []
    for a in range(n):
        for b in range(n):
            if a == b or (function.symmetric_prefix and b < a):
                continue
            if function.arity == 2:
                tuples.append((a, b))
                continue
            for c in range(n):
                if c in (a, b) or (function.fully_symmetric and c < b):
                    continue
                tuples.append((a, b, c))
    return tuples


@cache
def rule_count(kind: str) -> int:
    """How many canonical rules of one kind exist (the denominator of a uniform prior within the kind)."""
    if kind == "atom":
        return len(ATOMS)
    return len(canonical_argument_tuples(FUNCTION_BY_NAME[kind]))


def parse_rule(text: str) -> Rule:
    """The inverse of :attr:`Rule.text`. Raises ``ValueError`` on text that is not a rule."""
    text = text.strip()
    if text in ATOM_BY_NAME:
        return Rule(None, (ATOMS.index(ATOM_BY_NAME[text]),))
    head, sep, rest = text.partition("(")
    function = FUNCTION_BY_NAME.get(head)
    if function is None or not sep or not rest.endswith(")"):
        raise ValueError(f"not a bit rule: {text!r}")
    names = _split_arguments(rest[:-1])
    if len(names) != function.arity or any(name not in ATOM_BY_NAME for name in names):
        raise ValueError(f"not a bit rule: {text!r}")
    return Rule(function.name, tuple(ATOMS.index(ATOM_BY_NAME[name]) for name in names))


def _split_arguments(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def pack(values: list[int]) -> int:
    """Values side by side, 8 bits each, first value in the lowest byte."""
    packed = 0
    for i, value in enumerate(values):
        packed |= value << (WIDTH * i)
    return packed


def consistent_rules(inputs: list[int], outputs: list[int]) -> list[Rule]:
    """Every canonical rule of the grammar that maps each input to its output."""
    packed = [pack([atom.apply(v) for v in inputs]) for atom in ATOMS]
    full = (1 << (WIDTH * len(inputs))) - 1
    return [Rule(name, args) for name, args in search(packed, pack(outputs), full)]


def search(values: list[int], target: int, full: int) -> list[tuple[str | None, tuple[int, ...]]]:
    """Every (function, argument indices) over ``values`` (packed operands) whose result is ``target``.

    Function None is a lone operand. Arguments are distinct and symmetric ones increase, as in
    :func:`canonical_argument_tuples`. The last argument is never enumerated blindly: each function's
    solver says which values it may take, so the cost is about (functions x operand pairs).
    """
    by_value: dict[int, list[int]] = {}
    for i, value in enumerate(values):
        by_value.setdefault(value, []).append(i)
    found: list[tuple[str | None, tuple[int, ...]]] = [(None, (i,)) for i in by_value.get(target, [])]
    n = len(values)
    for function in FUNCTIONS:
        solve, name = function.solve_last, function.name
        if function.arity == 2:
            for a in range(n):
                needed = solve(values[a], 0, target, full)
                if needed is None:
                    continue
                mask, value = needed[0], needed[1] & needed[0]
                start = a + 1 if function.symmetric_prefix else 0
                found.extend((name, (a, b)) for b in range(start, n) if b != a and values[b] & mask == value)
            continue
        for a in range(n):
            pa = values[a]
            for b in range(a + 1 if function.symmetric_prefix else 0, n):
                if b == a:
                    continue
                needed = solve(pa, values[b], target, full)
                if needed is None:
                    continue
                mask, value = needed[0], needed[1] & needed[0]
                if mask == full:
                    candidates = by_value.get(value)
                    if candidates is None:
                        continue
                else:
                    candidates = [c for c in range(n) if values[c] & mask == value]
                c_start = b + 1 if function.fully_symmetric else 0
                found.extend((name, (a, b, c)) for c in candidates if c >= c_start and c != a and c != b)
    return found
