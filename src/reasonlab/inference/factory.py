"""Backend settings as a validated config, and the one function that builds a backend from them."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reasonlab.inference.base import Backend
from reasonlab.plugins import Registry

TINY_PREFIX = "tiny:"
HF_QUANTIZATION = ("none", "int8", "int4")

# Backend classes by kind: the built-ins, then plugins' (entry point group ``reasonlab.backends``).
BACKENDS: Registry[type[Backend]] = Registry(
    "backends",
    Backend,
    {
        "hf": "reasonlab.inference.hf:HfBackend",
        "vllm": "reasonlab.inference.vllm_backend:VllmBackend",
        "openai": "reasonlab.inference.openai_backend:OpenAIBackend",
        "solver": "reasonlab.inference.solver:SolverBackend",
    },
)


class BackendConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field("hf", description="hf, vllm, openai, solver, or a plugin's backend.")
    model: str = Field(
        "tiny:nemotron-h",
        description="Local path or hub id; 'tiny:<kind>' for a tiny local model; for openai, the served model name.",
    )
    adapter: str | None = Field(None, description="PEFT LoRA adapter directory (hf, vllm).")
    # hf
    device: str = "auto"
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="hf: the weights' dtype; auto: bfloat16 on a GPU, float32 on CPU."
    )
    attn_implementation: Literal["eager", "sdpa", "flex_attention", "flash_attention_2"] | None = Field(
        None,
        description="hf: transformers' attention kernel (None: the model's default). On CPU in bfloat16, "
        "eager gives a forward over several new tokens the same logits, bit for bit, as one-token steps.",
    )
    max_batch_size: int = Field(16, ge=1)
    refill_tokens: int | None = Field(
        256, ge=1, description="hf: new tokens per segment before refilling the batch."
    )
    # vllm: overrides of the grader's engine flags (e.g. gpu_memory_utilization)
    engine: dict[str, Any] = {}
    chunk_size: int = Field(
        256, ge=1, description="vllm: prompts per engine call (completions are stored after each)."
    )
    ray: str | None = Field(
        None,
        description="solver, hf: shard the rows over a Ray cluster ('local', 'auto' or ray://host:10001), "
        "one backend replica per cluster CPU.",
    )
    # openai
    base_url: str | None = None
    base_urls: list[str] = Field(
        [],
        description="openai: several replicas of the model (data parallel); each request goes to the least loaded.",
    )
    api_key_env: str = "OPENAI_API_KEY"
    require_api_key: bool = Field(False, description="openai: refuse to start when api_key_env is unset.")
    concurrency: int = Field(16, ge=1)
    timeout_s: float = Field(600.0, gt=0)
    max_retries: int = Field(4, ge=0)
    # solver
    tokenizer: str | None = Field(None, description="solver: tokenizer used to count tokens.")
    # Screening options: faster or smaller, not the grader's setting (BF16, greedy, no speculation), so
    # score final numbers without them.
    quantization: str = Field(
        "none",
        description="hf: none|int8|int4 weights (method chosen per device); vllm: passed to the engine (e.g. fp8).",
    )
    kv_cache_dtype: str = Field("auto", description="vllm: the KV cache's dtype (e.g. fp8).")
    speculative: Literal["none", "prompt_lookup", "draft"] = Field(
        "none",
        description="hf: prompt-lookup (n-gram) or draft-model assisted decoding, one request at a time.",
    )
    prompt_lookup_tokens: int = Field(10, ge=1, description="hf prompt_lookup: tokens proposed per step.")
    prompt_lookup_max_ngram: int = Field(
        2,
        ge=1,
        description="hf prompt_lookup: longest n-gram (the text's last tokens) searched for in the prompt and "
        "the completion so far; longer ones are tried first (transformers' max_matching_ngram_size).",
    )
    draft_model: str | None = Field(None, description="hf draft: the draft model (same tokenizer).")
    draft_tokens: int = Field(5, ge=1, description="hf draft: tokens the draft proposes per step.")
    speculative_config: dict[str, Any] | None = Field(
        None,
        description="vllm: the engine's speculative_config, e.g. {method: ngram, num_speculative_tokens: 5}.",
    )
    # plugin backends
    options: dict[str, Any] = Field(
        {}, description="A plugin backend's keyword arguments (its class is built as cls(model, **options))."
    )

    # Settings that change speed, not completions: left out of the run's identity.
    THROUGHPUT_FIELDS: ClassVar[tuple[str, ...]] = (
        "device",
        "max_batch_size",
        "refill_tokens",
        "chunk_size",
        "concurrency",
        "timeout_s",
        "max_retries",
        "api_key_env",
        "require_api_key",
        "ray",
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in BACKENDS:
            raise ValueError(f"unknown backend {kind!r}; known: {', '.join(BACKENDS.names())}")
        return kind

    @model_validator(mode="after")
    def _options_fit_the_backend(self) -> BackendConfig:
        if self.kind == "hf" and self.quantization not in HF_QUANTIZATION:
            raise ValueError(
                f"backend.quantization={self.quantization!r}: the hf backend takes {'|'.join(HF_QUANTIZATION)}"
            )
        if self.kind not in ("hf", "vllm") and self.quantization != "none":
            raise ValueError(f"backend.quantization applies to the hf and vllm backends, not {self.kind}")
        if self.kind != "hf" and self.attn_implementation is not None:
            raise ValueError("backend.attn_implementation applies to the hf backend only")
        if self.kind != "vllm" and self.kv_cache_dtype != "auto":
            raise ValueError("backend.kv_cache_dtype applies to the vllm backend only")
        if self.kind != "hf" and self.speculative != "none":
            hint = " (use backend.speculative_config)" if self.kind == "vllm" else ""
            raise ValueError(f"backend.speculative applies to the hf backend only{hint}")
        if self.kind != "vllm" and self.speculative_config is not None:
            raise ValueError("backend.speculative_config applies to the vllm backend only")
        if self.ray is not None and self.kind not in ("solver", "hf"):
            raise ValueError(
                f"backend.ray shards the solver and hf backends, not {self.kind} (which batches itself)"
            )
        if self.base_urls and (self.kind != "openai" or self.base_url is not None):
            raise ValueError("backend.base_urls: the openai backend's replicas, instead of backend.base_url")
        if (self.speculative == "draft") != (self.draft_model is not None):
            raise ValueError("backend.draft_model is needed by, and only by, backend.speculative=draft")
        return self

    def identity(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude=set(self.THROUGHPUT_FIELDS))


def resolve_model(model: str, seed: int = 0) -> str:
    """A path for 'tiny:<kind>' (built and cached on first use); anything else unchanged."""
    if model.startswith(TINY_PREFIX):
        from reasonlab.models.tiny import tiny_model

        return str(tiny_model(model[len(TINY_PREFIX) :], seed=seed))
    return model


def vllm_engine_args(config: BackendConfig) -> dict[str, Any]:
    """Overrides of the grader's engine flags: the screening options, then ``engine`` (which wins)."""
    screening = {
        "quantization": None if config.quantization == "none" else config.quantization,
        "kv_cache_dtype": None if config.kv_cache_dtype == "auto" else config.kv_cache_dtype,
        "speculative_config": config.speculative_config,
    }
    return {**{key: value for key, value in screening.items() if value is not None}, **config.engine}


