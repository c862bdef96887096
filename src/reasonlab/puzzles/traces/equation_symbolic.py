"""Stepwise traces of symbolic equations: recall memorised catalog rows, search digit maps depth first.

Every digit 0-9 is written as a secret symbol, so the digit map and the rules are found together.
The procedure, one line per step:

1. Each example's *signature*: its symbols renamed to letters by first use (``AB CB = ABCB``; ``#``
   marks the operator character in a result), and the number of *rows* its catalog entry holds. The
   catalog (memorised; :class:`SymbolicDrills` teaches it) maps each of the 4,205 signatures of the
   22 arithmetic rules over all operand pairs to its rows: a rule and the digits of the letters
   (``mul 3165``: A=3 B=1 C=6 D=5); a result that repeats the operands adds a ``join`` row.
2. A depth-first search with forward checking. An example whose operator's rule and operand digits
   are known is settled at once by a ``check`` line: the rule computed on the digits and compared
   with the result symbol by symbol (a new symbol takes its digit; a clash is named: ``fail % is 4``).
   Otherwise a ``left`` line recalls, for every open example, how many of its catalog rows the map
   allows (rows whose letters agree with the digits fixed, whose rule is the operator's own or one
   the puzzle regularities leave: one mode, distinct groups); a 0 ends the branch. The example with
   the fewest is ``next``, and each of its allowed rows is tried in turn (``row`` lines: the row's
   digits written on the symbols), rules in the prior table's order for the operator's class, digits
   ascending. A ``back`` line leaves an exhausted level, and the ``map`` (digits and rules so far) is
   restated after each new rule, after each ``back`` and whenever it would fall out of sight. The
   first map that explains every example is taken (a full search changes the answer on 5 in 390 dev
   rows and costs six times the lines).
3. The query: its operator's rule (an unseen operator takes the first rule of its prior table row
   that the regularities leave), its operands' digits (symbols the map leaves open try the unused
   digits, ascending, until every digit of the result has a symbol), one computation, the result
   written back in symbols. A map under which the answer cannot be written is a dead end: the
   search goes on from it like from any other.

The search is bounded by a fixed number of row and check lines and of characters (never the clock):
a puzzle whose search does not finish within them, or whose answer cannot be written in the
prompt's symbols, gets no trace.
Replay re-executes the procedure on the prompt and requires every line to be the one it produces.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import permutations
from typing import Any

from reasonlab.puzzles.families._synthesis import boxed
from reasonlab.puzzles.families.equation_priors import ARITHMETIC_GROUPS, OPERATOR_CLASSES, operator_class
from reasonlab.puzzles.families.equation_rules import INVENTORY, RULES_BY_NAME, SIGN, Rule, compatible
from reasonlab.puzzles.families.equation_symbolic import SEPARATOR, signature, signature_index
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces.equation_numeric import prior_order
from reasonlab.puzzles.traces.procedure import finished, replay_against

MAX_TRIALS = 240  # trial lines per search: beyond it the puzzle gets no trace
# Characters of search lines: beyond it the puzzle gets no trace. Search lines take at least 1.6
# characters per token under common tokenizers, so the trace stays well inside 7,680 tokens.
MAX_CHARS = 11_000
MAP_REFRESH = 15  # restate the map when the last map line is this many lines up
LETTERS = "ABCDEFGHIJ"
SIGN_MARK = "#"


@dataclass(frozen=True, slots=True)
class RowTable:
    """One signature's catalog rows in the order a search tries them (rules by the prior of an
    operator class, digits ascending), with bit masks over row ids for filtering by the map:
    ``by_digit[position, digit]`` and ``by_rule[name]``."""

    rows: tuple[tuple[str, tuple[int, ...]], ...]
    by_digit: dict[tuple[int, int], int]
    by_rule: dict[str, int]

    @property
    def full(self) -> int:
        return (1 << len(self.rows)) - 1


@cache
def row_table(pattern: tuple[int, ...], operator_class_name: str) -> RowTable:
    order = {name: i for i, name in enumerate(prior_order(operator_class_name, "open", ()))}
    entry = catalog_entry(pattern)
    rows = tuple((name, digits) for name in sorted(entry, key=lambda n: order[n]) for digits in entry[name])
    by_digit: dict[tuple[int, int], int] = {}
    by_rule: dict[str, int] = {}
    for i, (name, digits) in enumerate(rows):
        bit = 1 << i
        by_rule[name] = by_rule.get(name, 0) | bit
        for k, d in enumerate(digits):
            by_digit[k, d] = by_digit.get((k, d), 0) | bit
    return RowTable(rows, by_digit, by_rule)


@dataclass(frozen=True, slots=True)
class Example:
    """One example as the search sees it: its symbols in first-use order and its catalog rows."""

    number: int
    text: str  # ``AB?CD = result`` as printed
    operator: str
    operands: str  # the four operand symbols
    result: str
    symbols: tuple[str, ...]
    letters: str  # the signature, e.g. ``AB CB = ABCB``
    joins: tuple[str, ...]  # join rules the result allows (tried first; they fix no digit)
    table: RowTable

    @property
    def row_count(self) -> int:
        return len(self.joins) + len(self.table.rows)


def _example(number: int, equation, result: str) -> Example:
    op = equation.operator
    operands = equation.left + equation.right
    pattern, symbols = signature(operands + SEPARATOR + result.replace(op, SIGN))
    letter = {s: LETTERS[i] for i, s in enumerate(symbols)}
    shown = "".join(SIGN_MARK if ch == op else letter[ch] for ch in result)
    letters = (
        f"{letter[operands[0]]}{letter[operands[1]]} {letter[operands[2]]}{letter[operands[3]]} = {shown}"
    )
    joins = tuple(
        name
        for name, joined in (("join", operands), ("join_swap", equation.right + equation.left))
        if result == joined
    )
    table = row_table(pattern, operator_class(op, False))
    return Example(
        number, f"{equation.text} = {result}", op, operands, result, symbols, letters, joins, table
    )


@cache
def catalog_entry(pattern: tuple[int, ...]) -> dict[str, tuple[tuple[int, ...], ...]]:
    """The memorised rows of one signature: rule -> digit tuples ascending (inventory order of rules)."""
    entry = signature_index().get(pattern, {})
    return {r.name: tuple(sorted(entry[r.name])) for r in INVENTORY if r.name in entry}


@cache
def _joins_puzzle(chosen: frozenset[str], name: str) -> bool:
    """Whether rule ``name`` may join rules ``chosen`` in one puzzle (one mode, distinct groups)."""
    return compatible([*(RULES_BY_NAME[n] for n in chosen), RULES_BY_NAME[name]])


class _OutOfBudget(Exception):
    pass


@dataclass
class _Search:
    examples: list[Example]
    query: Any
    answer: str | None = None
    lines: list[str] = field(default_factory=list)
    digits: dict[str, int] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    trials: int = 0
    chars: int = 0
    last_map: int = -1

    # -- printing
    def map_text(self) -> str:
        pairs = " ".join(f"{s}={d}" for s, d in sorted(self.digits.items(), key=lambda kv: kv[1]))
        rules = ", ".join(f"{op} {rule.name}" for op, rule in self.rules.items())
        return f"map: {pairs or 'none'} rules {rules or 'none'}"

    def emit(self, line: str) -> None:
        if len(self.lines) - self.last_map >= MAP_REFRESH:
            self.emit_map()
        self._append(line)

    def emit_map(self) -> None:
        self.last_map = len(self.lines)
        self._append(self.map_text())

    def _append(self, line: str) -> None:
        self.chars += len(line) + 1
        if self.chars > MAX_CHARS:
            raise _OutOfBudget
        self.lines.append(line)

    def trial(self, line: str) -> None:
        self.trials += 1
        if self.trials > MAX_TRIALS:
            raise _OutOfBudget
        self.emit(line)

    # -- what the map leaves each example
    def allowed(self, op: str, name: str) -> bool:
        if op in self.rules:
            return self.rules[op].name == name
        return _joins_puzzle(frozenset(r.name for r in self.rules.values()), name)

    def mask(self, example: Example) -> tuple[list[str], int]:
        """The example's joins and catalog rows (a bit set over its table) that the map allows."""
        joins = [name for name in example.joins if self.allowed(example.operator, name)]
        table = example.table
        mask = table.full
        for name, members in table.by_rule.items():
            if not self.allowed(example.operator, name):
                mask &= ~members
        used = self.digits.values()
        for k, s in enumerate(example.symbols):
            if not mask:
                break
            if s in self.digits:
                mask &= table.by_digit.get((k, self.digits[s]), 0)
            else:
                for d in used:
                    mask &= ~table.by_digit.get((k, d), 0)
        return joins, mask

    def count(self, example: Example) -> int:
        joins, mask = self.mask(example)
        return len(joins) + mask.bit_count()

    def options(self, example: Example) -> Iterator[tuple[str, tuple[int, ...]]]:
        """The allowed rows in the order they are tried: joins, then the catalog rows (rules by the
        prior of the operator's class, digits ascending)."""
        joins, mask = self.mask(example)
        for name in joins:
            yield name, ()
        while mask:
            low = mask & -mask
            yield example.table.rows[low.bit_length() - 1]
            mask ^= low

    def checkable(self, example: Example) -> bool:
        """Its rule is known and its operands' digits too: one computation settles it."""
        return example.operator in self.rules and (
            self.rules[example.operator].is_join or all(s in self.digits for s in example.operands)
        )

    # -- the search
    def solve(self, pending: list[Example]) -> bool:
        if not pending:
            return self.answer_query()
        check = next((e for e in pending if self.checkable(e)), None)
        if check is not None:
            return self.check(check, [e for e in pending if e is not check])
        counts = {e.number: self.count(e) for e in pending}
        self.emit("left: " + ", ".join(f"e{n} {c}" for n, c in counts.items()))
        example = min(pending, key=lambda e: (counts[e.number], e.number))
        rest = [e for e in pending if e is not example]
        if counts[example.number]:
            self.emit(
                f"next e{example.number} {example.text}: {example.letters}, rows {counts[example.number]}"
            )
            for name, row in self.options(example):
                if self.try_row(example, name, row, rest):
                    return True
        self.emit(f"back from e{example.number}")
        return False

    def answer_query(self) -> bool:
        """At a map that explains every example: the query's rule and value, written in symbols. A
        map under which the answer cannot be written is a dead end like any other."""
        op = self.query.operator
        unseen = op not in self.rules
        for line in _query_rule(self, op):
            self.emit(line)
        rule = self.rules[op]
        if rule.is_join:
            work, answer = compute(rule, self.query.left, self.query.right)
            self.trial(f"query {self.query.text}: {work}")
        else:
            steps = _query_value(self, self.query, rule)
            while True:
                try:
                    self.trial(next(steps))
                except StopIteration as done:
                    answer = done.value
                    break
        if answer is None:
            if unseen:
                del self.rules[op]
            return False
        self.answer = answer
        return True

    def _descend(self, example: Example, new: dict[str, int], rule: Rule | None, rest: list[Example]) -> bool:
        self.digits.update(new)
        if rule is not None:  # a new operator's rule: the map states it with its operator
            self.rules[example.operator] = rule
            self.emit_map()
        if self.solve(rest):
            return True
        for s in new:
            del self.digits[s]
        if rule is not None:
            del self.rules[example.operator]
        self.emit_map()
        return False

    def try_row(self, example: Example, name: str, row: tuple[int, ...], rest: list[Example]) -> bool:
        pairs = dict(zip(example.symbols, row, strict=False))
        shown = "".join(f" {s}={d}" for s, d in pairs.items())
        self.trial(f"e{example.number} row {name}{shown}")
        new = {s: d for s, d in pairs.items() if s not in self.digits}
        rule = None if example.operator in self.rules else RULES_BY_NAME[name]
        return self._descend(example, new, rule, rest)

    def check(self, example: Example, rest: list[Example]) -> bool:
        """Apply the known rule to the known operands and compare with the example's result, symbol by
        symbol: a new symbol takes the digit if no other symbol holds it."""
        rule = self.rules[example.operator]
        if rule.is_join:
            left, right = example.operands[:2], example.operands[2:]
        else:
            left = "".join(str(self.digits[s]) for s in example.operands[:2])
            right = "".join(str(self.digits[s]) for s in example.operands[2:])
        work, printed = compute(rule, left, right)
        line = f"check e{example.number} {example.text}: {work}"
        new: dict[str, int] = {}
        clash = None
        if rule.is_join:
            clash = None if printed == example.result else "differs"
        elif printed is None or len(printed) != len(example.result):
            clash = "length"
        else:
            holder = {d: s for s, d in self.digits.items()}
            for ch, want in zip(printed, example.result, strict=True):
                if (ch == SIGN) != (want == example.operator):
                    clash = "sign"
                    break
                if ch == SIGN:
                    continue
                digit = int(ch)
                known = self.digits.get(want, new.get(want))
                if known is not None and known != digit:
                    clash = f"{want} is {known}"
                    break
                if known is None and holder.get(digit, want) != want:
                    clash = f"{digit} is {holder[digit]}"
                    break
                if known is None:
                    new[want] = digit
                    holder[digit] = want
        if clash:
            self.trial(f"{line}: fail {clash}")
            return False
        self.trial(f"{line}: ok" + "".join(f" {s}={d}" for s, d in new.items()))
        if not new:
            return self.solve(rest)
        return self._descend(example, new, None, rest)


