"""Backend settings as a validated config, and the one function that builds a backend from them."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reasonlab.inference.base import Backend
from reasonlab.plugins import Registry

TINY_PREFIX = "tiny:"

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
    dtype: str = "auto"
    max_batch_size: int = Field(16, ge=1)
    refill_tokens: int | None = Field(
        256, ge=1, description="hf: new tokens per segment before refilling the batch."
    )
    # vllm: overrides of the grader's engine flags (e.g. gpu_memory_utilization)
    engine: dict[str, Any] = {}
    chunk_size: int = Field(
        256, ge=1, description="vllm: prompts per engine call (completions are stored after each)."
    )
    # openai
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(16, ge=1)
    timeout_s: float = Field(600.0, gt=0)
    max_retries: int = Field(4, ge=0)
    # solver
    tokenizer: str | None = Field(None, description="solver: tokenizer used to count tokens.")
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
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in BACKENDS:
            raise ValueError(f"unknown backend {kind!r}; known: {', '.join(BACKENDS.names())}")
        return kind

    def identity(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude=set(self.THROUGHPUT_FIELDS))


def resolve_model(model: str, seed: int = 0) -> str:
    """A path for 'tiny:<kind>' (built and cached on first use); anything else unchanged."""
    if model.startswith(TINY_PREFIX):
        from reasonlab.models.tiny import tiny_model

        return str(tiny_model(model[len(TINY_PREFIX) :], seed=seed))
    return model


def make_backend(config: BackendConfig, *, seed: int = 0) -> Backend:
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
            api_key_env=config.api_key_env,
            concurrency=config.concurrency,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
        )
    model = resolve_model(config.model)
    if config.kind == "vllm":
        from reasonlab.inference.vllm_backend import VllmBackend

        return VllmBackend(
            model, adapter=config.adapter, chunk_size=config.chunk_size, seed=seed, **config.engine
        )
    from reasonlab.inference.hf import HfBackend

    return HfBackend(
        model,
        adapter=config.adapter,
        device=config.device,
        dtype=config.dtype,
        max_batch_size=config.max_batch_size,
        refill_tokens=config.refill_tokens,
    )
