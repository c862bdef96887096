"""Symbolic equations ("cryptarithms"): every digit 0-9 is written as a secret symbol, so the digit map
and the operators' rules are inferred jointly.

The search is a backtracking constraint solver over the examples. Each example's *signature* is its
pattern of repeated symbols (``AB op CD = result``, the operator character standing for the sign
marker); an index built once per process from every rule's result table maps a signature to the
(rule, digits) pairs that print with that pattern, so an example's candidates are looked up rather than
searched. Examples are taken most-constrained first; each step extends the digit map (one digit per
symbol, one symbol per digit) and fixes the operator's rule under the puzzle regularities. Every
complete hypothesis (digit map, rule per operator) votes for its answer with the prior weight of its
rules. The search is bounded by counts, never by the clock, so a prompt gets the same answer on any
machine: search nodes (:data:`MAX_SEARCH_NODES`), digit maps (:data:`MAX_HYPOTHESES`) and query
hypotheses (:data:`MAX_QUERY_HYPOTHESES`); a cut-short search is never called solved.

The query's result is written back in symbols; a result digit whose symbol never appears in the prompt
cannot be written, and such a hypothesis gives no answer (counted in the solution's details).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import chain, compress, groupby, islice, permutations, repeat
from math import perm
from operator import add, is_not, itemgetter

from reasonlab.puzzles.families.equation_priors import RulePriors
from reasonlab.puzzles.families.equation_rules import (
    INVENTORY,
    RULES_BY_NAME,
    SIGN,
    Rule,
    compatible,
    result_table,
)
from reasonlab.puzzles.families.equation_vote import Tally
from reasonlab.puzzles.types import Solution
from reasonlab.workers import collection_paused

SEPARATOR = "\x01"  # between operands and result in a signature's text (never a prompt character)
UNWRITABLE = "\x02"  # stands for a digit without a symbol when a result is written in symbols
MAX_HYPOTHESES = 5000  # digit maps (with their rules) enumerated per puzzle; dev.csv's largest has 10,120
MAX_SEARCH_NODES = 100_000  # search steps per puzzle; dev.csv's largest search takes about 10,000
MAX_QUERY_HYPOTHESES = 100_000  # (digit map, query digits, query rule) hypotheses voted per puzzle

Signature = tuple[int, ...]  # first-appearance index per character; -1 marker, -2 separator


def signature(text: str) -> tuple[Signature, tuple[str, ...]]:
    """The pattern of repeated characters in ``text`` and its distinct characters in order."""
    seen: dict[str, int] = {}
    pattern = []
    for ch in text:
        if ch == SIGN:
            pattern.append(-1)
        elif ch == SEPARATOR:
            pattern.append(-2)
        else:
            pattern.append(seen.setdefault(ch, len(seen)))
    return tuple(pattern), tuple(seen)


_LABELS = b"abcdefghij"  # a signature's characters while the index is built: one letter per distinct digit
_VALUE = bytes.maketrans(b"0123456789", bytes(range(10)))  # a digit character to its value
# a signature's text to its codes (a label to its number; the separator and the sign to 254 and 255)
_CODES = bytes.maketrans(_LABELS + SEPARATOR.encode() + SIGN.encode(), bytes(range(10)) + b"\xfe\xff")


class _FreshLabels(dict):
    """(result digits absent from the operands, in order of appearance and repeated, then one byte: how
    many labels the operands took) -> (the ``bytes.translate`` table giving those digits the next
    labels, those digits once each); filled on first use, so that C-level ``map`` looks them up."""

    def __missing__(self, key: bytes) -> tuple[bytes, tuple[int, ...]]:
        fresh, known = key[:-1], key[-1]
        order = bytes(dict.fromkeys(fresh))
        self[key] = (
            bytes.maketrans(order, _LABELS[known : known + len(order)]),
            tuple(order.translate(_VALUE)),
        )
        return self[key]


@cache
def signature_index() -> dict[Signature, dict[str, list[tuple[int, ...]]]]:
    """signature -> rule name -> digit tuples (distinct digits in first-appearance order), for every
    non-join rule and every operand pair. Built by C-level ``map`` over each rule's whole result table,
    as bytes: each operand pair's digits are relabelled with one ``bytes.translate`` table per pair,
    then the result's digits absent from the operands with one table per such digit sequence."""
    with collection_paused():
        return _build_signature_index()


