"""The grammar of bit-manipulation rules: word transforms of an 8-bit input combined by bitwise functions.

An *atom* is one of ``x``, ``shl k``, ``shr k``, ``rol k`` (k = 1..7) or the negation of one: 44 words.
A rule is one atom, a 2-input function (and/or/xor) of two atoms, or a 3-input function of three atoms.
Every function is bitwise, so a rule fits when it fits at every bit of every example: whole-word rules
are found by :func:`fitting_rules` (which functions of one to three shifted words the outputs can be),
per-bit expressions over packed columns by :func:`search` (used by :mod:`bit_columns`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, reduce
from itertools import combinations, combinations_with_replacement, compress, pairwise, permutations, product
from operator import and_, itemgetter, or_

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


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    arity: int
    evaluate: Callable[..., int]  # (args..., full) -> packed result
    symmetric_prefix: bool  # whether swapping the first two arguments gives the same function
    fully_symmetric: bool = False  # whether any permutation of the arguments gives the same function


FUNCTIONS: tuple[Function, ...] = (
    Function("and", 2, lambda a, b, full: a & b, True, True),
    Function("or", 2, lambda a, b, full: a | b, True, True),
    Function("xor", 2, lambda a, b, full: a ^ b, True, True),
    Function("maj", 3, lambda a, b, c, full: (a & b) | (a & c) | (b & c), True, True),
    Function("par3", 3, lambda a, b, c, full: a ^ b ^ c, True, True),
    Function("ch", 3, lambda s, a, b, full: (s & a) | (~s & b & full), False, False),
    Function(
        "sel_nand_xnor", 3, lambda s, a, b, full: ((s & ~(a & b)) | (~s & ~(a ^ b))) & full, False, False
    ),
    Function("ao", 3, lambda a, b, c, full: (a & b) | c, True, False),
    Function("oa", 3, lambda a, b, c, full: (a | b) & c, True, False),
    Function("ax", 3, lambda a, b, c, full: (a & b) ^ c, True, False),
    Function("ox", 3, lambda a, b, c, full: (a | b) ^ c, True, False),
    Function("xa", 3, lambda a, b, c, full: (a ^ b) & c, True, False),
    Function("xo", 3, lambda a, b, c, full: (a ^ b) | c, True, False),
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


# Every atom's output for every input byte.
_ATOM_OUTPUTS: tuple[bytes, ...] = tuple(bytes(atom.apply(v) for v in range(1 << WIDTH)) for atom in ATOMS)
_FUNCTION_RANK = {f.name: i + 1 for i, f in enumerate(FUNCTIONS)}
_PATTERN_BITS = tuple(1 << m for m in range(8))


def consistent_rules(inputs: list[int], outputs: list[int]) -> list[Rule]:
    """Every canonical rule of the grammar that maps each input to its output, in simplicity order."""
    return [Rule(function, args) for function, args, _ in fitting_rules(inputs, outputs, 0)]


# Whole-word rules are found through the *plain* atoms (x and its shifts and rotations, unnegated): a rule
# over atoms is a function of at most three plain words, and it fits the examples exactly when the target
# is some function of those plain words' bits at every packed position, one that the rule's function
# (with its arguments' order and negations) agrees with. So the search asks, for every multiset of one to
# three plains (a *slot*), which 3-bit *patterns* of the plains' bits occur where the target is 1 and where
# it is 0; a slot where some pattern meets both is out, and for the rest the fitting rules are read from a
# table keyed by those two pattern sets. The question is asked of every slot at once: a set of slots is an
# integer with one bit per slot, and the slots showing each pattern at each (input byte, bit) are built
# once per process, per input byte (:func:`prepare_tables`). Only the slots left are looked at one by one.
_PLAINS = len(ATOMS) // 2
assert all(ATOMS[i + _PLAINS] == Atom(a.kind, a.amount, True) for i, a in enumerate(ATOMS[:_PLAINS]))


def _make_slots() -> tuple[tuple[int, ...], ...]:
    slots: list[tuple[int, ...]] = []
    for size in (1, 2, 3):
        # three copies of one plain leave no three distinct atoms (each plain gives just two)
        slots.extend(c for c in combinations_with_replacement(range(_PLAINS), size) if len(set(c)) > size - 2)
    return tuple(slots)


_SLOTS = _make_slots()
_ALL_SLOTS = (1 << len(_SLOTS)) - 1


def _slots_reading() -> tuple[tuple[tuple[int, ...], ...], ...]:
    """``[j][p][s]``: the slots whose ``j``-th plain holds input bit ``s`` at bit ``p`` of its word."""
    holding = [[0] * _PLAINS for _ in range(3)]  # [j][plain]: the slots whose j-th plain is that plain
    for u, slot in enumerate(_SLOTS):
        for j, plain in enumerate(slot):
            holding[j][plain] |= 1 << u
    reading = [[[0] * WIDTH for _ in range(WIDTH)] for _ in range(3)]
    for plain in range(_PLAINS):
        for s in range(WIDTH):
            word = ATOMS[plain].apply(1 << s)  # a plain atom moves each input bit to one place at most
            for p in range(WIDTH):
                if word >> p & 1:
                    for j in range(3):
                        reading[j][p][s] |= holding[j][plain]
    return tuple(tuple(tuple(row) for row in position) for position in reading)


_READING = _slots_reading()


@cache
def _patterns(value: int) -> tuple[tuple[int, ...], ...]:
    """``[p][m]``: the slots whose plains' bits at bit ``p`` on input ``value`` form pattern ``m`` (bit j
    of ``m`` is the ``j``-th plain's bit; a slot's missing plains read 0)."""
    sources = [s for s in range(WIDTH) if value >> s & 1]
    table = []
    for p in range(WIDTH):
        a, b, c = (reduce(or_, (_READING[j][p][s] for s in sources), 0) for j in range(3))
        both = a & b
        pairs = (_ALL_SLOTS ^ (a | b), a ^ both, b ^ both, both)  # pattern bits 0, 1 of the first two plains
        with_c = [x & c for x in pairs]
        table.append(tuple(x ^ xc for x, xc in zip(pairs, with_c, strict=True)) + tuple(with_c))
    return tuple(table)


def prepare_tables() -> None:
    """Build every input byte's pattern table now, once per process (before worker processes fork)."""
    for value in range(1 << WIDTH):
        _patterns(value)


