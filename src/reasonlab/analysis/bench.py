"""Measuring one backend on a workload: throughput, latency, time to first token, peak memory.

A *point* is one setting of the swept knob (batch size or concurrency); everything about it is
measured in one pass over the same requests. What the backend cannot report is left out (None), never
estimated: time to first token comes from backends that note it (hf), target forward passes from
speculative decoding. The harness's own cost (the loop around the backend's generator, the memory
sampler) is timed too, so a report can show that measuring did not change what was measured.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from reasonlab.inference.base import Backend, Completion, GenerationSettings, Request

PERCENTILES = (50, 95, 99)


class PeakMemory:
    """Samples this process's resident memory in a thread (``interval`` seconds apart) and keeps the
    highest; with CUDA present, the device's peak allocation is read from torch as well."""

    def __init__(self, interval: float = 0.02):
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak_rss = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        cuda = _cuda()
        if cuda is not None:
            cuda.reset_peak_memory_stats()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)

    @property
    def cuda_peak(self) -> int | None:
        cuda = _cuda()
        return cuda.max_memory_allocated() if cuda is not None else None


def _cuda():
    """torch.cuda when torch is already loaded (by the backend) and a GPU is present, else None."""
    import sys

    torch = sys.modules.get("torch")
    return torch.cuda if torch is not None and torch.cuda.is_available() else None


def percentiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    if len(values) == 1:
        return {f"p{p}": values[0] for p in PERCENTILES}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {f"p{p}": cuts[p - 1] for p in PERCENTILES}


@dataclass
class BenchPoint:
    """One setting of the swept knob, measured."""

    knob: str
    value: int
    requests: int
    completion_tokens: int
    generation_seconds: float
    harness_seconds: float  # the measuring loop's own time, outside the backend
    setup_seconds: float  # building the backend (model load), not counted in throughput
    tokens_per_s: float
    requests_per_s: float
    latency_s: dict[str, float] | None
    first_token_s: dict[str, float] | None
    peak_rss_bytes: int
    cuda_peak_bytes: int | None
    weight_bytes: int | None
    tokens_per_target_forward: float | None  # speculative decoding: > 1 when proposals are accepted
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def harness_overhead(self) -> float:
        return self.harness_seconds / self.generation_seconds if self.generation_seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "harness_overhead": self.harness_overhead}


def measure(
    build: Callable[[], Backend],
    requests: Sequence[Request],
    settings: GenerationSettings,
    *,
    knob: str,
    value: int,
) -> tuple[BenchPoint, dict[str, Completion]]:
    """Build a backend, generate every request once, and measure it; returns the point and the
    completions by id (for agreement checks)."""
    began = time.perf_counter()
    backend = build()
    setup = time.perf_counter() - began
    completions: dict[str, Completion] = {}
    harness = 0.0
    try:
        with PeakMemory() as memory:
            started = time.perf_counter()
            for completion in backend.generate(list(requests), settings):
                received = time.perf_counter()
                completions[completion.id] = completion
                harness += time.perf_counter() - received
            elapsed = time.perf_counter() - started
        weights = getattr(backend, "weight_bytes", None)
        details = {"quantization": getattr(backend, "quantization", None)}
    finally:
        backend.close()
    generation = max(elapsed - harness, 1e-9)
    done = list(completions.values())
    tokens = sum(c.completion_tokens for c in done)
    forwards = [c.extra["target_forwards"] for c in done if "target_forwards" in c.extra]
    point = BenchPoint(
        knob=knob,
        value=value,
        requests=len(done),
        completion_tokens=tokens,
        generation_seconds=generation,
        harness_seconds=harness,
        setup_seconds=setup,
        tokens_per_s=tokens / generation,
        requests_per_s=len(done) / generation,
        latency_s=percentiles(sorted(c.seconds for c in done)),
        first_token_s=percentiles(
            sorted(c.extra["first_token_seconds"] for c in done if "first_token_seconds" in c.extra)
        ),
        peak_rss_bytes=memory.peak_rss,
        cuda_peak_bytes=memory.cuda_peak,
        weight_bytes=weights,
        tokens_per_target_forward=tokens / sum(forwards) if forwards and sum(forwards) else None,
        details=details,
    )
    return point, completions


def token_agreement(reference: Sequence[int], candidate: Sequence[int]) -> int:
    """How many of the reference's tokens the candidate reproduces before their first difference."""
    same = 0
    for a, b in zip(reference, candidate, strict=False):
        if a != b:
            break
        same += 1
    return same


def agreement(
    reference: dict[str, Completion], candidate: dict[str, Completion], encode: Callable[[str], list[int]]
) -> dict[str, float]:
    """Greedy agreement of ``candidate`` with ``reference`` on their common rows: the share of the
    reference's tokens reproduced before the first divergence, and the share of identical completions."""
    common = sorted(set(reference) & set(candidate))
    if not common:
        raise ValueError("no common rows to compare")
    kept = total = identical = 0
    for key in common:
        ref, cand = encode(reference[key].text), encode(candidate[key].text)
        kept += token_agreement(ref, cand)
        total += max(len(ref), len(cand))
        identical += reference[key].text == candidate[key].text
    return {
        "rows": len(common),
        "token_agreement": kept / total if total else 1.0,
        "identical": identical / len(common),
    }


def greedy_choices(backend, requests: Sequence[Request], texts: dict[str, str]) -> dict[str, list[int]]:
    """Teacher-forced greedy choices of an hf backend's model: fed each prompt and ``texts[id]``, the token
    it ranks first at every position of that text."""
    import torch

    from reasonlab.inference.prompts import prompt_ids

    choices = {}
    with torch.inference_mode():
        for request in requests:
            target = backend.tokenizer.encode(texts[request.id], add_special_tokens=False)
            prompt = prompt_ids(backend.tokenizer, request, enable_thinking=True)
            logits = backend.model(input_ids=torch.tensor([prompt + target])).logits[0]
            choices[request.id] = logits[len(prompt) - 1 : -1].argmax(-1).tolist()
    return choices


def choice_agreement(a: dict[str, list[int]], b: dict[str, list[int]]) -> float:
    """The share of positions where two models, fed the same text, rank the same token first: greedy
    agreement position by position, without the cascade of free runs (where one early difference
    changes everything after it)."""
    same = sum(x == y for key in a for x, y in zip(a[key], b[key], strict=True))
    total = sum(len(a[key]) for key in a)
    return same / total if total else 1.0