def _build_signature_index() -> dict[Signature, dict[str, list[tuple[int, ...]]]]:
    relabels, heads, operand_digits, knowns = [], [], [], []
    for i in range(10000):
        text = f"{i:04d}".encode()
        distinct = bytes(dict.fromkeys(text))
        relabel = bytes.maketrans(distinct, _LABELS[: len(distinct)])
        relabels.append(relabel)
        heads.append(text.translate(relabel) + SEPARATOR.encode())
        operand_digits.append(tuple(distinct.translate(_VALUE)))
        knowns.append(bytes([len(distinct)]))
    index: dict[bytes, dict[str, list[tuple[int, ...]]]] = defaultdict(dict)
    fresh_labels = _FreshLabels()
    labelled = _LABELS + SIGN.encode()  # deleted from a relabelled result: the digits not yet labelled
    for rule in INVENTORY:
        if rule.is_join:
            continue
        table = result_table(rule.name)
        defined = list(map(is_not, table, repeat(None)))
        texts = list(
            map(bytes.translate, map(str.encode, compress(table, defined)), compress(relabels, defined))
        )
        fresh = map(bytes.translate, texts, repeat(None), repeat(labelled))
        labels, extras = zip(
            *map(fresh_labels.__getitem__, map(add, fresh, compress(knowns, defined))), strict=True
        )
        keys = map(add, compress(heads, defined), map(bytes.translate, texts, labels))
        by_key: dict[bytes, list[tuple[int, ...]]] = defaultdict(list)
        for key, digits in zip(keys, map(add, compress(operand_digits, defined), extras), strict=True):
            by_key[key].append(digits)
        for key, tuples in by_key.items():
            index[key][rule.name] = tuples
    return {
        tuple(code - 256 if code > 9 else code for code in key.translate(_CODES)): rules
        for key, rules in index.items()
    }


@dataclass(frozen=True, slots=True)
class Constraint:
    """One example: its operator, symbols in first-appearance order, per rule the digit tuples those
    symbols may take (an empty tuple for the joins, which fix no digit), and those options' table."""

    operator: str
    symbols: tuple[str, ...]
    options: dict[str, list[tuple[int, ...]]]
    table: OptionTable


def constraint(equation, result: str) -> Constraint:
    text = equation.left + equation.right + SEPARATOR + result.replace(equation.operator, SIGN)
    pattern, symbols = signature(text)
    joins = tuple(
        name
        for name, fits in (
            ("join", result == equation.left + equation.right),
            ("join_swap", result == equation.right + equation.left),
        )
        if fits
    )
    options = dict(signature_index().get(pattern, {})) | {name: [()] for name in joins}
    return Constraint(equation.operator, symbols, options, _signature_table(pattern, joins))


@dataclass(frozen=True, slots=True)
class OptionTable:
    """The (rule name, digits) options of one signature, with bit masks over option ids for narrowing:
    ``by_digit[position, digit]`` and ``by_rule[name]`` (Python ints as bit sets)."""

    options: tuple[tuple[str, tuple[int, ...]], ...]
    by_digit: dict[tuple[int, int], int]
    by_rule: dict[str, int]
    by_any_digit: dict[int, int]  # digit -> the options giving it to some symbol

    @property
    def full(self) -> int:
        return (1 << len(self.options)) - 1


