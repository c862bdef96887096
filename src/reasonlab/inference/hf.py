"""The transformers backend (optionally with a PEFT adapter), with dynamic batching.

Requests are sorted by prompt length so a batch pads little, and batches are refilled as sequences
finish: generation runs in segments of ``refill_tokens`` new tokens; after each segment, finished
sequences leave (their completion is yielded at once) and waiting requests take their places. A
continuing sequence re-enters the next segment with its prompt and the tokens generated so far, so the
batch never idles on one long straggler while work waits. ``refill_tokens=None`` gives static batches.
Each refill re-reads the continuing sequences (one prefill), so a segment should be long against that
cost: a few hundred tokens for long generations, less when completions are short.

Screening options (:mod:`reasonlab.inference.quantize`, :mod:`reasonlab.inference.speculation`):
quantized weights (an adapter is merged first), and speculative decoding, which runs one request at
a time. Each completion notes when its first token came (``extra["first_token_seconds"]``) and, under
speculation, how many target forward passes it took (``extra["target_forwards"]``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reasonlab.inference.base import (
    FINISH_LENGTH,
    FINISH_STOP,
    Completion,
    FixedFeed,
    GenerationSettings,
    ReferenceScore,
    Request,
    RequestFeed,
    TokenScore,
)
from reasonlab.inference.prompts import prompt_ids, reference_tokens
from reasonlab.inference.quantize import load_time_quantization, quantize_model, weight_bytes
from reasonlab.inference.speculation import Speculation


@dataclass
class _Sequence:
    request: Request
    prompt: list[int]
    started: float
    max_tokens: int
    generated: list[int] = field(default_factory=list)
    first_token_at: float | None = None
    target_forwards: int = 0


class _FirstStep:
    """A ``generate`` streamer that notes when the first new tokens of a segment arrived (the first
    call carries the prompt; each later one a step's new tokens, for every row of the batch)."""

    def __init__(self) -> None:
        self.calls = 0
        self.at: float | None = None

    def put(self, value) -> None:
        self.calls += 1
        if self.calls == 2:
            self.at = time.perf_counter()

    def end(self) -> None:
        pass


def _resolve_device(device: str) -> str:
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def _resolve_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, dtype)


