"""Screening options of the backends (quantization, speculative decoding, hosted API keys) on tiny models,
and `reasonlab bench` end to end."""

from __future__ import annotations

import importlib.util
import json

import pytest

from reasonlab.inference.base import GenerationSettings, generate_all
from reasonlab.inference.factory import BackendConfig, make_backend, vllm_engine_args
from reasonlab.inference.prompts import puzzle_requests
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.config import ConfigError, load_config

# Prompts that repeat themselves, so n-gram proposals from the prompt have something to match.
PUZZLES = [
    Puzzle(f"p{i}", "In Alice's Wonderland 12 34 56 12 34 56 " * (1 + i % 3) + f"query {i}", "1")
    for i in range(4)
]
SETTINGS = GenerationSettings(max_tokens=24)


@pytest.fixture(scope="module")
def plain_llama():
    pytest.importorskip("torch")
    backend = make_backend(BackendConfig(model="tiny:llama", device="cpu", max_batch_size=4))
    yield generate_all(backend, puzzle_requests(PUZZLES), SETTINGS), backend
    backend.close()


@pytest.mark.parametrize(
    "options",
    [
        {"speculative": "prompt_lookup", "prompt_lookup_tokens": 4},
        {"speculative": "prompt_lookup", "prompt_lookup_tokens": 3, "prompt_lookup_max_ngram": 4},
        {"speculative": "draft", "draft_model": "tiny:llama"},
    ],
    ids=["prompt_lookup", "prompt_lookup_4gram", "draft"],
)
def test_speculative_decoding_gives_the_plain_greedy_completions(plain_llama, options):
    reference, _ = plain_llama
    backend = make_backend(BackendConfig(model="tiny:llama", device="cpu", **options))
    result = generate_all(backend, puzzle_requests(PUZZLES), SETTINGS)
    assert {i: c.text for i, c in result.items()} == {i: c.text for i, c in reference.items()}
    forwards = [c.extra["target_forwards"] for c in result.values()]
    tokens = [c.completion_tokens for c in result.values()]
    # Speculation never needs more target passes than tokens, and a draft identical to the target has
    # every proposal accepted, so it needs fewer.
    assert all(f <= t for f, t in zip(forwards, tokens, strict=True))
    if options["speculative"] == "draft":
        assert sum(forwards) < sum(tokens)


def test_bfloat16_eager_attention_scores_several_new_tokens_as_one_token_steps_do():
    """What makes prompt lookup pay on a CPU without changing a token: in bfloat16 a verification forward
    costs about what a one-token step costs, and with eager attention its logits are the steps' logits."""
    import torch

    backend = make_backend(
        BackendConfig(model="tiny:llama", device="cpu", dtype="bfloat16", attn_implementation="eager")
    )
    model = backend.model
    assert model.dtype == torch.bfloat16 and model.config._attn_implementation == "eager"
    generator = torch.Generator().manual_seed(0)
    context = torch.randint(3, model.config.vocab_size, (1, 200), generator=generator)
    new = torch.randint(3, model.config.vocab_size, (1, 6), generator=generator)
    with torch.inference_mode():
        cache = model(context, use_cache=True).cache
        together = model(new, cache=cache, use_cache=True).logits[0]
        cache.crop(-new.shape[1])
        one_by_one = torch.cat(
            [model(new[:, i : i + 1], cache=cache, use_cache=True).logits[0] for i in range(new.shape[1])]
        )
    assert torch.equal(together, one_by_one)


def test_prompt_lookup_in_bfloat16_with_eager_attention_gives_the_plain_greedy_completions():
    options = {"model": "tiny:llama", "device": "cpu", "dtype": "bfloat16", "attn_implementation": "eager"}
    plain = generate_all(make_backend(BackendConfig(**options)), puzzle_requests(PUZZLES), SETTINGS)
    lookup = generate_all(
        make_backend(BackendConfig(**options, speculative="prompt_lookup", prompt_lookup_tokens=5)),
        puzzle_requests(PUZZLES),
        SETTINGS,
    )
    assert {i: c.text for i, c in lookup.items()} == {i: c.text for i, c in plain.items()}


def test_prompt_lookup_options_reach_transformers_candidate_generator(monkeypatch):
    from transformers.generation import utils

    built = []

    class Recorded(utils.PromptLookupCandidateGenerator):
        def __init__(self, **kwargs):
            built.append((kwargs["num_output_tokens"], kwargs["max_matching_ngram_size"]))
            super().__init__(**kwargs)

    monkeypatch.setattr(utils, "PromptLookupCandidateGenerator", Recorded)
    options = {"prompt_lookup_tokens": 3, "prompt_lookup_max_ngram": 5}
    backend = make_backend(
        BackendConfig(model="tiny:llama", device="cpu", speculative="prompt_lookup", **options)
    )
    generate_all(backend, puzzle_requests(PUZZLES[:1]), GenerationSettings(max_tokens=4))
    assert built == [(3, 5)]


def test_speculation_on_nemotron_h_is_refused_with_the_way_that_works(tiny_model_dir):
    from reasonlab.inference.speculation import SpeculationUnsupported

    with pytest.raises(SpeculationUnsupported, match="Mamba.*vllm backend.*speculative_config"):
        make_backend(BackendConfig(model=str(tiny_model_dir), device="cpu", speculative="prompt_lookup"))


