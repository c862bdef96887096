"""Imitation metrics: how closely a model follows the reference trace it was taught.

For rows that carry a reference (SFT records from ``synth``/``traces``), the reference is scored under
teacher forcing (every token given the prompt and the reference before it), which gives per trace:

- ``min_logprob``: the lowest log-probability of a reference token (the Open Progress Prize objective was to
  raise it), and the token it belongs to;
- ``low_tokens``: how many reference tokens the model gives a probability below 0.5 (log < ln 0.5): the spots
  where greedy decoding may leave the trace;
- ``first_divergence``: the first token whose greedy choice differs from the reference, with its line, step
  kind and the text before it; None when the greedy choice agrees everywhere (teacher-forced perfect);
- ``agreement``: the share of reference tokens that are the greedy choice.

From free generation: ``perfect``, the completion equals the reference. Where the trace style declares step
kinds (:mod:`reasonlab.puzzles.trace_style`), each token is mapped to its line and the line to the kind that
fullmatches it, and the same counts are kept per step kind; lines no kind matches (the closing sentence, or a
style without kinds) count under ``other``. Pure Python: no torch.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from reasonlab.puzzles.trace_style import TRACE_STYLES, StepKind, find_tracer
from reasonlab.scoring.rows import EvalRow, RowGroups

LOW_LOGPROB = math.log(0.5)
OTHER = "other"
CONTEXT_CHARS = 160


def step_kinds_for(family: str | None, style: str | None = None) -> tuple[StepKind, ...]:
    """The step kinds of ``family``'s tracer in ``style`` (every registered style when None); empty when no
    tracer with step kinds is available (the compact style has none; stepwise tracers may not exist yet)."""
    kinds: list[StepKind] = []
    for candidate in [style] if style in TRACE_STYLES else TRACE_STYLES:
        tracer = find_tracer(family or "", candidate)
        if tracer is not None:
            kinds.extend(tracer.step_kinds)
    return tuple(kinds)


def line_classifier(kinds: Sequence[StepKind]) -> Callable[[str], str]:
    def kind_of(line: str) -> str:
        stripped = line.strip()
        return next((k.name for k in kinds if k.pattern.fullmatch(stripped)), OTHER)

    return kind_of


def trace_imitation(
    tokens: Sequence[Any], reference: str, kind_of_line: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """The teacher-forced metrics of one trace from its token scores (objects with start, end, logprob,
    agrees, predicted: :class:`reasonlab.inference.base.TokenScore` or the same as a dict)."""
    rows = [t if isinstance(t, dict) else vars(t) for t in tokens]
    lines = reference.split("\n")
    line_starts = [0]
    for line in lines[:-1]:
        line_starts.append(line_starts[-1] + len(line) + 1)
    line_kinds = [kind_of_line(line) if kind_of_line else OTHER for line in lines]

    def line_of(offset: int) -> int:
        return max(0, bisect.bisect_right(line_starts, offset) - 1)

    by_kind: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"tokens": 0, "agree": 0, "low_tokens": 0, "min_logprob": 0.0}
    )
    first = None
    for index, token in enumerate(rows):
        line = line_of(token["start"])
        kind = by_kind[line_kinds[line]]
        kind["tokens"] += 1
        kind["agree"] += bool(token["agrees"])
        kind["low_tokens"] += token["logprob"] < LOW_LOGPROB
        kind["min_logprob"] = min(kind["min_logprob"], token["logprob"])
        if first is None and not token["agrees"]:
            first = {
                "position": index,
                "line": line,
                "step_kind": line_kinds[line],
                "before": reference[max(0, token["start"] - CONTEXT_CHARS) : token["start"]],
                "expected": reference[token["start"] : token["end"]],
                "predicted": token["predicted"],
                "logprob": token["logprob"],
            }
    lowest = min(rows, key=lambda t: t["logprob"], default=None)
    return {
        "tokens": len(rows),
        "min_logprob": lowest["logprob"] if lowest else 0.0,
        "min_token": reference[lowest["start"] : lowest["end"]] if lowest else "",
        "low_tokens": sum(t["logprob"] < LOW_LOGPROB for t in rows),
        "agreement": sum(bool(t["agrees"]) for t in rows) / len(rows) if rows else 1.0,
        "first_divergence": first,
        "by_step_kind": dict(by_kind),
    }


def is_perfect(completion: str, reference: str) -> bool:
    """Free generation reproduced the reference (trailing whitespace aside)."""
    return completion.rstrip() == reference.rstrip()


def group_imitation(rows: Sequence[EvalRow]) -> dict[str, Any]:
    """Aggregates over rows that carry ``imitation`` (teacher forcing) and/or ``perfect`` (free generation)."""
    generated = [r.perfect for r in rows if r.perfect is not None]
    scored = [r.imitation for r in rows if r.imitation]
    summary: dict[str, Any] = {
        "rows": len(rows),
        "perfect_trace_rate": sum(generated) / len(generated) if generated else None,
        "teacher_forced_rows": len(scored),
    }
    if not scored:
        return summary
    tokens = sum(s["tokens"] for s in scored)
    diverged = [s["first_divergence"]["position"] for s in scored if s["first_divergence"]]
    kinds: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"tokens": 0, "agree": 0, "low_tokens": 0, "min_logprob": 0.0}
    )
    for s in scored:
        for name, counts in s["by_step_kind"].items():
            total = kinds[name]
            for key in ("tokens", "agree", "low_tokens"):
                total[key] += counts[key]
            total["min_logprob"] = min(total["min_logprob"], counts["min_logprob"])
    summary.update(
        {
            "teacher_forced_perfect_rate": 1 - len(diverged) / len(scored),
            "token_agreement": sum(s["agreement"] * s["tokens"] for s in scored) / tokens if tokens else 1.0,
            "median_min_logprob": statistics.median(s["min_logprob"] for s in scored),
            "mean_low_tokens": statistics.fmean(s["low_tokens"] for s in scored),
            "median_first_divergence": statistics.median(diverged) if diverged else None,
            "by_step_kind": {
                name: {
                    "tokens": k["tokens"],
                    "agreement": k["agree"] / k["tokens"] if k["tokens"] else 1.0,
                    "low_token_rate": k["low_tokens"] / k["tokens"] if k["tokens"] else 0.0,
                    "min_logprob": k["min_logprob"],
                }
                for name, k in sorted(kinds.items())
            },
        }
    )
    return summary


def imitation_metrics(rows: Sequence[EvalRow]) -> dict[str, Any]:
    """``overall``, ``by_family`` and ``by_subtype`` imitation aggregates over rows with a reference."""
    with_reference = [r for r in rows if r.perfect is not None or r.imitation]
    groups = RowGroups.of(with_reference)
    return {
        "overall": group_imitation(with_reference),
        "by_family": {k: group_imitation(v) for k, v in groups.by_family.items()},
        "by_subtype": {k: group_imitation(v) for k, v in groups.by_subtype.items()},
    }
