"""Shared inference for the two one-parameter families (gravity, unit): y = k·f(x), printed rounded.

The examples are rounded to a few decimals, so each one only bounds the secret constant to an
interval. Intersecting the intervals gives every constant consistent with all examples; the answer
is the query's value under the interval's midpoint, and is *determined* when every constant in the
interval rounds the query to the same printed value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConstantFit:
    low: float
    high: float
    consistent: bool  # False when the examples' intervals do not overlap (noise beyond rounding)

    @property
    def estimate(self) -> float:
        return (self.low + self.high) / 2


def decimals_of(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def fit_constant(examples: Sequence[tuple[float, str]], basis: Callable[[float], float]) -> ConstantFit:
    """Interval of k such that round(k·basis(x)) prints as each example's output.

    ``examples`` pairs the input value with the output *as printed*, so that its precision is known.
    """
    low, high = float("-inf"), float("inf")
    for x, printed in examples:
        b = basis(x)
        half_ulp = 0.5 * 10 ** -decimals_of(printed)
        y = float(printed)
        lo_k, hi_k = (y - half_ulp) / b, (y + half_ulp) / b
        low, high = max(low, lo_k), min(high, hi_k)
    if low <= high:
        return ConstantFit(low, high, True)
    # Inconsistent by a hair (float rounding in the generator): fall back to the mean ratio.
    ratios = [float(printed) / basis(x) for x, printed in examples]
    mean = sum(ratios) / len(ratios)
    return ConstantFit(mean, mean, False)


def is_determined(fit: ConstantFit, query_basis: float, fmt: Callable[[float], str]) -> bool:
    return fmt(fit.low * query_basis) == fmt(fit.high * query_basis)
