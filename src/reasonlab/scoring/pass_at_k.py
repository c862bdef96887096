"""pass@k for code generation: the unbiased estimator of Chen et al. (2021), "Evaluating Large Language
Models Trained on Code": with ``n`` samples of which ``c`` pass, ``1 - C(n - c, k) / C(n, k)``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn from the ``n`` (``c`` correct) passes."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    # The product form avoids the huge binomials of large n.
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(outcomes: Mapping[str, Iterable[bool]], k: int) -> float:
    """pass@k averaged over problems; ``outcomes`` maps a problem id to the pass/fail of its samples."""
    scores = []
    for samples in outcomes.values():
        results = list(samples)
        scores.append(pass_at_k(len(results), sum(results), k))
    return sum(scores) / len(scores) if scores else 0.0