_NO_DIGIT = 10  # a digit column's entry for an option with fewer symbols (a join)
# bytes.translate tables turning a digit column into the binary text of the options holding one digit
_HOLDS = [bytes.maketrans(bytes([d]), b"1") for d in range(10)]
_ZERO = bytes.maketrans(bytes(range(10 + 1)), b"0" * (10 + 1))


def _holding(column: bytes, digit: int) -> int:
    """Bit set of the options whose entry in ``column`` is ``digit`` (C-level over the column)."""
    return int(column.translate(_HOLDS[digit]).translate(_ZERO)[::-1], 2)


def option_table(options: tuple[tuple[str, tuple[int, ...]], ...]) -> OptionTable:
    names = list(map(itemgetter(0), options))
    by_rule: dict[str, int] = {}
    start = 0
    for name, run in groupby(names):  # options come grouped by rule: one bit range per group
        count = len(list(run))
        by_rule[name] = by_rule.get(name, 0) | ((1 << count) - 1) << start
        start += count
    rows = list(map(itemgetter(1), options))
    width = max(map(len, rows), default=0)
    if rows and min(map(len, rows)) < width:
        rows = [values + (_NO_DIGIT,) * (width - len(values)) for values in rows]
    by_digit: dict[tuple[int, int], int] = {}
    by_any_digit: dict[int, int] = {}
    for k in range(width):
        column = bytes(map(itemgetter(k), rows))
        for digit in sorted(set(column) - {_NO_DIGIT}):
            by_digit[k, digit] = _holding(column, digit)
            by_any_digit[digit] = by_any_digit.get(digit, 0) | by_digit[k, digit]
    return OptionTable(options, by_digit, by_rule, by_any_digit)


@cache
def _signature_table(pattern: Signature, joins: tuple[str, ...]) -> OptionTable:
    """The option table of every example with this signature and these fitting joins, built once."""
    options = signature_index().get(pattern, {})
    pairs = chain.from_iterable(zip(repeat(name), tuples) for name, tuples in options.items())
    return option_table((*pairs, *((name, ()) for name in joins)))


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@cache
def _compatible_names(chosen: frozenset[str], name: str) -> bool:
    return compatible([*(RULES_BY_NAME[n] for n in chosen), RULES_BY_NAME[name]])


_SCREEN_FROM = 8  # options at a step from which screening them (Search._screen) costs less than trying each


def _kept(table: OptionTable, position: int | None) -> list[int]:
    """Per digit, the options of ``table`` left when a symbol takes that digit: those giving it the digit
    where the example shows the symbol (at ``position``), else those not using the digit at all."""
    if position is None:
        return [~table.by_any_digit.get(v, 0) for v in range(10)]
    return [table.by_digit.get((position, v), 0) for v in range(10)]