def make_backend(config: BackendConfig, *, seed: int = 0) -> Backend:
    if config.ray is not None:
        from reasonlab.inference.ray_backend import RayBackend

        return RayBackend(config.model_copy(update={"ray": None}), seed=seed, address=config.ray)
    if config.kind not in BACKENDS.builtin_names():
        return BACKENDS.get(config.kind)(config.model, **config.options)
    if config.kind == "solver":
        from reasonlab.inference.solver import SolverBackend

        tokenizer = resolve_model(config.tokenizer) if config.tokenizer else None
        return SolverBackend(tokenizer=tokenizer)
    if config.kind == "openai":
        from reasonlab.inference.openai_backend import OpenAIBackend

        return OpenAIBackend(
            config.model,
            base_url=config.base_url,
            base_urls=config.base_urls,
            api_key_env=config.api_key_env,
            require_api_key=config.require_api_key,
            concurrency=config.concurrency,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
        )
    model = resolve_model(config.model)
    if config.kind == "vllm":
        from reasonlab.inference.vllm_backend import VllmBackend

        return VllmBackend(
            model, adapter=config.adapter, chunk_size=config.chunk_size, seed=seed, **vllm_engine_args(config)
        )
    from reasonlab.inference.hf import HfBackend
    from reasonlab.inference.speculation import Speculation

    return HfBackend(
        model,
        adapter=config.adapter,
        device=config.device,
        dtype=config.dtype,
        attn_implementation=config.attn_implementation,
        max_batch_size=config.max_batch_size,
        refill_tokens=config.refill_tokens,
        quantization=config.quantization,
        speculation=Speculation.from_config(config, resolve_model),
    )
