"""Tracing one puzzle and proving the trace, the same way for synthetic and real rows.

A trace is accepted only when three independent readings agree: the tracer's ``replay`` re-executes its
steps, the grader's ``extract`` reads its answer, and the grader's ``verify`` accepts that answer against
the gold one. Anything else is a :class:`Rejection` with a reason, so no row is dropped silently.

Traces come in styles (:mod:`reasonlab.puzzles.trace_style`). A ``stepwise`` trace is written by the
family's tracer from the parsed prompt alone (never the gold, never a generator's rule), must pass the
learnable-trace audit (:func:`reasonlab.puzzles.audit.audit_trace`), and only then is the gold asked
to accept it. A ``compact`` trace writes up the solver's solution (or the generator's own, on the synth
fast path), as before styles existed. A family without a tracer in the requested style is a counted
rejection (``NO_STYLE_TRACER``), never an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from reasonlab.grader import extract, verify
from reasonlab.prompting import user_prompt
from reasonlab.puzzles.audit import DEFAULT_WINDOW, audit_trace
from reasonlab.puzzles.classify import UnknownFamilyError, classify
from reasonlab.puzzles.families import (
    Family,
    Generator,
    Traceable,
    get_family,
    prepare_families,
)
from reasonlab.puzzles.solve import PuzzleTimeout, time_limit
from reasonlab.puzzles.trace_style import DEFAULT_STYLE, TRACE_STYLES, Tracer, find_tracer
from reasonlab.puzzles.types import Puzzle, Solution
from reasonlab.synth.records import assistant_text
from reasonlab.synth.tokens import TokenBudget, cached_counter
from reasonlab.workers import worker_pool


class Rejection(StrEnum):
    """Why a puzzle yields no training record."""

    NO_FAMILY = "no family matches the prompt"
    MISCLASSIFIED = "the classifier names another family than the generator"
    UNPARSABLE = "the family cannot parse the prompt"
    NO_TRACER = "the family has no trace/replay yet"
    NO_STYLE_TRACER = "the family has no tracer in this style yet"
    UNSOLVED = "the solver found no answer"
    WRONG_ANSWER = "the solver's (or stepwise trace's) answer is not the gold answer"
    NO_TRACE = "the family cannot trace this solution"
    TRACE_FAILED = "the trace failed replay, extraction or verification"
    AUDIT_FAILED = "the trace fails the learnable-trace audit"
    OVER_BUDGET = "the trace is over the token budget"
    TIMEOUT = "the per-puzzle time limit ran out"
    ERROR = "the solver or tracer raised"


def can_generate(family: Family) -> bool:
    return isinstance(family, Generator) and can_trace(family)


def can_trace(family: Family) -> bool:
    return isinstance(family, Traceable)


@dataclass(frozen=True, slots=True)
class TraceCheck:
    replayed: str | None
    extracted: str
    problem: str | None  # None when the trace is proven

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_trace(tracer: Family | Tracer, instance: Any, trace: str, gold: str | None) -> TraceCheck:
    """Replay ``trace`` with ``tracer`` (a tracer or a family, whose ``replay`` is its compact one) and
    read it as the grader would; it passes when both give one answer that ``verify`` accepts as ``gold``
    (for an unlabelled row, ``gold`` None: when both agree)."""
    extracted = extract(trace)
    try:
        replayed = tracer.replay(instance, trace)
    except Exception as exc:  # noqa: BLE001 - any failure to replay is a verdict on the trace
        return TraceCheck(None, extracted, f"replay failed: {exc}")
    if replayed != extracted:
        return TraceCheck(
            replayed, extracted, f"replay gives {replayed!r} but the grader reads {extracted!r}"
        )
    if gold is not None and not verify(gold, extracted):
        return TraceCheck(replayed, extracted, f"the trace's answer {extracted!r} is not gold {gold!r}")
    return TraceCheck(replayed, extracted, None)


@dataclass(frozen=True, slots=True)
class TracedPuzzle:
    """A puzzle with its proven trace, or the reason it has none (``rejection``, ``detail``)."""

    puzzle: Puzzle
    family: str | None
    subtype: str | None
    trace: str | None = None
    style: str = DEFAULT_STYLE
    rejection: Rejection | None = None
    detail: str = ""
    # Token counts under the counter named by ``tokenizer`` (set once the row was held to a budget);
    # None where its byte length proved that it fits and it was not sampled for statistics.
    prompt_tokens: int | None = None  # of the user turn
    assistant_tokens: int | None = None  # of the assistant turn (think block + final sentence)
    tokenizer: str | None = None

    @property
    def traced_answer(self) -> str:
        """The answer the trace boxes (equal to gold under ``verify``, not always byte for byte)."""
        return extract(self.trace)


def trace_puzzle(
    puzzle: Puzzle,
    *,
    style: str = DEFAULT_STYLE,
    expected_family: str | None = None,
    timeout: float | None = None,
    solution: Solution | None = None,
    window: int = DEFAULT_WINDOW,
) -> TracedPuzzle:
    """Classify and trace ``puzzle`` in ``style``, proving the trace against its gold answer (an
    unlabelled puzzle's trace must only replay to what the grader reads).

    ``compact``: solve (or take the given ``solution``, the generator's own rule) and write it up.
    Any other style: the family's tracer writes the trace from the parsed prompt, which must pass the
    audit (cited values within ``window`` lines); ``solution`` is ignored."""
    if style not in TRACE_STYLES:
        raise KeyError(f"unknown trace style {style!r}; known: {', '.join(TRACE_STYLES)}")
    family_name = subtype = None

    def rejected(reason: Rejection, detail: str = "") -> TracedPuzzle:
        return TracedPuzzle(puzzle, family_name, subtype, style=style, rejection=reason, detail=detail)

    try:
        with time_limit(timeout):
            try:
                kind = classify(puzzle.prompt)
            except UnknownFamilyError as exc:
                return rejected(Rejection.NO_FAMILY, str(exc))
            except ValueError as exc:
                return rejected(Rejection.UNPARSABLE, str(exc))
            family_name, subtype = kind.family, kind.subtype
            if expected_family is not None and family_name != expected_family:
                return rejected(
                    Rejection.MISCLASSIFIED, f"generated as {expected_family}, classified {family_name}"
                )
            family = get_family(family_name)
            if style == "compact":
                return _compact(puzzle, family, subtype, solution, rejected)
            tracer = find_tracer(family_name, style)
            if tracer is None:
                return rejected(Rejection.NO_STYLE_TRACER, f"no {style} tracer for {family_name}")
            instance = family.parse(puzzle.prompt)
            trace = tracer.trace(instance)
            if trace is None:
                return rejected(Rejection.NO_TRACE, f"the {style} tracer cannot trace this prompt")
            audit = audit_trace(user_prompt(puzzle.prompt), trace, tracer, window=window)
            if not audit.ok:
                first = audit.violations[0]
                return rejected(Rejection.AUDIT_FAILED, f"{first.rule} (line {first.line}): {first.detail}")
            check = check_trace(tracer, instance, trace, puzzle.answer)
            if not check.ok:
                replayed_fine = check.replayed is not None and check.replayed == check.extracted
                return rejected(
                    Rejection.WRONG_ANSWER if replayed_fine else Rejection.TRACE_FAILED, check.problem
                )
            return TracedPuzzle(puzzle, family_name, subtype, trace, style=style)
    except PuzzleTimeout:
        return rejected(Rejection.TIMEOUT, f"over {timeout:g} s")
    except Exception as exc:  # noqa: BLE001 - one broken puzzle must not stop a dataset build
        return rejected(Rejection.ERROR, f"{type(exc).__name__}: {exc}")


def _compact(puzzle: Puzzle, family: Family, subtype, solution: Solution | None, rejected) -> TracedPuzzle:
    """The compact style: the solver's (or the given) solution, written up and proven."""
    if not can_trace(family):
        return rejected(Rejection.NO_TRACER, family.name)
    instance = family.parse(puzzle.prompt)
    if solution is None:
        solution = family.solve(instance)
    if solution.answer is None:
        return rejected(Rejection.UNSOLVED, solution.rule)
    if puzzle.answer is not None and not verify(puzzle.answer, solution.answer):
        return rejected(Rejection.WRONG_ANSWER, f"solver {solution.answer!r}, gold {puzzle.answer!r}")
    trace = family.trace(instance, solution)
    if trace is None:
        return rejected(Rejection.NO_TRACE, solution.rule)
    check = check_trace(family, instance, trace, puzzle.answer)
    if not check.ok:
        return rejected(Rejection.TRACE_FAILED, check.problem)
    return TracedPuzzle(puzzle, family.name, subtype, trace, style="compact")


def check_budget(rows: list[TracedPuzzle], limit: TokenBudget | None) -> list[TracedPuzzle]:
    """``rows`` held to ``limit``: a traced row whose chat turns are over it gets the rejection
    ``OVER_BUDGET`` (its trace kept, never truncated); rows that were encoded carry their token counts
    (see :class:`~reasonlab.synth.tokens.TokenBudget` for which). Unchanged without a limit."""
    traced = [t for t in rows if t.trace is not None]
    if limit is None or not traced:
        return rows
    counter = cached_counter(limit.tokenizer)
    turns = [(user_prompt(t.puzzle.prompt), assistant_text(t.trace, t.traced_answer)) for t in traced]
    to_count = [
        i
        for i, t in enumerate(traced)
        if limit.sampled(t.puzzle.id) or not counter.surely_within(turns[i], limit.budget)
    ]
    prompts = counter.count([turns[i][0] for i in to_count])
    answers = counter.count([turns[i][1] for i in to_count])
    counts = dict(zip(to_count, zip(prompts, answers, strict=True), strict=True))
    held = iter([_held(t, counts.get(i), limit.budget, counter.name) for i, t in enumerate(traced)])
    return [next(held) if t.trace is not None else t for t in rows]


def _held(traced: TracedPuzzle, counts: tuple[int, int] | None, budget: int, tokenizer: str) -> TracedPuzzle:
    """``traced`` once held to ``budget``: with its (prompt, assistant) token counts where it was encoded,
    rejected when they are over."""
    if counts is None:
        return replace(traced, tokenizer=tokenizer)
    prompt_tokens, assistant_tokens = counts
    over = prompt_tokens + assistant_tokens > budget
    return replace(
        traced,
        prompt_tokens=prompt_tokens,
        assistant_tokens=assistant_tokens,
        tokenizer=tokenizer,
        rejection=Rejection.OVER_BUDGET if over else None,
        detail=f"{prompt_tokens} prompt + {assistant_tokens} assistant tokens > {budget} ({tokenizer})"
        if over
        else "",
    )


def _trace_chunk(args: tuple[list[Puzzle], float | None, TokenBudget | None, str]) -> list[TracedPuzzle]:
    chunk, timeout, limit, style = args
    return check_budget([trace_puzzle(p, style=style, timeout=timeout) for p in chunk], limit)


def trace_many(
    puzzles: list[Puzzle],
    *,
    workers: int = 1,
    timeout: float | None = 5.0,
    token_budget: TokenBudget | None = None,
    chunk_size: int = 32,
    style: str = DEFAULT_STYLE,
) -> Iterator[TracedPuzzle]:
    """:func:`trace_puzzle` in ``style`` over puzzles (labelled or not) on ``workers`` processes, in
    input order, held to ``token_budget`` when one is given (:func:`check_budget`)."""
    prepare_families(p.prompt for p in puzzles)
    if token_budget:
        cached_counter(token_budget.tokenizer)  # loaded once here and inherited by forked workers
    chunks = [
        (puzzles[i : i + chunk_size], timeout, token_budget, style)
        for i in range(0, len(puzzles), chunk_size)
    ]
    if workers <= 1:
        for chunk in chunks:
            yield from _trace_chunk(chunk)
        return
    with worker_pool(workers) as pool:
        for rows in pool.map(_trace_chunk, chunks):
            yield from rows