def test_int8_on_cpu_shrinks_the_weights_and_still_generates(plain_llama):
    _, plain = plain_llama
    backend = make_backend(BackendConfig(model="tiny:llama", device="cpu", quantization="int8"))
    assert backend.quantization.startswith("torch dynamic int8")
    assert backend.weight_bytes < plain.weight_bytes
    result = generate_all(backend, puzzle_requests(PUZZLES), SETTINGS)
    assert {c.completion_tokens for c in result.values()} and all(c.text is not None for c in result.values())


def test_int8_on_nemotron_h_keeps_the_fused_experts(tiny_model_dir):
    backend = make_backend(BackendConfig(model=str(tiny_model_dir), device="cpu", quantization="int8"))
    result = generate_all(backend, puzzle_requests(PUZZLES[:2]), GenerationSettings(max_tokens=8))
    assert len(result) == 2
    experts = [name for name, _ in backend.model.named_parameters() if "experts" in name]
    assert experts, "the routed experts are fused 3-D parameters, left unquantized"


@pytest.mark.skipif(
    importlib.util.find_spec("torchao") is None, reason="int4 on CPU needs torchao (extra 'quant')"
)
def test_int4_on_cpu_uses_torchao(plain_llama):
    _, plain = plain_llama
    backend = make_backend(BackendConfig(model="tiny:llama", device="cpu", quantization="int4"))
    assert backend.quantization.startswith("torchao int4")
    assert backend.weight_bytes < plain.weight_bytes


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["backend.quantization=int3"], "backend.quantization='int3'"),
        (["backend.kind=openai", "backend.quantization=int8"], "quantization"),
        (["backend.speculative=ngram"], "speculative"),
        (["backend.speculative=draft"], "draft_model"),
        (["backend.kind=vllm", "backend.speculative=prompt_lookup"], "speculative_config"),
        (["backend.kind=hf", "backend.kv_cache_dtype=fp8"], "kv_cache_dtype"),
        (["backend.prompt_lookup_tokens=0"], "prompt_lookup_tokens"),
        (["backend.prompt_lookup_max_ngram=0"], "prompt_lookup_max_ngram"),
        (["backend.prompt_lookup_max_ngram=two"], "prompt_lookup_max_ngram"),
        (["backend.dtype=bf16"], "dtype"),
        (["backend.attn_implementation=fast"], "attn_implementation"),
        (["backend.kind=vllm", "backend.attn_implementation=eager"], "attn_implementation"),
    ],
)
def test_bad_screening_options_name_the_option(overrides, named):
    from reasonlab.runs.evaluate import EvalConfig

    with pytest.raises(ConfigError, match=named):
        load_config(EvalConfig, None, overrides)


def test_vllm_screening_options_pass_through_to_the_engine():
    config = BackendConfig(
        kind="vllm",
        model="m",
        quantization="fp8",
        kv_cache_dtype="fp8",
        speculative_config={"method": "ngram", "num_speculative_tokens": 5},
        engine={"max_num_seqs": 8},
    )
    assert vllm_engine_args(config) == {
        "quantization": "fp8",
        "kv_cache_dtype": "fp8",
        "speculative_config": {"method": "ngram", "num_speculative_tokens": 5},
        "max_num_seqs": 8,
    }
    assert vllm_engine_args(BackendConfig(kind="vllm", model="m")) == {}


def test_hosted_api_without_its_key_stops_before_any_request(monkeypatch):
    from pathlib import Path

    from reasonlab.runs.evaluate import load_eval_config

    config = load_eval_config(Path(__file__).resolve().parents[1] / "configs" / "nvidia-api-eval.yaml")
    monkeypatch.delenv("NVIDIA_API_KEY", raising=False)
    with pytest.raises(ValueError, match="NVIDIA_API_KEY is not set"):
        make_backend(config.backend)
    monkeypatch.setenv("NVIDIA_API_KEY", "nvapi-test")
    assert make_backend(config.backend).api_key == "nvapi-test"


def test_bench_measures_each_swept_value_and_compares_with_the_plain_model(tmp_path):
    from typer.testing import CliRunner

    from reasonlab.cli.main import app

    runner = CliRunner()
    args = ["bench", "sweep=[1,2]", "data.limit=4", "generation.max_tokens=12", "backend.model=tiny:llama"]
    first = runner.invoke(app, [*args, "backend.speculative=prompt_lookup", "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    bench = json.loads((tmp_path / "a" / "bench.json").read_text())
    assert [p["value"] for p in bench["points"]] == [1, 2] and bench["knob"] == "max_batch_size"
    for point in bench["points"]:
        assert point["requests"] == 4 and point["tokens_per_s"] > 0
        assert point["latency_s"]["p50"] <= point["latency_s"]["p95"] <= point["latency_s"]["p99"]
        assert point["first_token_s"] is not None and point["peak_rss_bytes"] > 0
        assert 0 <= point["harness_overhead"] < 0.05
    # Prompt lookup is lossless: the plain model's greedy completions are reproduced exactly.
    assert bench["agreement"]["token_agreement"] == 1.0 and bench["agreement"]["identical"] == 1.0
    assert bench["agreement"]["teacher_forced_agreement"] == 1.0
    html = (tmp_path / "a" / "bench.html").read_text()
    assert html.count("data:image/svg+xml;base64,") == 3
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    assert json.loads((tmp_path / "b" / "bench.json").read_text())["agreement"] is None
    compared = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert compared.exit_code == 0, compared.output
    assert "tokens/s" in compared.output