@dataclass(frozen=True, slots=True)
class _Reading:
    """One way a slot's plains can be a canonical rule's arguments. ``take`` picks the rule's atoms from
    the slot's *choices* (its plains, then their negations: :data:`_CHOICES`); ``table`` is the rule's
    truth table over the patterns (bit m: its output where the plains' bits form pattern m); ``evaluate``
    gives its output from its atoms' words; ``rank`` orders the kinds as :func:`fitting_rules` lists them."""

    function: str | None
    rank: int
    take: Callable[[tuple[int, ...]], tuple[int, ...]]
    table: int
    evaluate: Callable[..., int]


def _shape(slot: tuple[int, ...]) -> tuple[int, ...]:
    """Which of a slot's (sorted) plains are equal, as ranks: (0, 1, 2), (0, 0, 1), (0, 1, 1), (0, 1)..."""
    ranks = [0]
    for previous, plain in pairwise(slot):
        ranks.append(ranks[-1] + (plain != previous))
    return tuple(ranks)


def _taker(indices: tuple[int, ...]) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    if len(indices) == 1:
        (index,) = indices
        return lambda choices: (choices[index],)
    return itemgetter(*indices)


def _on_bytes(function: Function | None) -> Callable[..., int]:
    if function is None:
        return lambda word: word
    return lambda *words: function.evaluate(*words, BYTE)


@cache
def _truth_table(function: Function | None, roles: tuple[int, ...], negations: tuple[int, ...]) -> int:
    table = 0
    for m in range(1 << len(roles)):
        args = [(m >> role & 1) ^ negated for role, negated in zip(roles, negations, strict=True)]
        table |= (args[0] if function is None else function.evaluate(*args, 1) & 1) << m
    return table


