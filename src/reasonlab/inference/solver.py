"""The solver backend: every puzzle answered by the deterministic solvers, in their own words.

A track task's request (no puzzle) is answered with its reference completion. A family with traces
answers with its step-by-step trace (what a model trained on those traces would
write); otherwise the completion is a one-line thought stating the inferred rule, then
``\\boxed{answer}``. This gives any user a reference run at once (the ceiling for a model that imitates
the traces) and exercises the whole evaluation pipeline without a model.

Token counts use the tokenizer named in ``tokenizer`` when given (e.g. a tiny model's, or the real
model's when it is present), else an approximation: one token per word, number or symbol.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from reasonlab.inference.base import (
    FINISH_ERROR,
    FINISH_LENGTH,
    FINISH_STOP,
    Completion,
    GenerationSettings,
    Request,
)
from reasonlab.puzzles.families import Traceable, family_of

_APPROXIMATE_TOKEN = re.compile(r"\w+|[^\w\s]")


def solver_completion(puzzle_text: str) -> str:
    """What the solvers 'say' for a puzzle: a trace when the family has one, else rule + boxed answer."""
    family = family_of(puzzle_text)
    if family is None:
        return "<think>\nNo known puzzle family matches this prompt.\n</think>\nI cannot tell."
    instance = family.parse(puzzle_text)
    solution = family.solve(instance)
    if isinstance(family, Traceable):
        text = family.trace(instance, solution)
        if text:
            return text
    if solution.answer is None:
        return f"<think>\n{solution.rule or 'No rule fits the examples.'}\n</think>\nI cannot tell."
    rule = solution.rule or "the rule inferred from the examples"
    return f"<think>\nThe examples follow {rule}.\n</think>\n\\boxed{{{solution.answer}}}"


class SolverBackend:
    name = "solver"

    def __init__(self, tokenizer: str | Path | None = None):
        self._tokenizer = None
        if tokenizer is not None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(tokenizer)

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is not None:
            return len(self._tokenizer(text, add_special_tokens=False).input_ids)
        return len(_APPROXIMATE_TOKEN.findall(text))

    def truncate(self, text: str, max_tokens: int) -> str:
        """The first ``max_tokens`` tokens of ``text``: what a model stopped at its budget would have written."""
        if self._tokenizer is not None:
            ids = self._tokenizer(text, add_special_tokens=False).input_ids
            return self._tokenizer.decode(ids[:max_tokens])
        if max_tokens <= 0:
            return ""
        for number, token in enumerate(_APPROXIMATE_TOKEN.finditer(text), 1):
            if number == max_tokens:
                return text[: token.end()]
        return text

    def generate(self, requests: Sequence[Request], settings: GenerationSettings) -> Iterator[Completion]:
        for request in requests:
            started = time.perf_counter()
            if request.puzzle is None and request.reference is None:
                raise ValueError(
                    f"request {request.id!r} carries no puzzle text; the solver backend needs it"
                )
            prompt_tokens = sum(self.count_tokens(m["content"]) for m in request.messages)
            try:
                text = solver_completion(request.puzzle) if request.puzzle is not None else request.reference
                finish, error = FINISH_STOP, None
            except Exception as exc:  # a solver bug must cost one row, not the run
                text, finish, error = "", FINISH_ERROR, f"{type(exc).__name__}: {exc}"
            tokens = self.count_tokens(text)
            if tokens > settings.max_tokens:
                # Cut as an engine would: the boxed answer past the budget is never seen.
                text, tokens, finish = (
                    self.truncate(text, settings.max_tokens),
                    settings.max_tokens,
                    FINISH_LENGTH,
                )
            yield Completion(
                id=request.id,
                text=text,
                prompt_tokens=prompt_tokens,
                completion_tokens=tokens,
                finish_reason=finish,
                seconds=time.perf_counter() - started,
                error=error,
            )

    def close(self) -> None:
        pass
