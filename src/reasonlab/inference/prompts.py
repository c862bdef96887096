"""Requests from puzzles and tasks, and prompt text from requests, built once for every backend."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reasonlab.inference.base import Request
from reasonlab.prompting import chat_messages
from reasonlab.puzzles.types import Puzzle
from reasonlab.tracks.request import EvalRequest


def puzzle_requests(
    puzzles: Iterable[Puzzle], *, system_prompt: str | None = None, few_shot: Sequence[tuple[str, str]] = ()
) -> list[Request]:
    """One grader-style request per puzzle (no system prompt and no examples unless asked for)."""
    return [
        Request(
            id=p.id,
            messages=chat_messages(p.prompt, system_prompt=system_prompt, few_shot=few_shot),
            puzzle=p.prompt,
        )
        for p in puzzles
    ]


def backend_requests(requests: Iterable[EvalRequest], *, system_prompt: str | None = None) -> list[Request]:
    """Backend requests for any task's requests: their own messages (the grader's prompt for a puzzle, a
    track task's template and few-shot examples) after the optional system prompt, with what the solver
    backend answers from: the puzzle text, else the reference completion."""
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [
        Request(id=r.id, messages=[*system, *r.messages], puzzle=r.puzzle, reference=r.reference)
        for r in requests
    ]


def prompt_text(tokenizer, request: Request, *, enable_thinking: bool) -> str:
    """The text the grader hands to its engine: the tokenizer's chat template with a generation prompt.

    The engine then tokenizes this text with the tokenizer's usual special tokens, as vLLM does for a text
    prompt; :func:`prompt_ids` does the same for local backends.
    """
    return tokenizer.apply_chat_template(
        request.messages, tokenize=False, add_generation_prompt=True, enable_thinking=enable_thinking
    )


def prompt_ids(tokenizer, request: Request, *, enable_thinking: bool) -> list[int]:
    return tokenizer(prompt_text(tokenizer, request, enable_thinking=enable_thinking)).input_ids


def reference_tokens(tokenizer, reference: str) -> tuple[list[int], list[tuple[int, int]]]:
    """A reference completion's token ids, as a model generating it after the prompt would emit them
    (encoded on its own, no special tokens), with each token's character span in the reference."""
    encoded = tokenizer(reference, add_special_tokens=False, return_offsets_mapping=True)
    return list(encoded.input_ids), [tuple(span) for span in encoded.offset_mapping]
