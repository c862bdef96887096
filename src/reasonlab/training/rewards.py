"""GRPO reward functions as plain callables with TRL's contract.

``reward(prompts, completions, completion_ids=None, **columns) -> list[float]``: one score per completion;
``columns`` are the dataset's other columns (``answer`` here). Completions are chat turns
(``[{"role": "assistant", "content": ...}]``) or plain strings. The generation prompt ends inside the
thought (``<think>\\n``), so a well-formed completion closes ``</think>`` and then gives one ``\\boxed{}``.

Built-in rewards are made by factories (``correctness``, ``format``, ``conciseness``) that take the
options of the config; users add their own as ``package.module:function`` (the reward itself, or a factory
when options are given).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from reasonlab.scoring.metric import boxed_contents, is_correct
from reasonlab.training.config import RewardSpec

Reward = Callable[..., list[float]]
THINK_CLOSE = "</think>"
GRADER_TOKEN_BUDGET = 7680  # the grader's max_tokens


def completion_text(completion) -> str:
    if isinstance(completion, str):
        return completion
    return "".join(
        turn.get("content") or "" for turn in completion if turn.get("role", "assistant") == "assistant"
    )


def correctness(legacy_extraction: bool = False) -> Reward:
    """1 if the grader's extraction and comparison accept the answer, else 0 (``scoring.metric``, as eval)."""

    def correctness_reward(prompts, completions, answer: Sequence[str], **_) -> list[float]:
        return [
            float(is_correct(str(gold), completion_text(c), legacy=legacy_extraction))
            for c, gold in zip(completions, answer, strict=True)
        ]

    return correctness_reward


def format_(require_thinking: bool = True) -> Reward:
    """Half for closing the thought, half for exactly one non-empty ``\\boxed{}`` after it."""

    def format_reward(prompts, completions, **_) -> list[float]:
        scores = []
        for completion in completions:
            text = completion_text(completion)
            closed = THINK_CLOSE in text
            answer_part = text.rsplit(THINK_CLOSE, 1)[-1] if closed else ("" if require_thinking else text)
            boxes = boxed_contents(answer_part)
            one_box = len(boxes) == 1 and bool(boxes[0].strip())
            scores.append(0.5 * (closed or not require_thinking) + 0.5 * one_box)
        return scores

    return format_reward


def conciseness(budget: int = GRADER_TOKEN_BUDGET, free_fraction: float = 0.25) -> Reward:
    """0 up to ``free_fraction`` of the token budget, then falling linearly to -1 at the budget."""

    def conciseness_reward(prompts, completions, completion_ids=None, **_) -> list[float]:
        if completion_ids is not None:
            lengths = [len(ids) for ids in completion_ids]
        else:  # no token ids: approximate by characters / 4
            lengths = [len(completion_text(c)) / 4 for c in completions]
        free = free_fraction * budget
        return [-min(1.0, max(0.0, (n - free) / max(budget - free, 1))) for n in lengths]

    return conciseness_reward


BUILT_IN: dict[str, Callable[..., Reward]] = {
    "correctness": correctness,
    "format": format_,
    "conciseness": conciseness,
}


class RewardError(ValueError):
    pass


def build_reward(spec: RewardSpec) -> Reward:
    if spec.name in BUILT_IN:
        try:
            return BUILT_IN[spec.name](**spec.options)
        except TypeError as exc:
            raise RewardError(f"reward {spec.name!r}: bad options {spec.options} ({exc})") from None
    module_name, sep, attribute = spec.name.partition(":")
    if not sep:
        module_name, _, attribute = spec.name.rpartition(".")
    if not module_name or not attribute:
        raise RewardError(
            f"unknown reward {spec.name!r}: use {', '.join(BUILT_IN)} or a dotted path package.module:function"
        )
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise RewardError(f"reward {spec.name!r} cannot be imported ({exc})") from None
    return target(**spec.options) if spec.options else target


def build_rewards(specs: Sequence[RewardSpec]) -> tuple[list[Reward], list[float]]:
    if not specs:
        raise RewardError("no rewards configured")
    return [build_reward(s) for s in specs], [s.weight for s in specs]
