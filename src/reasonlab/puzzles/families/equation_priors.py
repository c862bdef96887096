"""How often each rule serves each kind of operator: the prior that breaks ties between hypotheses.

The counts are aggregates learned from labelled rows by ``scripts/learn_equation_priors.py`` and
shipped as ``reasonlab/data/equation_priors.json``: for every *operator class* (``+``, ``-``, ``*`` and
``other`` in numeric prompts; ``symbolic +``, ``symbolic -``, ``symbolic *`` and ``symbolic`` in
symbolic ones: the standard characters lean towards their usual group in both) the number of
operators each rule explained, split by expectation-maximisation where several rules fit; per
puzzle style the puzzles in flip and in plain mode; and for numeric puzzles how many of their
arithmetic operators kept their plain meaning, observed against what independent choices would give.
No ids, prompts or answers are stored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from reasonlab.puzzles.families.equation_rules import INVENTORY, RULES_BY_NAME, Rule

PRIORS_RESOURCE = "equation_priors.json"
STANDARD_OPERATORS = ("+", "-", "*")
SMOOTHING = 0.5  # pseudo-count per rule, so that a rule never seen for a class keeps some weight
# A numeric class's own variant shares, shrunk towards the shares pooled over all numeric classes by
# this many pseudo-operators: '-' prefers the prefixed sign variants, other characters the suffixed
# ones, but a class's few operators per group need the pooled shares behind them (chosen by repeated
# 2-fold cross-validation; 15-50 score alike).
CLASS_VARIANT_PSEUDO = 30.0
# Pseudo-count on both sides of the observed/expected ratio of plain-meaning counts (same validation).
PLAIN_COUNT_SMOOTHING = 2.0


KINDS = ("numeric", "symbolic")


def _kind(operator_class: str) -> str:
    return "symbolic" if operator_class.startswith("symbolic") else "numeric"


OPERATOR_CLASSES = (
    *STANDARD_OPERATORS,
    "other",
    *(f"symbolic {op}" for op in STANDARD_OPERATORS),
    "symbolic",
)
STYLES = ("symbolic", "standard 0", "standard 1", "standard 2", "standard 3")


def puzzle_style(classes: Iterable[str]) -> str:
    """``symbolic``, or for a numeric puzzle how many of its operators are ``+ - *``."""
    classes = list(classes)
    if any(_kind(cls) == "symbolic" for cls in classes):
        return "symbolic"
    return f"standard {min(3, sum(cls in STANDARD_OPERATORS for cls in classes))}"


def operator_class(operator: str, numeric: bool) -> str:
    """``+``, ``-``, ``*`` or ``other`` in numeric prompts; ``symbolic +`` ... ``symbolic`` likewise in
    symbolic ones (the standard characters lean towards their usual group in both)."""
    standard = operator if operator in STANDARD_OPERATORS else None
    if numeric:
        return standard or "other"
    return f"symbolic {standard}" if standard else "symbolic"


ARITHMETIC_GROUPS = ("add", "sub", "mul")
PLAIN_RULES = {(r.group, r.flip): r.name for r in INVENTORY if r.plain_meaning}


def plain_key(pairs: Sequence[tuple[str, Rule]]) -> str | None:
    """``flip 3``, ``plain 2``, ...: the mode and number of a numeric puzzle's arithmetic operators, the
    context of its plain-meaning count (None for symbolic puzzles, under two arithmetic operators or
    in mixed modes)."""
    if any(_kind(cls) == "symbolic" for cls, _ in pairs):
        return None
    arithmetic = [rule for _, rule in pairs if not rule.is_join]
    if len(arithmetic) < 2 or len({r.flip for r in arithmetic}) > 1:
        return None
    return f"{'flip' if arithmetic[0].flip else 'plain'} {len(arithmetic)}"


def _count_distribution(probabilities: Iterable[float]) -> list[float]:
    """P(exactly k of independent events happen), k = 0..n."""
    dist = [1.0]
    for p in probabilities:
        dist = [a * (1 - p) + b * p for a, b in zip([*dist, 0.0], [0.0, *dist], strict=True)]
    return dist


@dataclass(frozen=True, slots=True)
class RulePriors:
    """Rule counts per operator class, read as a generative model of a puzzle's rules.

    Each operator of class ``c`` is a join with probability ``join_share[c]`` (then join or join_swap
    by ``join_variant[c]``); otherwise it takes one of the arithmetic groups the puzzle's other
    operators left free, in proportion to the class's ``group_affinity``, and a variant of that group
    in the puzzle's flip mode by ``class_variant`` (numeric classes: their own shares shrunk towards
    the pooled ``variant``). The puzzle's mode is flip with probability ``flip_share[style]``, where
    the style of a numeric puzzle is how many of its operators are ``+ - *`` (puzzles with two or
    three of them are nearly always in flip mode).

    Numeric puzzles with two or three arithmetic operators also weigh how many of them keep their
    plain meaning (:attr:`Rule.plain_meaning`): the data show nearly always exactly one, far more than
    independent choices give, so an assignment is weighted by ``plain_ratio[key][k]``, the observed
    over the independently expected number of puzzles with ``k`` plain meanings (``key`` =
    mode and operator count). All of it is derived from ``counts``, ``modes`` and ``plain_counts``."""

    counts: Mapping[str, Mapping[str, float]]  # operator class -> rule name -> count
    modes: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # style -> flip|plain -> count
    # "flip 3" -> {"observed": [puzzles with k plain meanings], "expected": [same if independent]}
    plain_counts: Mapping[str, Mapping[str, Sequence[float]]] = field(default_factory=dict)
    join_share: dict[str, float] = field(init=False)
    join_variant: dict[str, dict[str, float]] = field(init=False)
    group_affinity: dict[str, dict[str, float]] = field(init=False)
    variant: dict[tuple[str, str, bool], dict[str, float]] = field(init=False)
    class_variant: dict[tuple[str, str, bool], dict[str, float]] = field(init=False)
    flip_share: dict[str, float] = field(init=False)
    plain_ratio: dict[str, list[float]] = field(init=False)

    def __post_init__(self) -> None:
        def smoothed(table: Mapping[str, float], keys) -> dict[str, float]:
            total = sum(table.get(k, 0.0) + SMOOTHING for k in keys)
            return {k: (table.get(k, 0.0) + SMOOTHING) / total for k in keys}

        joins = [r.name for r in INVENTORY if r.is_join]
        classes = set(self.counts) | set(OPERATOR_CLASSES)
        join_share, join_variant, affinity = {}, {}, {}
        for cls in classes:
            table = self.counts.get(cls, {})
            by_group = defaultdict(float)
            for rule in INVENTORY:
                by_group[rule.group] += table.get(rule.name, 0.0)
            join_share[cls] = (by_group["join"] + SMOOTHING) / (sum(by_group.values()) + 2 * SMOOTHING)
            join_variant[cls] = smoothed(table, joins)
            affinity[cls] = smoothed(by_group, ARITHMETIC_GROUPS)
        variant = {}
        for kind in KINDS:
            pooled = defaultdict(float)
            for cls, table in self.counts.items():
                if _kind(cls) == kind:
                    for name, n in table.items():
                        pooled[name] += n
            for group in ARITHMETIC_GROUPS:
                for flip in (False, True):
                    names = [r.name for r in INVENTORY if r.group == group and r.flip == flip]
                    variant[kind, group, flip] = smoothed(pooled, names)

        class_variant = {}
        for cls in classes:
            kind = _kind(cls)
            table = self.counts.get(cls, {})
            for group in ARITHMETIC_GROUPS:
                for flip in (False, True):
                    pooled = variant[kind, group, flip]
                    if kind == "symbolic":  # kept pooled: validated on numeric puzzles only
                        class_variant[cls, group, flip] = pooled
                        continue
                    seen = sum(table.get(name, 0.0) for name in pooled)
                    class_variant[cls, group, flip] = {
                        name: (table.get(name, 0.0) + CLASS_VARIANT_PSEUDO * share)
                        / (seen + CLASS_VARIANT_PSEUDO)
                        for name, share in pooled.items()
                    }
        plain_ratio = {
            key: [
                (seen + PLAIN_COUNT_SMOOTHING) / (expected + PLAIN_COUNT_SMOOTHING)
                for seen, expected in zip(table["observed"], table["expected"], strict=True)
            ]
            for key, table in self.plain_counts.items()
        }

        object.__setattr__(self, "join_share", join_share)
        object.__setattr__(self, "join_variant", join_variant)
        object.__setattr__(self, "group_affinity", affinity)
        object.__setattr__(self, "variant", variant)
        object.__setattr__(self, "class_variant", class_variant)
        object.__setattr__(self, "plain_ratio", plain_ratio)
        flip_share = {
            style: (self.modes.get(style, {}).get("flip", 0.0) + SMOOTHING)
            / (sum(self.modes.get(style, {}).values()) + 2 * SMOOTHING)
            for style in STYLES
        }
        object.__setattr__(self, "flip_share", flip_share)

    def assignment_weight(self, rules: Mapping[str, Rule], numeric: bool) -> float:
        """Prior probability of one rule per operator (``rules``: operator -> rule)."""
        return self.class_assignment_weight([(operator_class(op, numeric), r) for op, r in rules.items()])

    def class_assignment_weight(self, pairs: Sequence[tuple[str, Rule]]) -> float:
        weight = 1.0
        modes = set()
        for i, (cls, rule) in enumerate(pairs):
            share = self.join_share[cls]
            if rule.is_join:
                weight *= share * self.join_variant[cls][rule.name]
                continue
            modes.add(rule.flip)
            taken = {r.group for j, (_, r) in enumerate(pairs) if j != i and not r.is_join}
            affinity = self.group_affinity[cls]
            free = sum(affinity[g] for g in ARITHMETIC_GROUPS if g not in taken)
            weight *= (
                (1 - share)
                * affinity[rule.group]
                / free
                * self.class_variant[cls, rule.group, rule.flip][rule.name]
            )
        share = self.flip_share[puzzle_style(cls for cls, _ in pairs)]
        for flip in modes:
            weight *= share if flip else 1 - share
        return weight * self.plain_factor(pairs)

    def plain_factor(self, pairs: Sequence[tuple[str, Rule]]) -> float:
        """``plain_ratio`` for the number of these operators that keep their plain meaning (1 where
        no ratio applies)."""
        ratio = self.plain_ratio.get(plain_key(pairs))
        return ratio[sum(rule.plain_meaning for _, rule in pairs)] if ratio else 1.0

    def expected_plain_counts(self, pairs: Sequence[tuple[str, Rule]]) -> list[float]:
        """How many of these operators would keep their plain meaning (k = 0..n arithmetic ones) if
        each chose its group's variant independently (the baseline of ``plain_ratio``)."""
        return _count_distribution(
            self.class_variant[cls, rule.group, rule.flip][PLAIN_RULES[rule.group, rule.flip]]
            for cls, rule in pairs
            if not rule.is_join
        )

    def sample(self, rng, operators: Sequence[str], numeric: bool) -> dict[str, Rule]:
        """Rules for ``operators`` drawn from this model (the generator's choice): independent draws,
        kept in proportion to :meth:`plain_factor` (rejection sampling)."""
        if not numeric:  # no plain-meaning weighting for symbolic puzzles
            return self._sample_independently(rng, operators, numeric)
        classes = [operator_class(op, numeric) for op in operators]
        ceiling = max((max(ratio) for ratio in self.plain_ratio.values()), default=1.0)
        while True:
            rules = self._sample_independently(rng, operators, numeric)
            factor = self.plain_factor(list(zip(classes, rules.values(), strict=True)))
            if factor >= ceiling or rng.random() * ceiling < factor:
                return rules

    def _sample_independently(self, rng, operators: Sequence[str], numeric: bool) -> dict[str, Rule]:
        flip = rng.random() < self.flip_share[puzzle_style(operator_class(op, numeric) for op in operators)]
        rules: dict[str, Rule] = {}
        for op in operators:
            cls = operator_class(op, numeric)
            if rng.random() < self.join_share[cls]:
                names = list(self.join_variant[cls])
                name = rng.choices(names, weights=[self.join_variant[cls][n] for n in names])[0]
            else:
                taken = {r.group for r in rules.values() if not r.is_join}
                free = [g for g in ARITHMETIC_GROUPS if g not in taken]
                if not free:
                    names = list(self.join_variant[cls])
                    name = rng.choices(names, weights=[self.join_variant[cls][n] for n in names])[0]
                else:
                    group = rng.choices(free, weights=[self.group_affinity[cls][g] for g in free])[0]
                    table = self.class_variant[cls, group, flip]
                    name = rng.choices(list(table), weights=list(table.values()))[0]
            rules[op] = RULES_BY_NAME[name]
        return rules

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
            "modes": {
                style: {mode: round(n, 3) for mode, n in sorted(table.items())}
                for style, table in sorted(self.modes.items())
            },
            "plain_meanings": {
                key: {side: [round(n, 3) for n in counts] for side, counts in sorted(table.items())}
                for key, table in sorted(self.plain_counts.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping) -> RulePriors:
        counts = data.get("counts")
        if not isinstance(counts, Mapping):
            raise ValueError("equation priors: expected a 'counts' mapping of class -> rule -> count")
        modes = data.get("modes", {})
        plain = data.get("plain_meanings", {})
        return cls(
            {k: {r: float(n) for r, n in v.items()} for k, v in counts.items()},
            {k: {m: float(n) for m, n in v.items()} for k, v in modes.items()},
            {k: {side: [float(n) for n in ns] for side, ns in v.items()} for k, v in plain.items()},
        )


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
    (uniform at first); the counts then become the next priors. Numeric puzzles likewise count how
    many of their arithmetic operators keep their plain meaning, next to how many independent variant
    choices (under the current priors) would give."""
    rows = [
        [([(operator_class(op, numeric), rule) for op, rule in key], share) for key, share in fitting.items()]
        for numeric, fitting in explained
        if fitting
    ]
    priors = UNIFORM
    for _ in range(iterations):
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        modes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        plain: dict[str, dict[str, list[float]]] = {}
        for fitting in rows:
            weights = [share * priors.class_assignment_weight(a) for a, share in fitting]
            total = sum(weights)
            for (assignment, _), weight in zip(fitting, weights, strict=True):
                for cls, rule in assignment:
                    counts[cls][rule.name] += weight / total
                flips = {rule.flip for _, rule in assignment if not rule.is_join}
                if len(flips) == 1:
                    style = puzzle_style(cls for cls, _ in assignment)
                    modes[style]["flip" if flips.pop() else "plain"] += weight / total
                key = plain_key(assignment)
                if key is not None:
                    n = len(priors.expected_plain_counts(assignment))
                    table = plain.setdefault(key, {"observed": [0.0] * n, "expected": [0.0] * n})
                    table["observed"][sum(rule.plain_meaning for _, rule in assignment)] += weight / total
                    for k, p in enumerate(priors.expected_plain_counts(assignment)):
                        table["expected"][k] += p * weight / total
        priors = RulePriors(
            {cls: dict(table) for cls, table in counts.items()},
            {style: dict(table) for style, table in modes.items()},
            plain,
        )
    return priors
