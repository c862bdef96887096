"""Numeric equations: the operands' digits are visible, so each operator's rule is read off directly.

Per operator, the rules of the inventory that reproduce all of its examples; jointly, every choice of
one rule per operator that the puzzle regularities allow (:func:`equation_rules.compatible`), each
weighted by the rules' priors; the query's answer is the heaviest vote. An operator absent from the
examples (a *guess* row) may take any rule the regularities leave open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from reasonlab.puzzles.families.equation_priors import RulePriors
from reasonlab.puzzles.families.equation_rules import INVENTORY, Rule, assignments
from reasonlab.puzzles.families.equation_vote import Tally
from reasonlab.puzzles.types import Solution


def examples_by_operator(instance) -> dict[str, list[tuple[object, str]]]:
    grouped: dict[str, list] = defaultdict(list)
    for equation, result in instance.examples:
        grouped[equation.operator].append((equation, result))
    return dict(grouped)


def consistent_rules(operator: str, examples) -> list[Rule]:
    return [
        rule
        for rule in INVENTORY
        if all(rule.apply(eq.left, eq.right, operator) == result for eq, result in examples)
    ]


def hypotheses(instance) -> Iterator[tuple[dict[str, Rule], str | None]]:
    """Every rule assignment fitting the examples and the regularities, with its answer to the query.

    Yields nothing when some operator fits no rule of the inventory."""
    query = instance.query
    candidates = {op: consistent_rules(op, exs) for op, exs in examples_by_operator(instance).items()}
    if any(not rules for rules in candidates.values()):
        return
    if query.operator not in candidates:
        candidates[query.operator] = list(INVENTORY)
    for rules in assignments(candidates):
        yield rules, rules[query.operator].apply(query.left, query.right, query.operator)


def solve_numeric(instance, priors: RulePriors) -> Solution:
    tally = Tally()
    for rules, answer in hypotheses(instance):
        if answer is not None:
            weight = priors.assignment_weight(rules, True)
            tally.add(answer, weight, rules)
    if not tally.hypotheses:
        for op, exs in examples_by_operator(instance).items():
            if not consistent_rules(op, exs):
                return Solution.unsolved(f"no rule of the inventory fits operator {op!r}")
    return tally.verdict(
        note="" if tally.hypotheses else "the operators' rules break the puzzle regularities"
    )
