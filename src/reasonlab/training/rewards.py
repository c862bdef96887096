"""GRPO reward functions as plain callables with TRL's contract.

``reward(prompts, completions, completion_ids=None, **columns) -> list[float]``: one score per completion;
``columns`` are the dataset's other columns (``answer`` here). Completions are chat turns
(``[{"role": "assistant", "content": ...}]``) or plain strings. The generation prompt ends inside the
thought (``<think>\\n``), so a well-formed completion closes ``</think>`` and then gives one ``\\boxed{}``.

Rewards are made by factories (:class:`RewardFactory`) that take the options of the config: the built-ins
(``correctness``, ``format``, ``conciseness``) and those plugins register under the entry point group
``reasonlab.rewards``, all named in :data:`REWARDS`. Users also give their own as
``package.module:function`` (the reward itself, or a factory when options are given).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from reasonlab.grader import MAX_TOKENS, boxed_contents, is_correct
from reasonlab.plugins import PluginError, Registry
from reasonlab.training.config import RewardSpec


@runtime_checkable
class Reward(Protocol):
    """TRL's reward contract: one score per completion."""

    def __call__(self, prompts: Sequence, completions: Sequence, **columns: Any) -> list[float]: ...


@runtime_checkable
class RewardFactory(Protocol):
    """Builds a reward from the options of its config entry."""

    def __call__(self, **options: Any) -> Reward: ...


THINK_CLOSE = "</think>"


def completion_text(completion) -> str:
    if isinstance(completion, str):
        return completion
    return "".join(
        turn.get("content") or "" for turn in completion if turn.get("role", "assistant") == "assistant"
    )


def correctness(legacy_extraction: bool = False) -> Reward:
    """1 if the grader's extraction and comparison accept the answer, else 0 (``reasonlab.grader``, as eval)."""

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


def conciseness(budget: int = MAX_TOKENS, free_fraction: float = 0.25) -> Reward:
    """0 up to ``free_fraction`` of the token budget, then falling linearly to -1 at the budget."""

    def conciseness_reward(prompts, completions, completion_ids=None, **_) -> list[float]:
        if completion_ids is not None:
            lengths = [len(ids) for ids in completion_ids]
        else:  # no token ids: approximate by characters / 4
            lengths = [len(completion_text(c)) / 4 for c in completions]
        free = free_fraction * budget
        return [-min(1.0, max(0.0, (n - free) / max(budget - free, 1))) for n in lengths]

    return conciseness_reward


REWARDS: Registry[RewardFactory] = Registry(
    "rewards",
    RewardFactory,
    {
        "correctness": "reasonlab.training.rewards:correctness",
        "format": "reasonlab.training.rewards:format_",
        "conciseness": "reasonlab.training.rewards:conciseness",
    },
)


class RewardError(ValueError):
    pass


def build_reward(spec: RewardSpec) -> Reward:
    if spec.name in REWARDS:
        try:
            factory = REWARDS.get(spec.name)
        except PluginError as exc:
            raise RewardError(str(exc)) from None
        try:
            reward = factory(**spec.options)
        except TypeError as exc:
            raise RewardError(f"reward {spec.name!r}: bad options {spec.options} ({exc})") from None
        if not isinstance(reward, Reward):
            raise RewardError(f"{REWARDS.registration(spec.name).label} made {reward!r}, not a reward")
        return reward
    module_name, sep, attribute = spec.name.partition(":")
    if not sep:
        module_name, _, attribute = spec.name.rpartition(".")
    if not module_name or not attribute:
        raise RewardError(
            f"unknown reward {spec.name!r}: use {', '.join(REWARDS.names())} or a dotted path package.module:function"
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