@dataclass(slots=True)
class Search:
    """Depth-first enumeration of (digit map, rules) consistent with every constraint, with forward
    checking: each step narrows the remaining examples' options (bit sets of option ids) by the digits
    and rule it fixed, takes the example with the fewest options left next, and backtracks as soon as
    one has none."""

    constraints: list[Constraint]
    limit: int = MAX_HYPOTHESES  # digit maps
    node_limit: int = MAX_SEARCH_NODES
    found: int = 0
    nodes: int = 0
    complete: bool = True
    tables: list[OptionTable] = field(default_factory=list)
    positions: list[dict[str, int]] = field(default_factory=list)  # per constraint: symbol -> its index
    incompatible: dict[tuple[int, frozenset[str]], int] = field(default_factory=dict)
    # per constraint, per symbol of the puzzle, per digit: the options kept when that symbol takes it
    keeps: list[dict[str, list[int]]] = field(default_factory=list)

    def run(self) -> Iterator[tuple[dict[str, int], dict[str, Rule]]]:
        self.tables = [c.table for c in self.constraints]
        self.positions = [{s: k for k, s in enumerate(c.symbols)} for c in self.constraints]
        symbols = {s for c in self.constraints for s in c.symbols}
        self.keeps = [
            {s: _kept(table, position.get(s)) for s in symbols}
            for table, position in zip(self.tables, self.positions, strict=True)
        ]
        pending = {i: t.full for i, t in enumerate(self.tables)}
        if any(not mask for mask in pending.values()):
            return iter(())
        return self._extend({}, {}, pending)

    def _extend(self, digits: dict[str, int], rules: dict[str, Rule], pending: dict[int, int]):
        self.nodes += 1
        if self.found >= self.limit or self.nodes > self.node_limit:
            self.complete = False
            return
        if not pending:
            self.found += 1
            yield dict(digits), dict(rules)
            return
        best = min(pending, key=lambda i: pending[i].bit_count())
        table, c = self.tables[best], self.constraints[best]
        options = pending[best]
        if len(pending) == 1:
            yield from self._complete_maps(table, c, options, digits, rules)
            return
        if options.bit_count() > _SCREEN_FROM:
            options = self._screen(best, options, pending, digits, rules)
        for option in _bits(options):
            name, values = table.options[option]
            fixed = {s: v for s, v in zip(c.symbols, values, strict=False) if s not in digits}
            fresh_rule = c.operator not in rules
            rules[c.operator] = RULES_BY_NAME[name]
            digits.update(fixed)
            narrowed = self._narrow(pending, best, fixed, rules, c.operator if fresh_rule else None)
            if narrowed is not None:
                yield from self._extend(digits, rules, narrowed)
            for s in fixed:
                del digits[s]
            if fresh_rule:
                del rules[c.operator]
            if not self.complete:
                return

    def _complete_maps(self, table: OptionTable, c: Constraint, options: int, digits, rules):
        """The last example's options, each completing a digit map: the steps :meth:`_extend` would take
        for them (a node each, budgets checked first), without a nested search per option."""
        for option in _bits(options):
            self.nodes += 1
            if self.found >= self.limit or self.nodes > self.node_limit:
                self.complete = False
                return
            self.found += 1
            name, values = table.options[option]
            completed = dict(digits)
            for s, v in zip(c.symbols, values, strict=False):
                completed.setdefault(s, v)
            yield completed, {**rules, c.operator: RULES_BY_NAME[name]}

    def _screen(self, best: int, options: int, pending: dict[int, int], digits, rules) -> int:
        """``options`` of example ``best`` less those that :meth:`_narrow` would reject for one of their
        digits or their rule alone (a symbol's digit, or a fresh rule, that leaves another example no
        option), found per (symbol, digit) rather than per option. Only options that would fail are
        dropped, so the search takes the same steps and counts the same nodes."""
        table, c = self.tables[best], self.constraints[best]
        fresh = [(k, s) for k, s in enumerate(c.symbols) if s not in digits]
        fresh_rule = c.operator not in rules
        for i, mask in pending.items():
            if i == best:
                continue
            keep = self.keeps[i]
            for k, s in fresh:
                kept = keep[s]
                for v in range(10):
                    giving = table.by_digit.get((k, v), 0) & options
                    if giving and not mask & kept[v]:
                        options &= ~giving
            if fresh_rule and self.constraints[i].operator == c.operator:
                other = self.tables[i].by_rule
                for name, members in table.by_rule.items():
                    if members & options and not mask & other.get(name, 0):
                        options &= ~members
        return options

    def _narrow(self, pending, done: int, fixed: dict[str, int], rules: dict[str, Rule], new_operator):
        """The other examples' options still possible after fixing ``fixed`` digits (and the rule of
        ``new_operator``, when this step chose one); None when some example has none left. A newly fixed
        symbol keeps, in an example showing it, the options giving it that digit, and elsewhere removes
        the options using that digit (one digit per symbol): :attr:`keeps`."""
        chosen = frozenset(rule.name for rule in rules.values()) if new_operator is not None else None
        narrowed = {}
        for i, mask in pending.items():
            if i == done:
                continue
            keep = self.keeps[i]
            for s, v in fixed.items():
                mask &= keep[s][v]
            if new_operator is not None:
                c = self.constraints[i]
                if c.operator == new_operator:
                    mask &= self.tables[i].by_rule.get(rules[new_operator].name, 0)
                elif c.operator not in rules:
                    mask &= ~self._incompatible_options(i, chosen)
            if not mask:
                return None
            narrowed[i] = mask
        return narrowed

    def _incompatible_options(self, i: int, chosen: frozenset[str]) -> int:
        """Example ``i``'s options whose rule cannot join the ``chosen`` rules in one puzzle."""
        key = (i, chosen)
        if key not in self.incompatible:
            excluded = 0
            for name, members in self.tables[i].by_rule.items():
                if not _compatible_names(chosen, name):
                    excluded |= members
            self.incompatible[key] = excluded
        return self.incompatible[key]