def compute(rule: Rule, left: str, right: str) -> tuple[str, str | None]:
    """One application on digit operands: the work as printed (``flip_mul 13 16 = 208 -> 802``) and
    the result's digits (:data:`SIGN` for the operator character; None where undefined)."""
    if rule.is_join:
        printed = rule.apply(left, right, SIGN)
        return f"{rule.name} {left} {right} -> {printed}", printed
    a, b = (left[::-1], right[::-1]) if rule.flip else (left, right)
    value = rule.value(int(a), int(b))
    printed = rule.apply(left, right, SIGN)
    shown = "none" if printed is None else printed.replace(SIGN, SIGN_MARK)
    return f"{rule.name} {a} {b} = {'none' if value is None else value} -> {shown}", printed


def _query_rule(search: _Search, op: str) -> Iterator[str]:
    """The query operator's rule: known from the examples, else the first of its prior table row
    (the rules the regularities leave it, listed as the numeric traces list them)."""
    if op in search.rules:
        return
    fixed = [r for r in search.rules.values() if not r.is_join]
    modes = {r.flip for r in fixed}
    mode = ("flip" if modes.pop() else "plain") if len(modes) == 1 else "open"
    taken = tuple(sorted({r.group for r in fixed}))
    cls = operator_class(op, False)
    order = prior_order(cls, mode, taken)
    search.rules[op] = RULES_BY_NAME[order[0]]
    yield f"unseen {op}: mode {mode}, taken {' '.join(taken) or 'none'} -> " + " ".join(
        r.name for r in INVENTORY if r.name in order
    )
    yield (
        f"prior {op} ({cls}, {mode}, taken {' '.join(taken) or 'none'}): "
        + ", ".join(order)
        + f" -> {order[0]}"
    )


