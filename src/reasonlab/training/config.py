"""Validated training configs (YAML + overrides): the model, the LoRA, the data, the optimiser, monitoring."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reasonlab.grader import MAX_LORA_RANK
from reasonlab.training.targets import NATIVE, PER_EXPERT


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(Strict):
    name_or_path: str = Field(
        "tiny:nemotron-h",
        description="A Hugging Face id or directory, or tiny:<kind> (nemotron-h, nemotron-h-dense, llama) "
        "for a small random-init model built locally.",
    )
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="auto: bfloat16 on a GPU that has it, float32 on CPU."
    )
    trust_remote_code: bool = False
    attn_implementation: str | None = None
    config_overrides: dict = Field(
        default_factory=dict, description="Model config fields to change at load (e.g. chunk_size: 16)."
    )


class LoraSpec(Strict):
    enabled: bool = Field(True, description="False trains every weight (a tiny model from scratch).")
    r: int = Field(32, ge=1)
    alpha: float = Field(16, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    targets: str | list[str] = Field(
        "competition",
        description="Presets (competition, competition-attention, all), parts (attention, mamba, "
        "shared_experts, routed_experts, lm_head), or module names passed to PEFT as they are.",
    )
    layout: Literal["native", "per-expert"] = Field(
        NATIVE,
        description=f"{NATIVE}: transformers' NemotronH (fused experts); {PER_EXPERT}: remote-code class.",
    )
    use_dora: bool = Field(False, description="DoRA (weight-decomposed LoRA); not with competition: true.")
    competition: bool = Field(
        True,
        description=f"Refuse what the grader's vLLM cannot load: ranks above {MAX_LORA_RANK}, DoRA, "
        "modules that are not LoRA-able Linears of the real model.",
    )
    init_from: str | None = Field(None, description="Continue training this saved adapter.")

    @model_validator(mode="after")
    def _rank_within_grader_limit(self):
        if self.enabled and self.competition and self.r > MAX_LORA_RANK:
            raise ValueError(
                f"rank {self.r} exceeds the grader's max_lora_rank={MAX_LORA_RANK} (competition: false to allow it)"
            )
        if self.enabled and self.competition and self.use_dora:
            raise ValueError(
                "use_dora: the grader's vLLM loads plain LoRA only (its LoRA layers have no DoRA magnitude "
                "vector), so a DoRA adapter would not load (competition: false to allow it)"
            )
        return self


class DataSpec(Strict):
    train: list[str] = Field(
        default_factory=list, description="JSONL or Parquet files with a messages column."
    )
    eval: list[str] = Field(default_factory=list)
    eval_fraction: float = Field(
        0.0, ge=0, lt=1, description="Held out from train when no eval files are given."
    )
    max_rows: int | None = Field(None, ge=1)
    family_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Mixture of puzzle families (the records' family column): the training set is resampled "
        "to these relative shares, keeping its size; families left out are dropped.",
    )
    force_oversampling: bool = Field(
        False, description="Allow family_weights to repeat a family's records more than 3 times."
    )


class TrackingSpec(Strict):
    tensorboard: bool = True
    mlflow: bool = True
    mlflow_tracking_uri: str | None = Field(
        None, description="A shared MLflow server; default: a file store in <output_root>/mlruns."
    )
    experiment: str = "reasonlab"
    rich_progress: bool = True


class OptimSpec(Strict):
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="Stop after this many optimiser steps (-1: run the epochs).")
    learning_rate: float = Field(2e-4, gt=0)
    batch_size: int = Field(4, ge=1, description="Per device.")
    gradient_accumulation_steps: int = Field(1, ge=1)
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = False
    logging_steps: int = 10
    save_steps: int = 200
    save_total_limit: int | None = 2
    eval_steps: int | None = None


class SFTSpec(OptimSpec):
    max_length: int = Field(8192, ge=8, description="Longest sequence kept (prompt + trace), in tokens.")
    completion_only_loss: bool = Field(
        True, description="Loss on the assistant turn only (False: on the whole conversation)."
    )
    packing: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Pack sequences (bfd, padding-free). auto: only for attention-only models with flash "
        "attention; a Mamba layer's state would leak across packed sequences.",
    )


class RewardSpec(Strict):
    name: str = Field(
        description="correctness, format, conciseness, a plugin's reward, or a dotted path module:function."
    )
    weight: float = 1.0
    options: dict = Field(default_factory=dict, description="Keyword arguments of the reward's factory.")


class GRPOSpec(OptimSpec):
    learning_rate: float = Field(1e-5, gt=0)
    num_generations: int = Field(8, ge=2)
    max_prompt_length: int | None = None
    max_completion_length: int = Field(1024, ge=1)
    temperature: float = 1.0
    beta: float = 0.0
    use_vllm: bool = False
    rewards: list[RewardSpec] = Field(
        default_factory=lambda: [
            RewardSpec(name="correctness", weight=1.0),
            RewardSpec(name="format", weight=0.2),
            RewardSpec(name="conciseness", weight=0.1),
        ]
    )


class RunSpec(Strict):
    name: str = "train"
    output_root: str = Field("runs", description="Run directories are created under this folder.")
    seed: int = 0
    model: ModelSpec = ModelSpec()
    lora: LoraSpec = LoraSpec()
    data: DataSpec = DataSpec()
    tracking: TrackingSpec = TrackingSpec()

    def identity(self) -> dict:
        """What defines a training run's results; the step budget may grow when resuming."""
        data = self.model_dump(mode="json")
        for key in ("max_steps", "epochs", "save_steps", "logging_steps", "eval_steps", "save_total_limit"):
            data["train"].pop(key, None)
        data.pop("tracking", None)
        return data


class SFTConfig(RunSpec):
    name: str = "sft"
    train: SFTSpec = SFTSpec()

    @model_validator(mode="after")
    def _needs_data(self):
        if not self.data.train:
            raise ValueError("data.train: give at least one JSONL/Parquet file of SFT records")
        return self


class GRPOConfig(RunSpec):
    name: str = "grpo"
    lora: LoraSpec = LoraSpec(r=16, alpha=32)
    train: GRPOSpec = GRPOSpec()

    @model_validator(mode="after")
    def _needs_data(self):
        if not self.data.train:
            raise ValueError("data.train: give at least one CSV/JSONL/Parquet file of puzzles with answers")
        return self