_ALL_DIGITS = frozenset(range(10))
_DIGIT_CODE = [ord("0") + d for d in range(10)]  # a digit's character code, as str.translate sees it


@cache
def printable_table(rule_name: str) -> tuple[str, ...]:
    """:func:`result_table` with :data:`UNWRITABLE` where the rule is undefined, so that every entry
    can be written in symbols (and comes out unwritable where undefined)."""
    return tuple(UNWRITABLE if result is None else result for result in result_table(rule_name))


def render(result: str, digits: dict[str, int], operator: str) -> str | None:
    """A result in digits (:data:`SIGN` for the sign) written in the prompt's symbols; None if some digit's
    symbol is unknown."""
    symbol_of = {d: s for s, d in digits.items()}
    out = []
    for ch in result:
        if ch == SIGN:
            out.append(operator)
        elif int(ch) in symbol_of:
            out.append(symbol_of[int(ch)])
        else:
            return None
    return "".join(out)


def query_answers(
    query, digits: dict[str, int], rules: dict[str, Rule]
) -> Iterator[tuple[Rule, dict[str, int], str | None, float]]:
    """(query rule, digit map completed over the query's symbols, answer or None, share) for one
    hypothesis: query symbols never seen in the examples range over the unused digits, each
    completion sharing the hypothesis' weight equally; an unseen operator ranges over the rules
    the regularities leave open."""
    free = [s for s in dict.fromkeys(query.left + query.right) if s not in digits]
    unused = [d for d in range(10) if d not in digits.values()]
    completions = list(_assign(free, unused))
    query_rules = (
        [rules[query.operator]]
        if query.operator in rules
        else [rule for rule in INVENTORY if compatible([*rules.values(), rule])]
    )
    for extra in completions:
        full = {**digits, **extra}
        left = "".join(str(full[s]) for s in query.left)
        right = "".join(str(full[s]) for s in query.right)
        for rule in query_rules:
            if rule.is_join:
                answer = rule.apply(query.left, query.right, query.operator)
            else:
                result = rule.apply(left, right, SIGN)
                answer = None if result is None else render(result, full, query.operator)
            yield rule, full, answer, 1.0 / len(completions)


def _assign(symbols: list[str], digits: list[int]) -> Iterator[dict[str, int]]:
    if not symbols:
        yield {}
        return
    for d in digits:
        for rest in _assign(symbols[1:], [x for x in digits if x != d]):
            yield {symbols[0]: d, **rest}


def hypotheses(instance, *, limit: int = MAX_HYPOTHESES):
    """(rules incl. the query's, answer or None, weight share, digit map) per hypothesis, and the
    search (whose ``complete`` says whether the enumeration was exhaustive). Bounded by ``limit`` digit
    maps and :data:`MAX_SEARCH_NODES` search steps, like the solver."""
    constraints = [constraint(eq, result) for eq, result in instance.examples]
    search = Search(constraints, limit)

    def generate():
        for digits, rules in search.run():
            for rule, full, answer, share in query_answers(instance.query, digits, rules):
                yield {**rules, instance.query.operator: rule}, answer, share, full

    return generate(), search