def _query_value(search: _Search, query, rule: Rule) -> Iterator[str]:
    """Compute the query in digits and write the result in symbols (returned; None when it cannot be).
    Query symbols the map does not fix try the unused digits in turn (ascending): the first whose
    result every digit of which has a symbol is taken."""
    free = list(dict.fromkeys(s for s in query.left + query.right if s not in search.digits))
    unused = [d for d in range(10) if d not in search.digits.values()]
    symbol_of = {d: s for s, d in search.digits.items()}
    for values in permutations(unused, len(free)):
        digits = {**search.digits, **dict(zip(free, values, strict=True))}
        left = "".join(str(digits[s]) for s in query.left)
        right = "".join(str(digits[s]) for s in query.right)
        work, printed = compute(rule, left, right)
        trial = "".join(f" {s}={d}" for s, d in zip(free, values, strict=True))
        head = f"query {query.text}{' try' + trial if free else ''} = {left}{query.operator}{right}: {work}"
        if printed is None:
            yield f"{head}: fail none"
            continue
        shown = printed.replace(SIGN, SIGN_MARK)
        missing = next((ch for ch in printed if ch != SIGN and int(ch) not in symbol_of), None)
        if missing is not None:
            yield f"{head}: fail {missing} has no symbol"
            continue
        answer = "".join(query.operator if ch == SIGN else symbol_of[int(ch)] for ch in printed)
        yield f"{head}: {shown} -> {answer}"
        return answer
    return None


