"""Weighted voting over the hypotheses (rule per operator, digit map) that fit a puzzle's examples."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from reasonlab.puzzles.families.equation_rules import Rule
from reasonlab.puzzles.types import Solution, Status


def _ranking(answer_weight: tuple[str, float]) -> tuple[float, str]:
    answer, weight = answer_weight
    return -weight, answer


@dataclass(slots=True)
class Tally:
    """Answers to the query, each with the summed prior weight of the hypotheses giving it."""

    weights: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    best: dict[str, tuple[float, dict[str, Rule], Any]] = field(default_factory=dict)
    hypotheses: int = 0

    def add(self, answer: str, weight: float, rules: dict[str, Rule], evidence: Any = None) -> None:
        self.hypotheses += 1
        self.weights[answer] += weight
        if answer not in self.best or weight > self.best[answer][0]:
            self.best[answer] = (weight, dict(rules), evidence)

    def leader(self) -> str:
        """The answer :meth:`verdict` gives: the heaviest, ties to the smallest (needs an answer)."""
        return min(self.weights.items(), key=_ranking)[0]

    def verdict(self, *, note: str = "", exhaustive: bool = True) -> Solution:
        """The heaviest answer; ``solved`` when every hypothesis agrees (and the search was complete)."""
        if not self.weights:
            return Solution.unsolved(note or "no rule assignment fits the examples")
        total = sum(self.weights.values())
        ranked = sorted(self.weights.items(), key=_ranking)
        answer = ranked[0][0]
        _, rules, evidence = self.best[answer]
        status = Status.SOLVED if len(ranked) == 1 and exhaustive else Status.AMBIGUOUS
        rule_text = "; ".join(f"{op!r}: {rule.describe()}" for op, rule in sorted(rules.items()))
        details = {
            "rules": {op: rule.name for op, rule in sorted(rules.items())},
            "candidates": {a: round(w / total, 4) for a, w in ranked[:8]},
            "hypotheses": self.hypotheses,
        }
        if evidence is not None:
            details["evidence"] = evidence
        if note:
            details["note"] = note
        return Solution(answer, status, rule_text, details)