class HfBackend:
    name = "hf"

    def __init__(
        self,
        model: str | Path,
        *,
        adapter: str | Path | None = None,
        device: str = "auto",
        dtype: str = "auto",
        attn_implementation: str | None = None,
        max_batch_size: int = 16,
        refill_tokens: int | None = 256,
        quantization: str = "none",
        speculation: Speculation | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self.device = _resolve_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        speculation = speculation or Speculation()
        load_options = {"dtype": _resolve_dtype(dtype, self.device)}
        if attn_implementation is not None:
            load_options["attn_implementation"] = attn_implementation
        loaded = AutoModelForCausalLM.from_pretrained(
            model, **load_options, **load_time_quantization(quantization, self.device)
        )
        speculation.check_model(loaded)
        if adapter is not None:
            from reasonlab.training.live_lora import load_lora

            loaded = load_lora(loaded, adapter)
            if quantization != "none":  # quantized layers take no adapter: fold it into the weights first
                loaded = loaded.merge_and_unload()
        if not getattr(loaded, "is_quantized", False):
            loaded = loaded.to(self.device)
        self.quantization = quantize_model(loaded, quantization, self.device)
        self.model = loaded.eval()
        self.weight_bytes = weight_bytes(self.model)
        self.speculation = speculation
        self.draft = None
        if speculation.method == "draft":
            self.draft = AutoModelForCausalLM.from_pretrained(speculation.draft_model, **load_options)
            speculation.check_model(self.draft, role="draft model")
            self.draft = self.draft.to(self.device).eval()
        # Assisted decoding takes one sequence at a time, and a refill would only re-read its prompt.
        self.max_batch_size = 1 if speculation.enabled else max_batch_size
        self.refill_tokens = None if speculation.enabled else refill_tokens
        self.stop_ids = self._stop_ids()
        self._torch = torch

    def _stop_ids(self) -> set[int]:
        config_eos = self.model.generation_config.eos_token_id
        ids = set(
            config_eos if isinstance(config_eos, list) else [config_eos] if config_eos is not None else []
        )
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def _segment(
        self, batch: list[_Sequence], new_tokens: int, settings: GenerationSettings
    ) -> list[list[int]]:
        """Generate up to ``new_tokens`` for every sequence of the batch; returns the new ids of each."""
        torch = self._torch
        inputs = [s.prompt + s.generated for s in batch]
        width = max(len(ids) for ids in inputs)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in inputs], device=self.device)
        attention = torch.tensor(
            [[0] * (width - len(ids)) + [1] * len(ids) for ids in inputs], device=self.device
        )
        sampling = (
            {"do_sample": True, "temperature": settings.temperature, "top_p": settings.top_p}
            if settings.temperature > 0
            else {"do_sample": False}
        )
        first_step = _FirstStep()
        forwards = [0]
        counter = self._target().register_forward_pre_hook(
            lambda *_: forwards.__setitem__(0, forwards[0] + 1)
        )
        try:
            with torch.inference_mode():
                output = self.model.generate(
                    input_ids=input_ids,
                    attention_mask=attention,
                    max_new_tokens=new_tokens,
                    pad_token_id=pad,
                    eos_token_id=sorted(self.stop_ids),
                    streamer=first_step,
                    **sampling,
                    **self.speculation.generate_kwargs(self.draft),
                )
        finally:
            counter.remove()
        for sequence in batch:
            sequence.target_forwards += forwards[0]
            if sequence.first_token_at is None:
                sequence.first_token_at = first_step.at
        return output[:, width:].tolist()

    def _target(self):
        """The module whose forward passes are the target model's (under PEFT, the wrapped model)."""
        base = getattr(self.model, "get_base_model", None)
        return base() if callable(base) else self.model

    def generate(self, requests: Sequence[Request], settings: GenerationSettings) -> Iterator[Completion]:
        return self.generate_from_feed(settings, FixedFeed(requests, settings.max_tokens))

    def generate_from_feed(self, settings: GenerationSettings, feed: RequestFeed) -> Iterator[Completion]:
        """Generation that takes the feed's arrivals and drops its abandoned requests between segments
        (of ``refill_tokens``), each sequence to its own budget."""
        if settings.temperature > 0:
            self._torch.manual_seed(settings.seed)
        waiting: deque[_Sequence] = deque()
        active: list[_Sequence] = []
        while True:
            arrived = [
                _Sequence(
                    a.request,
                    prompt_ids(self.tokenizer, a.request, enable_thinking=settings.enable_thinking),
                    time.perf_counter(),
                    a.max_tokens,
                )
                for a in feed.arrivals()
            ]
            # Shortest first: neighbours in the queue have similar lengths, so batches pad little.
            waiting.extend(sorted(arrived, key=lambda s: len(s.prompt)))
            waiting = deque(s for s in waiting if not feed.abandoned(s.request.id))
            active = [s for s in active if not feed.abandoned(s.request.id)]
            if not (waiting or active):
                return
            while waiting and len(active) < self.max_batch_size:
                sequence = waiting.popleft()
                sequence.started = time.perf_counter()
                active.append(sequence)
            remaining = max(s.max_tokens - len(s.generated) for s in active)
            segment = min(remaining, self.refill_tokens or remaining)
            new_ids = self._segment(active, segment, settings)
            still_running = []
            for sequence, ids in zip(active, new_ids, strict=True):
                finished = self._append(sequence, ids)
                if finished is None:
                    still_running.append(sequence)
                else:
                    yield self._completion(sequence, finished)
            active = still_running

    def _append(self, sequence: _Sequence, new_ids: list[int]) -> str | None:
        """Add a segment's tokens; the finish reason if the sequence is done, else None."""
        # generate() pads a row after its stop token; reading stops at that token, so padding is never taken.
        for token in new_ids:
            sequence.generated.append(token)
            if token in self.stop_ids:
                return FINISH_STOP
            if len(sequence.generated) >= sequence.max_tokens:
                return FINISH_LENGTH
        return None

    def _completion(self, sequence: _Sequence, finish_reason: str) -> Completion:
        text_ids = sequence.generated
        if finish_reason == FINISH_STOP:
            text_ids = text_ids[:-1]
        # vLLM (the grader's engine) holds back an incomplete UTF-8 character at the end of its output;
        # decoding would show it as U+FFFD, so it is dropped here too.
        text = self.tokenizer.decode(text_ids, skip_special_tokens=True).rstrip("\ufffd")
        extra = {}
        if sequence.first_token_at is not None:
            extra["first_token_seconds"] = sequence.first_token_at - sequence.started
        if self.speculation.enabled:
            extra["target_forwards"] = sequence.target_forwards
        return Completion(
            id=sequence.request.id,
            text=text,
            prompt_tokens=len(sequence.prompt),
            completion_tokens=len(sequence.generated),
            finish_reason=finish_reason,
            seconds=time.perf_counter() - sequence.started,
            extra=extra,
        )

    def score_references(
        self, requests: Sequence[Request], references: Sequence[str], settings: GenerationSettings
    ) -> Iterator[ReferenceScore]:
        """Teacher forcing: each prompt followed by its reference, in length-sorted batches of one forward
        pass. Sequences are padded on the right, where causal layers (attention and the Mamba scan alike)
        cannot see the padding, so every score equals that of the sequence alone."""
        torch = self._torch
        rows = []
        for request, reference in zip(requests, references, strict=True):
            ids, spans = reference_tokens(self.tokenizer, reference)
            prompt = prompt_ids(self.tokenizer, request, enable_thinking=settings.enable_thinking)
            rows.append((request.id, prompt, ids, spans))
        rows.sort(key=lambda row: len(row[1]) + len(row[2]))
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(rows), self.max_batch_size):
            batch = rows[start : start + self.max_batch_size]
            sequences = [prompt + ids for _, prompt, ids, _ in batch]
            width = max(len(s) for s in sequences)
            input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in sequences], device=self.device)
            mask = torch.tensor(
                [[1] * len(s) + [0] * (width - len(s)) for s in sequences], device=self.device
            )
            with torch.inference_mode():
                logits = self.model(input_ids=input_ids, attention_mask=mask, use_cache=False).logits
            for row, (row_id, prompt, ids, spans) in enumerate(batch):
                # Position p predicts token p + 1: the reference tokens are predicted from len(prompt) - 1 on.
                positions = slice(len(prompt) - 1, len(prompt) - 1 + len(ids))
                log_probs = torch.log_softmax(logits[row, positions].float(), dim=-1)
                target = torch.tensor(ids, device=self.device)
                chosen = log_probs.gather(1, target[:, None])[:, 0].tolist()
                greedy = log_probs.argmax(-1).tolist()
                yield ReferenceScore(
                    row_id,
                    [
                        TokenScore(span[0], span[1], lp, top == token, self.tokenizer.decode([top]))
                        for span, lp, top, token in zip(spans, chosen, greedy, ids, strict=True)
                    ],
                )

    def close(self) -> None:
        del self.model
        self.draft = None
