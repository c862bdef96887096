"""Uncertainty for accuracies: Wilson intervals, and paired comparisons of two runs on the same rows
(exact McNemar test and a paired bootstrap interval for the difference). Pure Python."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

Z95 = 1.959963984540054


def wilson_interval(correct: int, total: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sensible at 0%, 100% and small n)."""
    if total == 0:
        return (0.0, 1.0)
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def mcnemar_exact_p(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs (rows only A got right, only B got right)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class PairedComparison:
    rows: int
    accuracy_a: float
    accuracy_b: float
    difference: float  # accuracy_b - accuracy_a
    ci_low: float
    ci_high: float
    only_a: int
    only_b: int
    mcnemar_p: float

    @property
    def significant(self) -> bool:
        return self.mcnemar_p < 0.05

    def to_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant}


def paired_comparison(
    correct_a: Sequence[bool], correct_b: Sequence[bool], *, resamples: int = 2000, seed: int = 0
) -> PairedComparison:
    """B minus A on the same rows: the difference, its 95% paired-bootstrap interval, McNemar's p."""
    if len(correct_a) != len(correct_b):
        raise ValueError("paired comparison needs the same rows in both runs")
    n = len(correct_a)
    deltas = [int(b) - int(a) for a, b in zip(correct_a, correct_b, strict=True)]
    only_a, only_b = deltas.count(-1), deltas.count(1)
    if n == 0:
        return PairedComparison(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 1.0)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(deltas, k=n)) / n for _ in range(resamples))
    low = means[int(0.025 * (resamples - 1))]
    high = means[int(math.ceil(0.975 * (resamples - 1)))]
    return PairedComparison(
        rows=n,
        accuracy_a=sum(correct_a) / n,
        accuracy_b=sum(correct_b) / n,
        difference=sum(deltas) / n,
        ci_low=low,
        ci_high=high,
        only_a=only_a,
        only_b=only_b,
        mcnemar_p=mcnemar_exact_p(only_a, only_b),
    )