def _readings(shape: tuple[int, ...]) -> tuple[_Reading, ...]:
    """Every reading that gives a canonical rule on a slot of this shape, each rule once. Atom indices
    are ``plain + _PLAINS * negated``, so they compare as (negated, plain) do: the shape alone says
    whether a reading's atoms are distinct and its symmetric arguments increase."""
    size = len(shape)
    functions: list[Function | None] = [None] if size == 1 else [f for f in FUNCTIONS if f.arity == size]
    readings, rules = [], set()
    for function in functions:
        for roles in permutations(range(size)):
            for negations in product((0, 1), repeat=size):
                atoms = tuple(zip(negations, (shape[role] for role in roles), strict=True))
                if function is not None and (
                    len(set(atoms)) < size
                    or (function.symmetric_prefix and atoms[0] > atoms[1])
                    or (function.fully_symmetric and size == 3 and atoms[1] > atoms[2])
                    or (function.name, atoms) in rules
                ):
                    continue
                rules.add((function and function.name, atoms))
                picks = tuple(role + size * negated for role, negated in zip(roles, negations, strict=True))
                readings.append(
                    _Reading(
                        function and function.name,
                        _FUNCTION_RANK[function.name] if function else 0,
                        _taker(picks),
                        _truth_table(function, roles, negations),
                        _on_bytes(function),
                    )
                )
    return tuple(readings)


_SHAPES = tuple(_shape(slot) for slot in _SLOTS)
_READINGS = {shape: _readings(shape) for shape in set(_SHAPES)}
_CHOICES = tuple(slot + tuple(plain + _PLAINS for plain in slot) for slot in _SLOTS)


def _depends_on_every_plain(table: int, size: int) -> bool:
    return all(
        any(table >> m & 1 != table >> (m ^ 1 << j) & 1 for m in range(1 << size)) for j in range(size)
    )


# A slot of distinct plains whose patterns all occur has one truth table. When a smaller slot within it
# fits, that table ignores the other plains, and no reading's table does: such slots are skipped unread.
assert all(_depends_on_every_plain(r.table, 2) for r in _READINGS[(0, 1)])
assert all(_depends_on_every_plain(r.table, 3) for r in _READINGS[(0, 1, 2)])


