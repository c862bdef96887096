"""``reasonlab bench``: a backend's speed on the grader's workload, over a sweep of batch sizes.

    RUN_DIR/config.yaml, run.json, environment.json   (see reasonlab.runs.rundir)
    RUN_DIR/bench.json     one measured point per swept value (reasonlab.analysis.bench.BenchPoint),
                           plus, with screening options, agreement with the plain model on the same rows
    RUN_DIR/bench.html     throughput, latency and memory against the swept value

The workload is an eval run's: the same config grammar (data, backend, generation, prompt), the same
prompts built by the same code, the configured max tokens. The swept knob is the one that sets how much
work a backend takes at once: ``max_batch_size`` (hf), the engine's ``max_num_seqs`` (vllm),
``concurrency`` (openai). With quantization or speculation switched on, the same rows also go through the
plain backend (at the first swept value): greedy token agreement and the accuracy delta say what the
speed costs. Those screening figures never replace a BF16 greedy evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from reasonlab.analysis.bench import BenchPoint, agreement, choice_agreement, greedy_choices, measure
from reasonlab.grader import extract, verify
from reasonlab.inference.base import Completion, GenerationSettings
from reasonlab.inference.factory import BackendConfig, make_backend
from reasonlab.inference.prompts import puzzle_requests
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.bench_report import BENCH_FILE, write_bench_report
from reasonlab.runs.config import load_config, read_yaml
from reasonlab.runs.evaluate import EvalConfig, default_config_path, select_puzzles
from reasonlab.runs.rundir import RunDir, open_run_dir, write_json_atomic
from reasonlab.runs.seeds import seed_everything

# The knob each backend kind sweeps, as a dotted backend setting.
SWEPT_KNOB = {
    "hf": "max_batch_size",
    "vllm": "engine.max_num_seqs",
    "openai": "concurrency",
    "solver": "none",
}


class BenchConfig(EvalConfig):
    """An eval config plus the sweep. Defaults: the embedded tiny CPU default, 16 rows."""

    sweep: list[int] = Field([1, 4, 16], min_length=1, description="Values of the swept knob (batch size).")
    agreement: bool = Field(True, description="With screening options, compare with the plain backend.")


def load_bench_config(path: str | Path | None, overrides: list[str] = ()) -> BenchConfig:
    if path is None:
        defaults = {**read_yaml(default_config_path()), "data": {"path": "sample", "limit": 16}}
        return load_config(BenchConfig, None, overrides, defaults=defaults)
    return load_config(BenchConfig, path, overrides)


def swept(backend: BackendConfig, value: int) -> BackendConfig:
    """``backend`` with its swept knob set to ``value``."""
    knob = SWEPT_KNOB[backend.kind]
    if knob == "none":
        return backend
    if knob.startswith("engine."):
        return backend.model_copy(update={"engine": {**backend.engine, knob.split(".", 1)[1]: value}})
    return backend.model_copy(update={knob: value})


def plain(backend: BackendConfig) -> BackendConfig | None:
    """``backend`` without its screening options (quantization, speculation); None when it has none."""
    reset = {
        "quantization": "none",
        "kv_cache_dtype": "auto",
        "speculative": "none",
        "draft_model": None,
        "speculative_config": None,
    }
    current = {key: getattr(backend, key) for key in reset}
    return None if current == reset else backend.model_copy(update=reset)


@dataclass
class BenchResult:
    run: RunDir
    points: list[BenchPoint]
    agreement: dict[str, Any] | None


def _accuracy(puzzles: list[Puzzle], completions: dict[str, Completion]) -> float:
    """The grader's accuracy; a truncated completion is never correct."""
    correct = sum(
        p.id in completions
        and completions[p.id].finish_reason != "length"
        and verify(p.answer, extract(completions[p.id].text))
        for p in puzzles
    )
    return correct / len(puzzles)


def _encoder(backend: BackendConfig):
    """Token ids for agreement: the model's own tokenizer where there is one, else characters."""
    if backend.kind in ("hf", "vllm"):
        from transformers import AutoTokenizer

        from reasonlab.inference.factory import resolve_model

        tokenizer = AutoTokenizer.from_pretrained(resolve_model(backend.model))
        return "tokens", lambda text: tokenizer.encode(text, add_special_tokens=False)
    return "characters", lambda text: [ord(c) for c in text]


def _teacher_forced(config: BenchConfig, requests, reference: dict[str, Completion]) -> float | None:
    """Teacher-forced greedy agreement of the screened hf model with the plain one, both fed the plain
    model's completions."""
    if config.backend.kind != "hf":
        return None
    texts = {key: completion.text for key, completion in reference.items()}
    choices = []
    for backend_config in (plain(config.backend), config.backend):
        backend = make_backend(swept(backend_config, config.sweep[0]), seed=config.seed)
        try:
            choices.append(greedy_choices(backend, requests, texts))
        finally:
            backend.close()
    return choice_agreement(*choices)


def run_bench(config: BenchConfig, out: str | Path, on_point=lambda point: None) -> BenchResult:
    seed_everything(config.seed)
    run = open_run_dir(out, "bench", config, seed=config.seed)
    puzzles = select_puzzles(config)
    if not puzzles:
        raise ValueError("no rows to benchmark (check data.path, data.families, data.limit)")
    requests = puzzle_requests(
        puzzles,
        system_prompt=config.prompt.system_prompt,
        few_shot=[(e.puzzle, e.reply) for e in config.prompt.few_shot],
    )
    settings = GenerationSettings(
        max_tokens=config.generation.max_tokens,
        temperature=config.generation.temperature,
        top_p=config.generation.top_p,
        enable_thinking=config.generation.enable_thinking,
        seed=config.seed,
    )
    knob = SWEPT_KNOB[config.backend.kind]
    points, first = [], None
    for value in config.sweep:
        backend = swept(config.backend, value)
        point, completions = measure(
            lambda b=backend: make_backend(b, seed=config.seed), requests, settings, knob=knob, value=value
        )
        point.details["accuracy"] = _accuracy(puzzles, completions)
        points.append(point)
        first = first or completions
        run.record_device()
        on_point(point)
    reference = plain(config.backend) if config.agreement else None
    compared = None
    if reference is not None:
        base_point, base = measure(
            lambda: make_backend(swept(reference, config.sweep[0]), seed=config.seed),
            requests,
            settings,
            knob=knob,
            value=config.sweep[0],
        )
        unit, encode = _encoder(config.backend)
        compared = {
            **agreement(base, first, encode),
            "teacher_forced_agreement": _teacher_forced(config, requests, base),
            "unit": unit,
            "accuracy_plain": _accuracy(puzzles, base),
            "accuracy_delta": points[0].details["accuracy"] - _accuracy(puzzles, base),
            "plain": base_point.to_dict(),
            "speedup": points[0].tokens_per_s / base_point.tokens_per_s,
        }
    write_json_atomic(
        run.file(BENCH_FILE),
        {
            "backend": config.backend.model_dump(mode="json"),
            "max_tokens": config.generation.max_tokens,
            "rows": len(puzzles),
            "knob": knob,
            "points": [p.to_dict() for p in points],
            "agreement": compared,
        },
    )
    write_bench_report(run.path)
    return BenchResult(run, points, compared)
