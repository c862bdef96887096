"""How the grader asks: the one place where a puzzle becomes the model's input.

The grader sends the puzzle text, a newline and :data:`BOXED_SUFFIX` as a single user message (no
system prompt), through the model's chat template with ``add_generation_prompt=True`` and
``enable_thinking=True``. :func:`render_chat` renders the Nemotron-3 chat format without torch, from the
template shipped in ``reasonlab/data`` (the same file the tiny local models carry as their template).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources

from reasonlab.grader import BOXED_SUFFIX

CHAT_TEMPLATE_FILE = "nemotron3_chat_template.jinja"
THINK_OPENER = "<think>\n"  # ends the chat template's generation prompt with thinking on


def user_prompt(puzzle_text: str) -> str:
    """The user turn exactly as the grader builds it."""
    return f"{puzzle_text}\n{BOXED_SUFFIX}"


def puzzle_text(user_turn: str) -> str:
    """The puzzle inside a grader-style user turn (the inverse of :func:`user_prompt`)."""
    suffix = f"\n{BOXED_SUFFIX}"
    return user_turn[: -len(suffix)] if user_turn.endswith(suffix) else user_turn


def reference_continuation(assistant_turn: str) -> str:
    """What the model must generate after the prompt: the assistant turn without the ``<think>\\n`` opener
    that the generation prompt already holds."""
    return assistant_turn[len(THINK_OPENER) :] if assistant_turn.startswith(THINK_OPENER) else assistant_turn


def grader_messages(puzzle_text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": user_prompt(puzzle_text)}]


def chat_messages(
    puzzle_text: str,
    *,
    system_prompt: str | None = None,
    few_shot: Sequence[tuple[str, str]] = (),
) -> list[dict[str, str]]:
    """The grader's messages, optionally preceded by a system prompt and worked examples.

    ``few_shot`` holds (puzzle text, assistant reply) pairs, each asked the way the grader asks. With no
    options this is exactly :func:`grader_messages`.
    """
    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    for example_text, reply in few_shot:
        messages.append({"role": "user", "content": user_prompt(example_text)})
        messages.append({"role": "assistant", "content": reply})
    messages.extend(grader_messages(puzzle_text))
    return messages


@cache
def nemotron_chat_template() -> str:
    """The Nemotron-3 chat template (Jinja source) as the project ships it."""
    return (resources.files("reasonlab") / "data" / CHAT_TEMPLATE_FILE).read_text(encoding="utf-8")


@cache
def _compiled_template():
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # The options transformers uses when it applies a chat template, so both render alike.
    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return environment.from_string(nemotron_chat_template())


def render_chat(
    messages: Sequence[dict[str, str]],
    *,
    add_generation_prompt: bool = True,
    enable_thinking: bool = True,
    truncate_history_thinking: bool = True,
) -> str:
    """The text the model sees for ``messages`` in the Nemotron-3 chat format (the grader's defaults)."""
    return _compiled_template().render(
        messages=list(messages),
        add_generation_prompt=add_generation_prompt,
        enable_thinking=enable_thinking,
        truncate_history_thinking=truncate_history_thinking,
    )
