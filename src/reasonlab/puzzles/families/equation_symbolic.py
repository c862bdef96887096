"""Symbolic equations ("cryptarithms"): every digit 0-9 is written as a secret symbol, so the digit map
and the operators' rules are inferred jointly.

The search is a backtracking constraint solver over the examples. Each example's *signature* is its
pattern of repeated symbols (``AB op CD = result``, the operator character standing for the sign
marker); an index built once per process from every rule's result table maps a signature to the
(rule, digits) pairs that print with that pattern, so an example's candidates are looked up rather than
searched. Examples are taken most-constrained first; each step extends the digit map (one digit per
symbol, one symbol per digit) and fixes the operator's rule under the puzzle regularities. Every
complete hypothesis (digit map, rule per operator) votes for its answer with the prior weight of its
rules; the search is bounded (hypotheses and time), and a cut-short search is never called solved.

The query's result is written back in symbols; a result digit whose symbol never appears in the prompt
cannot be written, and such a hypothesis gives no answer (counted in the solution's details).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

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

SEPARATOR = "\x01"  # between operands and result in a signature's text (never a prompt character)
MAX_HYPOTHESES = 5000
TIME_BUDGET_S = 0.5

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


@cache
def signature_index() -> dict[Signature, dict[str, list[tuple[int, ...]]]]:
    """signature -> rule name -> digit tuples (distinct digits in first-appearance order), for every
    non-join rule and every operand pair."""
    index: dict[Signature, dict[str, list[tuple[int, ...]]]] = defaultdict(lambda: defaultdict(list))
    for rule in INVENTORY:
        if rule.is_join:
            continue
        for i, result in enumerate(result_table(rule.name)):
            if result is None:
                continue
            pattern, digits = signature(f"{i:04d}{SEPARATOR}{result}")
            index[pattern][rule.name].append(tuple(map(int, digits)))
    return {k: dict(v) for k, v in index.items()}


@dataclass(frozen=True, slots=True)
class Constraint:
    """One example: its operator, symbols in first-appearance order, and per rule the digit tuples
    those symbols may take (an empty tuple for the joins, which fix no digit)."""

    operator: str
    symbols: tuple[str, ...]
    options: dict[str, list[tuple[int, ...]]]


def constraint(equation, result: str) -> Constraint:
    text = equation.left + equation.right + SEPARATOR + result.replace(equation.operator, SIGN)
    pattern, symbols = signature(text)
    options = dict(signature_index().get(pattern, {}))
    if result == equation.left + equation.right:
        options["join"] = [()]
    if result == equation.right + equation.left:
        options["join_swap"] = [()]
    return Constraint(equation.operator, symbols, options)


@dataclass(frozen=True, slots=True)
class OptionTable:
    """The (rule name, digits) options of one signature, with bit masks over option ids for narrowing:
    ``by_digit[position, digit]`` and ``by_rule[name]`` (Python ints as bit sets)."""

    options: tuple[tuple[str, tuple[int, ...]], ...]
    by_digit: dict[tuple[int, int], int]
    by_rule: dict[str, int]

    @property
    def full(self) -> int:
        return (1 << len(self.options)) - 1


def _mask(ids: list[int], size: int) -> int:
    bits = bytearray((size + 7) // 8)
    for i in ids:
        bits[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bits, "little")


@cache
def option_table(options: tuple[tuple[str, tuple[int, ...]], ...]) -> OptionTable:
    by_digit: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_rule: dict[str, list[int]] = defaultdict(list)
    for i, (name, values) in enumerate(options):
        by_rule[name].append(i)
        for k, v in enumerate(values):
            by_digit[k, v].append(i)
    n = len(options)
    return OptionTable(
        options,
        {k: _mask(ids, n) for k, ids in by_digit.items()},
        {k: _mask(ids, n) for k, ids in by_rule.items()},
    )


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@cache
def _compatible_names(chosen: frozenset[str], name: str) -> bool:
    return compatible([*(RULES_BY_NAME[n] for n in chosen), RULES_BY_NAME[name]])


@dataclass(slots=True)
class Search:
    """Depth-first enumeration of (digit map, rules) consistent with every constraint, with forward
    checking: each step narrows the remaining examples' options (bit sets of option ids) by the digits
    and rule it fixed, takes the example with the fewest options left next, and backtracks as soon as
    one has none."""

    constraints: list[Constraint]
    deadline: float
    limit: int
    found: int = 0
    complete: bool = True
    tables: list[OptionTable] = field(default_factory=list)

    def run(self) -> Iterator[tuple[dict[str, int], dict[str, Rule]]]:
        self.tables = [
            option_table(tuple((n, v) for n, vs in c.options.items() for v in vs)) for c in self.constraints
        ]
        pending = {i: t.full for i, t in enumerate(self.tables)}
        if any(not mask for mask in pending.values()):
            return iter(())
        return self._extend({}, {}, pending)

    def _extend(self, digits: dict[str, int], rules: dict[str, Rule], pending: dict[int, int]):
        if self.found >= self.limit or time.perf_counter() > self.deadline:
            self.complete = False
            return
        if not pending:
            self.found += 1
            yield dict(digits), dict(rules)
            return
        best = min(pending, key=lambda i: pending[i].bit_count())
        table, c = self.tables[best], self.constraints[best]
        for option in _bits(pending[best]):
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

    def _narrow(self, pending, done: int, fixed: dict[str, int], rules: dict[str, Rule], new_operator):
        """The other examples' options still possible after fixing ``fixed`` digits (and the rule of
        ``new_operator``, when this step chose one); None when some example has none left."""
        taken = set(fixed.values())
        chosen = frozenset(rule.name for rule in rules.values())
        narrowed = {}
        for i, mask in pending.items():
            if i == done:
                continue
            table, c = self.tables[i], self.constraints[i]
            for k, s in enumerate(c.symbols):
                if s in fixed:
                    mask &= table.by_digit.get((k, fixed[s]), 0)
                else:
                    for t in taken:
                        mask &= ~table.by_digit.get((k, t), 0)
            if new_operator is not None:
                if c.operator == new_operator:
                    mask &= table.by_rule.get(rules[new_operator].name, 0)
                elif c.operator not in rules:
                    for name, members in table.by_rule.items():
                        if not _compatible_names(chosen, name):
                            mask &= ~members
            if not mask:
                return None
            narrowed[i] = mask
        return narrowed


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


def hypotheses(instance, *, time_budget: float = TIME_BUDGET_S, limit: int = MAX_HYPOTHESES):
    """(rules incl. the query's, answer or None, weight share, digit map) per hypothesis, and the
    search (whose ``complete`` says whether the enumeration was exhaustive)."""
    constraints = [constraint(eq, result) for eq, result in instance.examples]
    search = Search(constraints, time.perf_counter() + time_budget, limit)

    def generate():
        for digits, rules in search.run():
            for n, (rule, full, answer, share) in enumerate(query_answers(instance.query, digits, rules)):
                yield {**rules, instance.query.operator: rule}, answer, share, full
                if n % 256 == 255 and time.perf_counter() > search.deadline:
                    break
            if time.perf_counter() > search.deadline:
                search.complete = False
                return

    return generate(), search


def solve_symbolic(instance, priors: RulePriors) -> Solution:
    found, search = hypotheses(instance)
    note = ""
    if not search.complete:
        note = f"search cut short after {search.found} digit maps"
    return _vote(found, priors, note=note, complete=lambda: search.complete)


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
    if not tally.weights:
        if unwritable:
            return Solution.unsolved("the answer needs a digit whose symbol never appears in the prompt")
        return Solution.unsolved(note or "no digit map and rules fit the examples")
    solution = tally.verdict(note=note, exhaustive=complete() and not unwritable)
    solution.details["unwritable_share"] = round(unwritable / (unwritable + sum(tally.weights.values())), 4)
    return solution
