"""Load the model and tokenizer a config names, pick the dtype, and build the PEFT LoRA config."""

from __future__ import annotations

from pathlib import Path

import torch

from reasonlab.training.config import LoraSpec, ModelSpec
from reasonlab.training.targets import (
    NATIVE,
    PER_EXPERT,
    TargetError,
    check_rank,
    expand_parts,
    resolve_targets,
)

TINY_PREFIX = "tiny:"


def resolve_model_path(name_or_path: str, seed: int = 0) -> str:
    """``tiny:<kind>`` builds (once, cached) a small random-init model; anything else is returned as is."""
    if name_or_path.startswith(TINY_PREFIX):
        from reasonlab.models.tiny import tiny_model

        return str(tiny_model(name_or_path[len(TINY_PREFIX) :], seed=seed))
    return name_or_path


def choose_dtype(spec: ModelSpec) -> torch.dtype:
    if spec.dtype != "auto":
        return getattr(torch, spec.dtype)
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_tokenizer(path: str, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(spec: ModelSpec, seed: int = 0):
    """(model, tokenizer, resolved path). The model is on CPU; the trainer places it."""
    from transformers import AutoModelForCausalLM

    path = resolve_model_path(spec.name_or_path, seed)
    kwargs = {"dtype": choose_dtype(spec), "trust_remote_code": spec.trust_remote_code}
    if spec.attn_implementation:
        kwargs["attn_implementation"] = spec.attn_implementation
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs, **spec.config_overrides)
    return model, load_tokenizer(path, spec.trust_remote_code), path


def has_mamba_layers(model) -> bool:
    return any(type(m).__name__.endswith("Mamba2Mixer") or hasattr(m, "A_log") for m in model.modules())


def lora_config(spec: LoraSpec, model):
    """The PEFT ``LoraConfig`` for ``spec`` on ``model``, or None when every weight is trained."""
    from peft import LoraConfig

    if not spec.enabled:
        return None
    check_rank(spec.r, spec.competition)
    parts = expand_parts(spec.targets)
    if parts is not None and getattr(model.config, "model_type", "") != "nemotron_h":
        raise TargetError(
            f"LoRA presets name Nemotron-H modules; this model is {model.config.model_type!r}: "
            "list its module names in lora.targets (for example [q_proj, v_proj] or all-linear)"
        )
    targets = resolve_targets(spec.targets, spec.layout)
    if targets.target_parameters and spec.dropout > 0:
        raise TargetError(
            f"lora.dropout={spec.dropout}: PEFT's LoRA on fused expert parameters ({spec.layout} layout, "
            "routed_experts) has no dropout; set lora.dropout: 0"
        )
    native_class = type(model).__module__.startswith("transformers.models.nemotron_h")
    if parts is not None and (spec.layout == NATIVE) != native_class:
        expected = NATIVE if native_class else PER_EXPERT
        raise TargetError(
            f"lora.layout is {spec.layout}, but {type(model).__module__} needs layout: {expected}"
        )
    config = LoraConfig(
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        use_dora=spec.use_dora,
        target_modules=targets.target_modules,
        target_parameters=targets.target_parameters,
        task_type="CAUSAL_LM",
    )
    if spec.competition and getattr(model.config, "model_type", "") == "nemotron_h":
        refuse_modules_the_grader_cannot_load(config, model)
    return config


def refuse_modules_the_grader_cannot_load(config, model) -> None:
    """Every module ``config`` targets must be a LoRA-able Linear of the real model in the grader's layout
    (``conv1d``, the router, norms and embeddings are not), judged by the same table as ``submit check``."""
    from peft.tuners.tuners_utils import check_target_module_exists

    from reasonlab.submission.architecture import Architecture
    from reasonlab.submission.layout import GRADER_ROOT, NATIVE_ROOT

    architecture = Architecture.from_config(model.config.to_dict(), name=model.config.name_or_path)
    problems = []
    for name, _ in model.named_modules():
        if not name or not check_target_module_exists(config, name):
            continue
        grader_name = GRADER_ROOT + name[len(NATIVE_ROOT) :] if name.startswith(NATIVE_ROOT) else name
        lookup = architecture.lookup(grader_name)
        if lookup.shape is None:
            problems.append(f"{name} ({lookup.problem})")
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise TargetError(
            f"lora.targets adapts modules the grader's vLLM cannot load: {shown}. Narrow lora.targets, or set "
            "lora.competition: false for an adapter that is not a submission"
        )


def save_adapter_or_model(model, tokenizer, directory: Path) -> Path:
    """Save what was trained: the adapter (no copies of base weights) or the whole model, with the tokenizer."""
    directory.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "peft_config"):
        model.save_pretrained(directory, save_embedding_layers=False)
    else:
        model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