def _slots_within() -> tuple[int, ...]:
    """Per slot of one or two distinct plains: the larger slots of distinct plains that contain its
    plains (0 for the other slots)."""
    index = {slot: u for u, slot in enumerate(_SLOTS)}
    larger = [bytearray(len(_SLOTS) // 8 + 1) for _ in _SLOTS]
    for u, slot in enumerate(_SLOTS):
        if len(slot) > 1 and len(set(slot)) == len(slot):
            for size in range(1, len(slot)):
                for smaller in combinations(slot, size):
                    larger[index[smaller]][u >> 3] |= 1 << (u & 7)
    return tuple(int.from_bytes(bits, "little") for bits in larger)


_LARGER = _slots_within()
_SMALL_SLOTS = sum(1 << u for u, slot in enumerate(_SLOTS) if len(slot) < 3)
_PAIR_SLOTS = sum(1 << u for u, slot in enumerate(_SLOTS) if len(slot) == 2)


@cache
def _fitting_readings(shape: tuple[int, ...], ones: int, seen: int) -> tuple[_Reading, ...]:
    """The readings whose truth table is 1 on the patterns ``ones`` and 0 on the rest of ``seen``."""
    return tuple(r for r in _READINGS[shape] if r.table & seen == ones)


def fitting_rules(
    inputs: Sequence[int], outputs: Sequence[int], query: int
) -> list[tuple[str | None, tuple[int, ...], int]]:
    """Every canonical rule (function name, atom indices) that maps each input to its output, with its
    output on ``query``, in simplicity order: fewer atoms, then :data:`FUNCTIONS` order, then atoms.
    Atoms are distinct and symmetric arguments increase, as in :func:`canonical_argument_tuples`."""
    ones_at = [0] * 8  # per pattern, the slots showing it where the target is 1
    zeros_at = [0] * 8
    for value, target in zip(inputs, outputs, strict=True):
        for p, sets in enumerate(_patterns(value)):
            if target >> p & 1:
                ones_at = list(map(or_, ones_at, sets))
            else:
                zeros_at = list(map(or_, zeros_at, sets))
    alive = _ALL_SLOTS ^ reduce(or_, map(and_, ones_at, zeros_at), 0)
    # skip the slots that contain a fitting smaller slot and show all their patterns (see _LARGER)
    seen = list(map(or_, ones_at, zeros_at))
    seen_low = seen[0] & seen[1] & seen[2] & seen[3]
    fully_seen = (seen_low & seen[4] & seen[5] & seen[6] & seen[7]) | (seen_low & _PAIR_SLOTS)
    small = alive & _SMALL_SLOTS
    while small:
        low = small & -small
        small ^= low
        alive &= ~(_LARGER[low.bit_length() - 1] & fully_seen)
    query_words = [table[query] for table in _ATOM_OUTPUTS]
    by_rank: dict[int, list[tuple[tuple[int, ...], int]]] = {}
    names: dict[int, str | None] = {}
    while alive:
        low = alive & -alive
        alive ^= low
        u = low.bit_length() - 1
        ones = sum(compress(_PATTERN_BITS, map(low.__and__, ones_at)))
        readings = _fitting_readings(
            _SHAPES[u], ones, ones | sum(compress(_PATTERN_BITS, map(low.__and__, zeros_at)))
        )
        if not readings:
            continue
        choices = _CHOICES[u]
        for reading in readings:
            args = reading.take(choices)
            answer = reading.evaluate(*map(query_words.__getitem__, args))
            rows = by_rank.get(reading.rank)
            if rows is None:
                rows = by_rank[reading.rank] = []
                names[reading.rank] = reading.function
            rows.append((args, answer))
    found = []
    for rank in sorted(by_rank):
        name = names[rank]
        found.extend((name, args, answer) for args, answer in sorted(by_rank[rank]))
    return found


# How :func:`search` (the per-bit fallback's search over literal columns) enumerates a function's
# arguments. Arguments are taken in an order chosen per function (``_Plan.order``): the first is filtered
# alone, the second given the first, the last is solved for.
# Each filter is a per-bit condition on the bits of the arguments taken so far and of the target y,
# derived from the function's truth table. A per-bit condition over (x1, x2, y) is kept in algebraic
# normal form (an XOR of AND-monomials; bit m of the form is monomial m, whose bits 1, 2, 4 stand for
# x1, x2, y); with y fixed by the puzzle it becomes C0 ^ (C1 & x1) ^ (C2 & x2) ^ (C12 & x1 & x2) over
# whole packed words, a few operations for any function.
_X1, _X2, _Y = 1, 2, 4


def _normal_form(condition: Callable[[int, int, int], bool]) -> int:
    """The algebraic normal form of a per-bit condition on (x1, x2, y) (Moebius transform)."""
    coefficients = [int(condition(m & _X1, m >> 1 & 1, m >> 2 & 1)) for m in range(8)]
    for var in (_X1, _X2, _Y):
        for m in range(8):
            if m & var:
                coefficients[m] ^= coefficients[m ^ var]
    return sum(c << m for m, c in enumerate(coefficients))


def _bind(form: int, y: int, full: int) -> tuple[int, int, int, int]:
    """A condition's words with the target fixed: (C0, C1, C2, C12) over x1, x2."""
    words = [0, 0, 0, 0]
    for m in range(8):
        if form >> m & 1:
            words[m & (_X1 | _X2)] ^= y if m & _Y else full
    return words[0], words[1], words[2], words[3]


@dataclass(frozen=True, slots=True)
class _Choices:
    """Per-bit conditions saying which values an argument may take: ``fail`` where none, ``mask`` where
    exactly one (``value`` then holds it), elsewhere both."""

    fail: int
    mask: int
    value: int

    @classmethod
    def of(cls, options: Callable[[int, int, int], list[int]]) -> _Choices:
        return cls(
            _normal_form(lambda x1, x2, y: not options(x1, x2, y)),
            _normal_form(lambda x1, x2, y: len(options(x1, x2, y)) == 1),
            _normal_form(lambda x1, x2, y: options(x1, x2, y) == [1]),
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    """How :func:`search` enumerates one function: argument positions in ``order`` (the last one solved
    for), the first argument's choices given y, the second's given the first, the last's given both; and
    for 3-input functions the *join*: the bits (``join_domain``, given the first argument) where the last
    argument is fixed whatever the second is, and its value there (``join_key``, given both), so that the
    second arguments for which some last argument exists are found by one lookup each. ``forced``: on how
    many target bit values the first argument is forced (the plan's selectivity)."""

    function: Function
    order: tuple[int, ...]
    first: _Choices
    second: _Choices | None
    last: _Choices
    join_domain: int
    join_key: int
    forced: int


def _plan_for(function: Function, order: tuple[int, ...]) -> _Plan:
    def output(roles: tuple[int, ...]) -> int:
        args = [0] * function.arity
        for position, bit in zip(order, roles, strict=True):
            args[position] = bit
        return function.evaluate(*args, 1) & 1

    if function.arity == 2:

        def last2(x1, _x2, y):
            return [x for x in (0, 1) if output((x1, x)) == y]

        def first2(_x1, _x2, y):
            return [x for x in (0, 1) if last2(x, 0, y)]

        forced = sum(len(first2(0, 0, y)) == 1 for y in (0, 1))
        return _Plan(function, order, _Choices.of(first2), None, _Choices.of(last2), 0, 0, forced)

    def last(x1, x2, y):
        return [x for x in (0, 1) if output((x1, x2, x)) == y]

    def second(x1, _x2, y):
        return [x for x in (0, 1) if last(x1, x, y)]

    def first(_x1, _x2, y):
        return [x for x in (0, 1) if second(x, 0, y)]

    def fixed_last(x1, y) -> dict[int, int] | None:
        """The last argument's value for each possible second value, when each has exactly one."""
        options = {x2: last(x1, x2, y) for x2 in second(x1, 0, y)}
        if not options or any(len(values) != 1 for values in options.values()):
            return None
        return {x2: values[0] for x2, values in options.items()}

    def join_key(x1, x2, y):
        fixed = fixed_last(x1, y)
        # where only one second value works the other one is filtered anyway: use the same key
        return fixed is not None and fixed.get(x2, fixed.get(1 - x2)) == 1

    return _Plan(
        function,
        order,
        _Choices.of(first),
        _Choices.of(second),
        _Choices.of(last),
        _normal_form(lambda x1, _x2, y: fixed_last(x1, y) is not None),
        _normal_form(join_key),
        sum(len(first(0, 0, y)) == 1 for y in (0, 1)),
    )


@cache
def _plans() -> tuple[_Plan, ...]:
    """One plan per function: the argument order whose first argument the target alone forces most often
    (ao, oa, xa, xo: their last argument), else the written order, in which symmetric arguments are
    enumerated in increasing order only."""
    plans = []
    for function in FUNCTIONS:
        written = tuple(range(function.arity))
        candidates = [_plan_for(function, order) for order in permutations(written)]
        plans.append(max(candidates, key=lambda plan: (plan.forced, plan.order == written)))
    return tuple(plans)


def search(values: list[int], target: int, full: int) -> list[tuple[str | None, tuple[int, ...]]]:
    """Every (function, argument indices) over ``values`` (packed operands) whose result is ``target``.

    Function None is a lone operand. Arguments are distinct and symmetric ones increase, as in
    :func:`canonical_argument_tuples`, and results come in that order (function, then arguments). No
    argument is enumerated blindly: each function's plan filters its first argument by the target, its
    second by the first (for every candidate at once, with C-level ``map``/``compress`` over the
    operands), and solves for its last, so only pairs that some last argument completes cost Python work.
    """
    by_value: dict[int, list[int]] = {}
    for i, value in enumerate(values):
        by_value.setdefault(value, []).append(i)
    found: list[tuple[str | None, tuple[int, ...]]] = [(None, (i,)) for i in by_value.get(target, [])]
    n = len(values)
    indices = range(n)
    matching: dict[tuple[int, int], list[int]] = {}  # operands with value & mask == value, per (mask, value)
    projections: dict[int, set[int]] = {}  # the operands' values on a domain of bits

    def where(mask: int, value: int) -> list[int]:
        if mask == full:
            return by_value.get(value, [])
        key = (mask, value)
        if key not in matching:
            matching[key] = list(compress(indices, map(value.__eq__, map(mask.__and__, values))))
        return matching[key]

    for plan in _plans():
        function = plan.function
        written = plan.order == tuple(range(function.arity))
        if _bind(plan.first.fail, target, full)[0]:
            continue  # some target bit no argument value produces
        first_mask = _bind(plan.first.mask, target, full)[0]
        firsts = where(first_mask, _bind(plan.first.value, target, full)[0] & first_mask)
        fail0, fail1, fail2, fail12 = _bind(plan.last.fail, target, full)
        mask0, mask1, mask2, mask12 = _bind(plan.last.mask, target, full)
        value0, value1, value2, value12 = _bind(plan.last.value, target, full)
        rows: list[tuple[int, ...]] = []
        if plan.second is None:
            for a in firsts:
                u = values[a]
                if fail0 ^ (fail1 & u):
                    continue
                mask = mask0 ^ (mask1 & u)
                start = a + 1 if written and function.symmetric_prefix else 0
                rows.extend(
                    (a, b) for b in where(mask, (value0 ^ (value1 & u)) & mask) if b >= start and b != a
                )
            found.extend((function.name, args) for args in _canonical(function, plan.order, rows, written))
            continue
        second_fail0, second_fail1, _, _ = _bind(plan.second.fail, target, full)
        second_mask0, second_mask1, _, _ = _bind(plan.second.mask, target, full)
        second_value0, second_value1, _, _ = _bind(plan.second.value, target, full)
        domain0, domain1, _, _ = _bind(plan.join_domain, target, full)
        key0, key1, key2, key12 = _bind(plan.join_key, target, full)
        symmetric_second = written and function.symmetric_prefix
        symmetric_last = written and function.fully_symmetric
        for a in firsts:
            u = values[a]
            if second_fail0 ^ (second_fail1 & u):
                continue
            start = a + 1 if symmetric_second else 0
            rest = values[start:] if start else values
            second_mask = second_mask0 ^ (second_mask1 & u)
            domain = domain0 ^ (domain1 & u)
            # on the domain the last argument is constant ^ (linear & v), whatever else v is
            constant = (key0 ^ (key1 & u)) & domain
            linear = (key2 ^ (key12 & u)) & domain
            join_stronger = second_mask.bit_count() < domain.bit_count()
            if join_stronger and not linear and not where(domain, constant):
                continue  # no operand can be the last argument, whatever the second
            if join_stronger and linear:
                # keep the v for which some operand matches the last argument on the domain
                if domain not in projections:
                    projections[domain] = set(map(domain.__and__, values))
                seconds = compress(
                    range(start, n),
                    map(projections[domain].__contains__, map(constant.__xor__, map(linear.__and__, rest))),
                )
            else:
                second_value = (second_value0 ^ (second_value1 & u)) & second_mask
                seconds = compress(range(start, n), map(second_value.__eq__, map(second_mask.__and__, rest)))
            for b in seconds:
                v = values[b]
                if b == a or (fail0 ^ (fail1 & u) ^ ((fail2 ^ (fail12 & u)) & v)):
                    continue
                mask = mask0 ^ (mask1 & u) ^ ((mask2 ^ (mask12 & u)) & v)
                value = (value0 ^ (value1 & u) ^ ((value2 ^ (value12 & u)) & v)) & mask
                c_start = b + 1 if symmetric_last else 0
                rows.extend((a, b, c) for c in where(mask, value) if c >= c_start and c != a and c != b)
        found.extend((function.name, args) for args in _canonical(function, plan.order, rows, written))
    return found


def _canonical(
    function: Function, order: tuple[int, ...], rows: list[tuple[int, ...]], written: bool
) -> list[tuple[int, ...]]:
    """Enumerated rows as argument tuples, canonical ones only (symmetric arguments increasing), sorted."""
    if written:
        return rows  # enumerated in canonical order already
    arguments = []
    for row in rows:
        args = [0] * function.arity
        for position, index in zip(order, row, strict=True):
            args[position] = index
        if function.symmetric_prefix and args[0] > args[1]:
            continue
        if function.fully_symmetric and args[1] > args[2]:
            continue
        arguments.append(tuple(args))
    arguments.sort()
    return arguments
