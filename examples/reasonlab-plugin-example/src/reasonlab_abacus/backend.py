"""The ``dormouse`` backend: no model, the abacus rule itself. Abacus puzzles are answered with their
stepwise trace inside the thought, anything else with a refusal. It shows the Backend protocol a plugin
backend satisfies: a class with ``name``, built as ``cls(model, **options)``, then ``generate``/``close``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from reasonlab.inference.base import FINISH_LENGTH, FINISH_STOP, Completion, GenerationSettings, Request
from reasonlab_abacus.family import FAMILY
from reasonlab_abacus.tracer import STEPWISE

REFUSAL = "<think>\nThis is not an abacus puzzle.\n</think>\nI cannot tell."


class DormouseBackend:
    name = "dormouse"

    def __init__(self, model: str, *, think: bool = True):
        self.model = model  # unused: the rule needs no weights
        self.think = think

    def answer(self, puzzle: str | None) -> str:
        if puzzle is None or not FAMILY.matches(puzzle):
            return REFUSAL
        instance = FAMILY.parse(puzzle)
        trace = STEPWISE.trace(instance)
        answer = STEPWISE.replay(instance, trace)
        thought = trace if self.think else "The Dormouse's abacus."
        return f"<think>\n{thought}\n</think>\n\\boxed{{{answer}}}"

    def generate(self, requests: Sequence[Request], settings: GenerationSettings) -> Iterator[Completion]:
        for request in requests:
            started = time.perf_counter()
            text = self.answer(request.puzzle)
            words = len(text.split())
            yield Completion(
                id=request.id,
                text=text,
                prompt_tokens=sum(len(m["content"].split()) for m in request.messages),
                completion_tokens=words,
                finish_reason=FINISH_LENGTH if words > settings.max_tokens else FINISH_STOP,
                seconds=time.perf_counter() - started,
            )

    def close(self) -> None:
        pass