def solve_symbolic(instance, priors: RulePriors) -> Solution:
    """The prior-weighted vote over every (digit map, rules) hypothesis fitting the examples: the vote of
    :func:`hypotheses` and :func:`query_answers`, counted without building each hypothesis.

    Weights are added per hypothesis in the order :func:`hypotheses` yields them, so every sum is the
    same float; the hypothesis shown as evidence (the first of the heaviest giving the winning answer)
    is only located during the vote, and built at the end."""
    query = instance.query
    operator = query.operator
    search = Search([constraint(eq, result) for eq, result in instance.examples])
    tally = Tally()
    weights = tally.weights
    unwritable = 0.0
    voted = unwritable_votes = 0
    prior_of: dict[tuple, float] = {}  # many digit maps share one rule assignment: weigh each once
    positions = query.left + query.right
    query_symbols = list(dict.fromkeys(positions))
    heaviest: dict[str, float] = {}  # per answer, its heaviest hypothesis' weight
    heaviest_at: dict[str, tuple[int, int, Rule]] = {}  # ... and where: digit map, completion, query rule
    maps: list[tuple[dict[str, int], dict[str, Rule], list[str], list[int]]] = []
    choices_of: dict[tuple[tuple, int], list[tuple[Rule, tuple[str, ...] | None, str | None, float]]] = {}
    place_of: dict[tuple[str, ...], list[int]] = {}
    first, second, third, fourth = positions
    # str.translate table: '0'-'9' to symbols (UNWRITABLE where the digit has none), SIGN to the operator
    unwritten = [UNWRITABLE] * (ord("9") + 1)
    unwritten[ord(SIGN)] = operator
    for digits, rules in search.run():
        free = [s for s in query_symbols if s not in digits]
        unused = sorted(_ALL_DIGITS.difference(digits.values()))
        completions = perm(len(unused), len(free))
        if not completions:
            continue  # more unseen query symbols than unused digits
        number = len(maps)
        maps.append((digits, rules, free, unused))
        rules_key = tuple(sorted((op, rule.name) for op, rule in rules.items()))
        choices = choices_of.get((rules_key, completions))
        if choices is None:  # the same for every digit map with these rules and as many completions
            choices = choices_of[rules_key, completions] = []
            for rule in (
                [rules[operator]]
                if operator in rules
                else [rule for rule in INVENTORY if compatible([*rules.values(), rule])]
            ):
                assigned = {**rules, operator: rule}
                key = tuple(sorted((op, r.name) for op, r in assigned.items()))
                if key not in prior_of:
                    prior_of[key] = priors.assignment_weight(assigned, False)
                # a join's answer needs no digits; any other rule's comes from its printable table
                join_answer = rule.apply(query.left, query.right, operator) if rule.is_join else None
                table = None if rule.is_join else printable_table(rule.name)
                choices.append((rule, table, join_answer, (1.0 / completions) * prior_of[key]))
        # the query's operand digits as a number (100*left + right): fixed part plus the free symbols' part
        known = digits.get
        base = 1000 * known(first, 0) + 100 * known(second, 0) + 10 * known(third, 0) + known(fourth, 0)
        place = place_of.get(tuple(free))
        if place is None:
            place = place_of[tuple(free)] = [
                sum(10 ** (3 - k) for k, t in enumerate(positions) if t == s) for s in free
            ]
        writing = unwritten.copy()
        for s, d in digits.items():
            writing[_DIGIT_CODE[d]] = s
        for completion, index in enumerate(_complete(writing, free, place, unused, base)):
            for rule, table, answer, weight in choices:
                if table is not None:
                    answer = table[index].translate(writing)
                    if UNWRITABLE in answer:
                        unwritable += weight
                        unwritable_votes += 1
                        continue
                weights[answer] += weight
                if weight > heaviest.get(answer, -1.0):  # weights are never negative
                    heaviest[answer] = weight
                    heaviest_at[answer] = (number, completion, rule)
        voted += completions * len(choices)
        if voted > MAX_QUERY_HYPOTHESES:
            search.complete = False
            break
    tally.hypotheses = voted - unwritable_votes
    if weights:
        leader = tally.leader()
        number, completion, rule = heaviest_at[leader]
        digits, rules, free, unused = maps[number]
        extra = next(islice(permutations(unused, len(free)), completion, None))
        full = {**digits, **dict(zip(free, extra, strict=True))}
        evidence = {s: full[s] for s in sorted(full)}
        tally.best[leader] = (heaviest[leader], {**rules, operator: rule}, evidence)
    note = "" if search.complete else f"search cut short after {search.found} digit maps"
    return _verdict(tally, unwritable, note, search.complete)


