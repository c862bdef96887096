"""``digit_match``: a GRPO reward with partial credit, the share of the gold answer's digits that the
completion's boxed answer gets right in place (TRL's reward contract, as reasonlab's own rewards)."""

from __future__ import annotations

from collections.abc import Sequence

from reasonlab.grader import extract
from reasonlab.training.rewards import Reward, completion_text


def digit_match(exact_bonus: float = 0.0) -> Reward:
    """The factory reasonlab calls with the config entry's options; ``exact_bonus`` is added for a
    wholly right answer."""

    def digit_match_reward(prompts, completions, answer: Sequence[str], **_) -> list[float]:
        scores = []
        for completion, gold in zip(completions, answer, strict=True):
            given = extract(completion_text(completion))
            right = sum(g == d for g, d in zip(str(gold), given, strict=False))
            scores.append(right / max(len(str(gold)), 1) + exact_bonus * (given == str(gold)))
        return scores

    return digit_match_reward
