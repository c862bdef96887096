"""How often each rule serves each kind of operator: the prior that breaks ties between hypotheses.

The counts are aggregates learned from labelled rows by ``scripts/learn_equation_priors.py`` and
shipped as ``reasonlab/data/equation_priors.json``: for every *operator class* (``+``, ``-``, ``*`` in
numeric prompts, where those characters lean towards their usual meaning; ``other`` for every other
numeric operator; ``symbolic`` for all operators of symbolic prompts) the number of operators that
rule explained, split fractionally when several rules fit. No per-row answers are stored.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from reasonlab.puzzles.families.equation_rules import INVENTORY, Rule

PRIORS_RESOURCE = "equation_priors.json"
NUMERIC_CLASSES = ("+", "-", "*")
SMOOTHING = 0.5  # pseudo-count per rule, so that a rule never seen for a class keeps some weight


def operator_class(operator: str, numeric: bool) -> str:
    if not numeric:
        return "symbolic"
    return operator if operator in NUMERIC_CLASSES else "other"


@dataclass(frozen=True, slots=True)
class RulePriors:
    counts: Mapping[str, Mapping[str, float]]  # operator class -> rule name -> count

    def weight(self, rule: Rule, operator: str, numeric: bool) -> float:
        """P(rule | operator class), smoothed."""
        return self.class_weight(operator_class(operator, numeric), rule.name)

    def class_weight(self, cls: str, rule_name: str) -> float:
        table = self.counts.get(cls, {})
        total = sum(table.values()) + SMOOTHING * len(INVENTORY)
        return (table.get(rule_name, 0.0) + SMOOTHING) / total

    def to_json(self) -> dict:
        return {
            "about": (
                "Operators explained by each equation rule, per operator class, counted on labelled rows "
                "(fractional where several rules fit). Aggregate counts only."
            ),
            "counts": {
                cls: {name: round(n, 3) for name, n in sorted(table.items())}
                for cls, table in sorted(self.counts.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping) -> RulePriors:
        counts = data.get("counts")
        if not isinstance(counts, Mapping):
            raise ValueError("equation priors: expected a 'counts' mapping of class -> rule -> count")
        return cls({k: {r: float(n) for r, n in v.items()} for k, v in counts.items()})


UNIFORM = RulePriors({})


@cache
def default_priors() -> RulePriors:
    """The shipped priors (uniform when the data file is missing, e.g. before it is first learned)."""
    path = resources.files("reasonlab.data").joinpath(PRIORS_RESOURCE)
    if not path.is_file():
        return UNIFORM
    return RulePriors.from_json(json.loads(path.read_text()))


def count_rules(
    explained: Iterable[tuple[bool, Mapping[tuple[tuple[str, Rule], ...], float]]], iterations: int = 30
) -> RulePriors:
    """Priors from labelled puzzles by expectation-maximisation.

    ``explained`` gives, per puzzle, whether it is numeric and the rule assignments (as sorted
    (operator, rule) pairs) that fit its examples *and* its gold answer, each with its share of the
    digit-map hypotheses (1 per assignment in numeric puzzles). Each puzzle spreads one count per
    operator over its assignments in proportion to share times weight under the current priors
    (uniform at first); the counts then become the next priors."""
    rows = [
        [
            ([(operator_class(op, numeric), rule.name) for op, rule in key], share)
            for key, share in fitting.items()
        ]
        for numeric, fitting in explained
        if fitting
    ]
    priors = UNIFORM
    for _ in range(iterations):
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for fitting in rows:
            weights = [
                share * math.prod(priors.class_weight(c, name) for c, name in a) for a, share in fitting
            ]
            total = sum(weights)
            for (assignment, _), weight in zip(fitting, weights, strict=True):
                for cls, name in assignment:
                    counts[cls][name] += weight / total
        priors = RulePriors({cls: dict(table) for cls, table in counts.items()})
    return priors