def _complete(writing: list[str], free: list[str], place: list[int], unused: list[int], index: int):
    """Every completion of a digit map over the ``free`` query symbols, in :func:`permutations` order
    of the ``unused`` digits: yields the query's result table index while ``writing`` maps the
    completion's digits to their symbols (restored afterwards). Nested, so that each level's
    symbol is written once per digit it takes rather than once per completion."""
    if not free:
        yield index
        return
    symbol, rest, step, places = free[0], free[1:], place[0], place[1:]
    for d in unused:
        writing[_DIGIT_CODE[d]] = symbol
        if rest:
            yield from _complete(writing, rest, places, [x for x in unused if x != d], index + step * d)
        else:
            yield index + step * d
        writing[_DIGIT_CODE[d]] = UNWRITABLE


def solve_given(query, digits: dict[str, int], rules: dict[str, Rule], priors: RulePriors) -> Solution:
    """The solver's vote on ``query`` when the examples' digit map and their operators' rules are given (a
    generator knows them): only the query's unseen symbols and unseen operator stay open, weighed as
    :func:`solve_symbolic` weighs them. Whether other digit maps or rules also fit is not searched.
    Unsolved when the query needs digits the examples leave open (symbols they never show, with more
    than one way to give them the unused digits): its answer would be a guess."""
    free = {s for s in query.left + query.right if s not in digits}
    if free and not len(free) == 10 - len(digits) == 1:
        return Solution.unsolved("the examples do not fix the digits of the query's symbols")
    found = (
        ({**rules, query.operator: rule}, answer, share, full)
        for rule, full, answer, share in query_answers(query, digits, rules)
    )
    return _vote(found, priors, note="", complete=lambda: True)


def _vote(found, priors: RulePriors, *, note: str, complete) -> Solution:
    tally = Tally()
    unwritable = 0.0
    prior_of: dict[tuple, float] = {}  # many digit maps share one rule assignment: weigh each once
    for rules, answer, share, digits in found:
        key = tuple(sorted((op, rule.name) for op, rule in rules.items()))
        if key not in prior_of:
            prior_of[key] = priors.assignment_weight(rules, False)
        weight = share * prior_of[key]
        if answer is None:
            unwritable += weight
            continue
        tally.add(answer, weight, rules, {s: digits[s] for s in sorted(digits)})
    return _verdict(tally, unwritable, note, complete())


def _verdict(tally: Tally, unwritable: float, note: str, complete: bool) -> Solution:
    if not tally.weights:
        if unwritable:
            return Solution.unsolved("the answer needs a digit whose symbol never appears in the prompt")
        return Solution.unsolved(note or "no digit map and rules fit the examples")
    solution = tally.verdict(note=note, exhaustive=complete and not unwritable)
    solution.details["unwritable_share"] = round(unwritable / (unwritable + sum(tally.weights.values())), 4)
    return solution
