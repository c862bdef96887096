"""Choosing the rows of a dataset from a stream of traced puzzles, in the stream's order.

A row is kept when its prompt is new (deduplication), is not one of the avoided prompts (e.g. the
development set's), and has a proven trace that fits the token budget (checked where the rows are
traced: :func:`~reasonlab.synth.check.check_budget`). Every other row is counted by family and reason;
over-budget traces are excluded, never truncated.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Literal

from reasonlab.synth.check import Rejection, TracedPuzzle


@dataclass
class Selection:
    """The kept rows and an account of the rest."""

    kept: list[TracedPuzzle] = field(default_factory=list)
    tokenizer: str | None = None  # the counter that held the kept rows to a budget, if any
    seen: int = 0
    duplicates: int = 0
    avoided: int = 0
    rejected: Counter = field(default_factory=Counter)  # (family, Rejection) -> rows
    rejected_rows: list[tuple[TracedPuzzle, Rejection]] = field(default_factory=list)

    def reject(self, traced: TracedPuzzle, reason: Rejection) -> None:
        self.rejected[traced.family or "?", reason] += 1
        self.rejected_rows.append((traced, reason))

    def kept_by_family(self) -> Counter:
        return Counter(t.family for t in self.kept)


def select(
    stream: Iterable[TracedPuzzle],
    *,
    limit: int | None = None,
    avoid_prompts: frozenset[str] | set[str] = frozenset(),
    require_trace: bool = True,
    max_seen: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    progress_per: Literal["kept", "seen"] = "kept",
) -> Selection:
    """Keep rows from ``stream`` until ``limit`` are kept (or the stream ends, or ``max_seen`` rows
    were examined). Without ``require_trace`` a row needs only a new, allowed prompt (puzzle files)."""
    chosen = Selection()
    prompts: set[str] = set()
    for traced in stream if max_seen is None else islice(stream, max_seen):
        if limit is not None and len(chosen.kept) >= limit:
            break
        chosen.seen += 1
        if on_progress and progress_per == "seen":
            on_progress(1)
        prompt = traced.puzzle.prompt
        if prompt in avoid_prompts:
            chosen.avoided += 1
            continue
        if prompt in prompts:
            chosen.duplicates += 1
            continue
        prompts.add(prompt)
        if require_trace and traced.rejection is not None:
            chosen.reject(traced, traced.rejection)
            continue
        chosen.kept.append(traced)
        chosen.tokenizer = chosen.tokenizer or traced.tokenizer
        if on_progress and progress_per == "kept":
            on_progress(1)
    return chosen


@dataclass(frozen=True, slots=True)
class LengthRow:
    family: str
    rows: int
    median: float
    p95: float
    max: int
    style: str = ""
    # kept rows / (kept + over-budget rows) of the family and style: every traced row, counted or not
    within_budget: float = 1.0


def length_table(selection: Selection) -> list[LengthRow]:
    """Assistant-turn tokens per family and style (median, 95th percentile, max) of the kept rows that
    were counted (every row, or the sample of :class:`~reasonlab.synth.tokens.TokenBudget`), and the
    share of traced rows within the budget."""
    by_group: dict[tuple[str, str], list[int]] = defaultdict(list)
    for traced in selection.kept:
        if traced.assistant_tokens is not None:
            by_group[traced.family, traced.style].append(traced.assistant_tokens)
    kept = Counter((t.family, t.style) for t in selection.kept)
    over = Counter(
        (t.family, t.style) for t, reason in selection.rejected_rows if reason is Rejection.OVER_BUDGET
    )
    return [
        LengthRow(
            family,
            len(counts),
            statistics.median(counts),
            _p95(counts),
            max(counts),
            style,
            kept[family, style] / (kept[family, style] + over[family, style]),
        )
        for (family, style), counts in sorted(by_group.items())
    ]


def _p95(values: list[int]) -> float:
    """Linear-interpolation 95th percentile (numpy's default)."""
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else float(values[0])


def token_shares(tokens_by_family: dict[str, float]) -> dict[str, float]:
    """Each family's share of the tokens, in family order."""
    total = sum(tokens_by_family.values())
    return {f: (t / total if total else 0.0) for f, t in sorted(tokens_by_family.items())}


def describe_shares(shares: dict[str, float], unit: str = "tokens") -> str:
    return f"share of {unit}: " + ", ".join(f"{family} {share:.1%}" for family, share in shares.items())


def selection_token_shares(selection: Selection) -> tuple[dict[str, float], str]:
    """The kept rows' share of assistant-turn tokens per family, and the unit: counted tokens (a family's
    rows times the mean of its counted rows) where a tokenizer counted them, else UTF-8 bytes of the traces."""
    counted: dict[str, list[int]] = defaultdict(list)
    sizes: dict[str, list[int]] = defaultdict(list)
    for traced in selection.kept:
        sizes[traced.family].append(len((traced.trace or "").encode()))
        if traced.assistant_tokens is not None:
            counted[traced.family].append(traced.assistant_tokens)
    if selection.tokenizer and all(counted.get(f) for f in sizes):
        rows = selection.kept_by_family()
        return token_shares({f: rows[f] * statistics.fmean(counted[f]) for f in sizes}), "tokens"
    return token_shares({f: float(sum(v)) for f, v in sizes.items()}), "trace bytes"
