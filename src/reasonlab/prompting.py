"""How the grader asks: the one place where a puzzle becomes the model's user turn.

The grader sends the puzzle text, a newline and :data:`BOXED_SUFFIX` as a single user message (no
system prompt), through the model's chat template with ``add_generation_prompt=True`` and
``enable_thinking=True``.
"""

from __future__ import annotations

BOXED_SUFFIX = "Please put your final answer inside `\\boxed{}`. For example: `\\boxed{your answer}`"


def user_prompt(puzzle_text: str) -> str:
    """The user turn exactly as the grader builds it."""
    return f"{puzzle_text}\n{BOXED_SUFFIX}"


def grader_messages(puzzle_text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": user_prompt(puzzle_text)}]