def symbolic_lines(instance) -> Iterator[str]:
    examples = [_example(i, eq, result) for i, (eq, result) in enumerate(instance.examples, start=1)]
    for e in examples:
        yield f"e{e.number} {e.text}: {e.letters}, rows {e.row_count}"
    search = _Search(examples, instance.query)
    try:
        found = search.solve(examples)
    except _OutOfBudget:
        return  # no trace: the search did not finish within its budget
    yield from search.lines
    if found:
        yield f"answer {search.answer}"
        yield boxed(search.answer)


def trace_symbolic(instance) -> str | None:
    return finished(symbolic_lines(instance))


def replay_symbolic(instance, text: str) -> str:
    """Re-execute the procedure on the prompt: every line must be the one it produces."""
    return replay_against(text, symbolic_lines(instance), "the search finds no answer within its budget")


# ---------------------------------------------------------------------------------------------------
# Drills: "memorise, then execute"


@dataclass(frozen=True)
class SymbolicDrills:
    """Drill records for what the equation traces recall, in turn:

    - a catalog entry whole: a signature in, its rows out (entries of at most ``max_rows`` rows);
    - a catalog entry's row count per rule, for any of the 4,205 signatures (signature lines and the
      choice of the next example recall counts);
    - a row of the prior table: an operator class, mode and taken groups in, the rules in order out
      (numeric and symbolic traces break ties and guess unseen operators with it)."""

    family: str = "equation"
    style: str = "stepwise"
    max_rows: int = 40

    def drills(self, rng: random.Random, n: int) -> list[tuple[str, str]]:
        makers = (self._entry, self._counts, self._prior_row)
        return [makers[i % len(makers)](rng) for i in range(n)]

    def _entry(self, rng: random.Random) -> tuple[str, str]:
        pattern = rng.choice(_drillable(self.max_rows))
        letters = signature_text(pattern)
        rows = catalog_entry(pattern)
        body = [f"{letters}: rows {sum(len(v) for v in rows.values())}"]
        body += [
            f"{name}: " + " ".join("".join(map(str, d)) for d in digits) for name, digits in rows.items()
        ]
        return f"Catalog entry for the equation signature {letters}?", "\n".join(body)

    def _counts(self, rng: random.Random) -> tuple[str, str]:
        pattern = rng.choice(_drillable(None))
        letters = signature_text(pattern)
        rows = catalog_entry(pattern)
        per_rule = ", ".join(f"{name} {len(digits)}" for name, digits in rows.items())
        return (
            f"How many catalog rows has the equation signature {letters}?",
            f"{letters}: rows {sum(len(v) for v in rows.values())} ({per_rule})",
        )

    def _prior_row(self, rng: random.Random) -> tuple[str, str]:
        cls = rng.choice(OPERATOR_CLASSES)
        mode = rng.choice(("plain", "flip", "open"))
        taken = tuple(g for g in ARITHMETIC_GROUPS if rng.random() < 0.4)
        row = prior_order(cls, mode, taken)
        return (
            f"Equation prior table: operator class {cls}, mode {mode}, taken {' '.join(taken) or 'none'}?",
            ", ".join(row),
        )


