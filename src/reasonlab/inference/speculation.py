"""Speculative decoding for the hf backend: prompt lookup (n-gram) and a draft model.

Both are lossless for greedy decoding: a proposed token is kept only where the target model's own
argmax agrees, so completions are the ones plain decoding gives (tests check byte identity on tiny
models), only in fewer target forward passes when proposals are accepted. Traces copy much of the
prompt (example values, columns), which is where prompt lookup pays.

transformers' assisted decoding works one sequence at a time, and it must roll back the model's cache
when proposals are rejected, which a Mamba layer's recurrent state cannot do: on Nemotron-H it is
refused here with a pointer to vLLM's speculative decoding (n-gram or an EAGLE-3 draft), which keeps
what a hybrid model needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

SpeculationMethod = Literal["none", "prompt_lookup", "draft"]


class SpeculationUnsupported(ValueError):
    pass


@dataclass(frozen=True)
class Speculation:
    method: SpeculationMethod = "none"
    prompt_lookup_tokens: int = 10
    prompt_lookup_max_ngram: int = 2
    draft_model: str | None = None
    draft_tokens: int = 5

    @classmethod
    def from_config(cls, config: Any, resolve: Callable[[str], str]) -> Speculation:
        """From a backend config's ``speculative*`` fields; ``resolve`` turns a model name into a path."""
        return cls(
            method=config.speculative,
            prompt_lookup_tokens=config.prompt_lookup_tokens,
            prompt_lookup_max_ngram=config.prompt_lookup_max_ngram,
            draft_model=resolve(config.draft_model) if config.draft_model else None,
            draft_tokens=config.draft_tokens,
        )

    @property
    def enabled(self) -> bool:
        return self.method != "none"

    def check_model(self, model: Any, role: str = "model") -> None:
        """Refuse a model whose cache cannot be rolled back, naming what works instead."""
        if self.enabled and getattr(model, "_is_stateful", False):
            raise SpeculationUnsupported(
                f"backend.speculative={self.method}: the {role} ({type(model).__name__}) keeps a recurrent "
                "(Mamba) state that transformers' assisted decoding cannot roll back. Use the vllm backend "
                "with backend.speculative_config (e.g. {method: ngram, num_speculative_tokens: 5, "
                "prompt_lookup_max: 4}, or an EAGLE-3 draft), or backend.speculative=none."
            )

    def generate_kwargs(self, draft: Any | None) -> dict[str, Any]:
        """Arguments for ``model.generate``."""
        if self.method == "prompt_lookup":
            return {
                "prompt_lookup_num_tokens": self.prompt_lookup_tokens,
                "max_matching_ngram_size": self.prompt_lookup_max_ngram,
            }
        if self.method == "draft":
            return {
                "assistant_model": draft,
                "num_assistant_tokens": self.draft_tokens,
                "num_assistant_tokens_schedule": "constant",
            }
        return {}
