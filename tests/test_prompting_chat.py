"""The Nemotron-3 chat format as the grader renders it.

What was checked against the released Nemotron-3 templates (the Nano 30B-A3B template and its
siblings share this part) before writing ``reasonlab/data/nemotron3_chat_template.jinja``:

- with no system message the template sets ``system_message = ""``, which Jinja counts as defined, so
  ``<|im_start|>system\\n<|im_end|>\\n`` is always written first;
- user (and later system) turns are ``<|im_start|>ROLE\\nCONTENT<|im_end|>\\n``, content untrimmed;
- an assistant turn whose content has neither ``<think>`` nor ``</think>`` gets ``<think></think>``
  prepended; ``reasoning_content`` becomes ``<think>\\nREASONING</think>`` before the content; the whole
  turn is trimmed;
- ``truncate_history_thinking`` defaults to true: an assistant turn before the last user turn keeps
  ``<think></think>`` + what follows ``</think>``;
- the generation prompt is ``<|im_start|>assistant\\n<think>\\n`` with ``enable_thinking`` (the default)
  and ``<|im_start|>assistant\\n<think></think>`` without.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasonlab.prompting import BOXED_SUFFIX, chat_messages, grader_messages, render_chat

PUZZLE = "In Alice's Wonderland, numbers are secretly converted into a different numeral system.\n11 -> XI"


def test_grader_prompt_has_empty_system_block_and_open_thought():
    text = render_chat(grader_messages(PUZZLE))
    assert text == (
        "<|im_start|>system\n<|im_end|>\n"
        f"<|im_start|>user\n{PUZZLE}\n{BOXED_SUFFIX}<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n"
    )


def test_thinking_off_writes_an_empty_thought():
    assert render_chat(grader_messages("x"), enable_thinking=False).endswith(
        "<|im_start|>assistant\n<think></think>"
    )


def test_history_assistant_turns_get_empty_think_and_lose_old_thinking():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "<think>\nlong reasoning</think>\nfirst"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "second"},
    ]
    text = render_chat(messages, add_generation_prompt=False)
    assert text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\na<|im_end|>\n"
        "<|im_start|>assistant\n<think></think>\nfirst<|im_end|>\n"
        "<|im_start|>user\nb<|im_end|>\n"
        "<|im_start|>assistant\n<think></think>second<|im_end|>\n"
    )
    kept = render_chat(messages, add_generation_prompt=False, truncate_history_thinking=False)
    assert "<think>\nlong reasoning</think>\nfirst" in kept


def test_reasoning_content_is_wrapped_in_think_tags():
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "A", "reasoning_content": "R"},
    ]
    assert "<|im_start|>assistant\n<think>\nR</think>A<|im_end|>\n" in render_chat(
        messages, add_generation_prompt=False
    )


def test_options_add_system_prompt_and_few_shot_turns():
    messages = chat_messages(
        PUZZLE, system_prompt="Think in hex.", few_shot=[("Example puzzle", "\\boxed{1}")]
    )
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"].endswith(BOXED_SUFFIX)
    assert chat_messages(PUZZLE) == grader_messages(PUZZLE)


def test_prompting_imports_without_torch():
    code = "import sys, reasonlab.prompting as p; p.render_chat(p.grader_messages('x')); print('torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "messages",
    [
        grader_messages(PUZZLE),
        chat_messages(PUZZLE, system_prompt="S", few_shot=[("p", "<think>\nr</think>\n\\boxed{2}")]),
    ],
)
def test_transformers_apply_chat_template_renders_the_same(tiny_tokenizer, messages):
    for thinking in (True, False):
        rendered = tiny_tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, enable_thinking=thinking
        )
        assert rendered == render_chat(messages, enable_thinking=thinking)