def signature_text(pattern: tuple[int, ...]) -> str:
    """A catalog key as the trace prints it: ``AB CB = ABCB`` (``#`` the operator character)."""
    lhs = "".join(LETTERS[i] for i in pattern[:4])
    result = "".join(SIGN_MARK if i == -1 else LETTERS[i] for i in pattern[5:])
    return f"{lhs[:2]} {lhs[2:]} = {result}"


@cache
def _drillable(max_rows: int | None) -> list[tuple[int, ...]]:
    """The catalog's signatures (those of at most ``max_rows`` rows), in a fixed order."""
    return sorted(
        pattern
        for pattern, entry in signature_index().items()
        if max_rows is None or sum(len(v) for v in entry.values()) <= max_rows
    )


DRILLS = SymbolicDrills()


# ---------------------------------------------------------------------------------------------------
# Step kinds

_EQ = r"(?P<c_eq>\S{5}) = (?P<c_result>\S+)"
_SIG = r"(?P<sig>[A-J]{2} [A-J]{2} = [A-J#]+)"


SYMBOLIC_STEP_KINDS: tuple[StepKind, ...] = (
    StepKind(
        "signature",
        re.compile(rf"e(?P<n>\d) {_EQ}: {_SIG}, rows (?P<rows>\d+)"),
        "rename an example's symbols to letters by first use and recall its catalog row count",
    ),
    StepKind(
        "left",
        re.compile(r"left: (?P<counts>e\d \d+(?:, e\d \d+)*)"),
        "recall, for each example still open, how many of its catalog rows the map allows",
    ),
    StepKind(
        "next",
        re.compile(rf"next e(?P<n>\d) (?P<eq>\S{{5}}) = (?P<result>\S+): {_SIG}, rows (?P<c_rows>\d+)"),
        "take the open example with the fewest rows left (the first on a tie)",
        choice=True,
    ),
    StepKind(
        "row",
        re.compile(r"e(?P<n>\d) row (?P<rule>\w+)(?P<pairs>(?: \S=\d)*)"),
        "recall the next allowed catalog row and write its digits on the example's symbols",
    ),
    StepKind(
        "check",
        re.compile(
            rf"check e(?P<n>\d) {_EQ}: "
            r"(?P<c_rule>\w+) (?P<a>\S\S) (?P<b>\S\S)(?: = (?P<v>-?\d+|none))? "
            r"-> (?P<printed>\S+): (?:ok(?P<fixed>(?: \S=\d)*)|fail (?:length|sign|differs|\S is \S))"
        ),
        "apply a known rule to known operand digits and compare the result with the example, symbol by symbol",
    ),
    StepKind(
        "map",
        re.compile(r"map: (?:none|(?P<c_digits>\S=\d(?: \S=\d)*)) rules (?:none|(?P<c_rules>.+))"),
        "restate the digits and rules fixed so far",
        choice=True,
    ),
    StepKind(
        "back",
        re.compile(r"back from e(?P<n>\d)"),
        "no option of this example fits: return to the previous choice",
    ),
    StepKind(
        "query",
        re.compile(
            r"query (?P<c_eq>\S{5})(?P<trial>(?: try(?: \S=\d)+)?)(?: = (?P<digits>\d\d\S\d\d))?: "
            r"(?P<c_rule>\w+) (?P<a>\S\S) (?P<b>\S\S)(?: = (?P<v>-?\d+|none))? -> (?P<printed>\S+)"
            r"(?:: (?:\S+ -> (?P<answer>\S+)|fail none|fail \d has no symbol))?"
        ),
        "write the query's operands in digits (trying unused digits for symbols the map leaves open), "
        "apply its rule, and write the result back in the map's symbols",
    ),
)
