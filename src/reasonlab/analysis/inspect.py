"""Architecture costs from a configuration alone: parameters by part, LoRA sizes, cache memory.

The model is built on the meta device (accelerate's ``init_empty_weights``), so no weight is loaded,
allocated or downloaded; the parameter counts are read from that module tree, so they are whatever
transformers' own class would hold. The shipped competition configuration
(``data/nemotron-3-nano-30b-a3b.json``) is the default.

Active parameters per token: every part counts whole except the routed experts, of which
``num_experts_per_tok / n_routed_experts`` are used per token. The embedding table is counted whole (the
usual convention and NVIDIA's "including embeddings" figure); ``active_excluding_embeddings`` leaves it out.

LoRA sizes follow the target presets of :mod:`reasonlab.training.targets`, in both module layouts: the
native one (what ``reasonlab train`` adapts, fused experts) and the grader's per-expert one. A LoRA of rank
r on a Linear (out, in) holds r·(in + out) parameters; PEFT's LoRA on a fused (E, out, in) expert tensor
holds r·E·(in + out), the same as E per-expert ones. The submission's size is the native adapter packed
for the grader (``reasonlab submit pack`` reshapes it, the count does not change) in float32, PEFT's
default dtype for adapter weights (bfloat16 halves it). The ``all`` preset's ``lm_head`` is counted as the
preset names it, although ``reasonlab train`` refuses it (TRL reads ``lm_head.weight`` directly).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from reasonlab.grader import MAX_TOKENS
from reasonlab.submission.architecture import (
    ATTENTION,
    COMPETITION_MODEL,
    MAMBA,
    MLP,
    MOE,
    Architecture,
)
from reasonlab.training.targets import NATIVE, PER_EXPERT, PRESETS, nemotron_targets

COMPETITION_CONFIG = "nemotron-3-nano-30b-a3b.json"
DEFAULT_CONTEXT = MAX_TOKENS
DEFAULT_BATCH = 64  # the grader's max_num_seqs
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}
ADAPTER_BYTES = DTYPE_BYTES["float32"]
PARTS = (
    "embeddings",
    "mamba",
    "attention",
    "mlp",
    "shared_expert",
    "routed_experts",
    "router",
    "moe_latent",
    "norms",
    "head",
    "other",
)
_NEMOTRON_LAYER = re.compile(r"model\.layers\.(\d+)\.(.+)")
_MOE_PARTS = {"experts": "routed_experts", "shared_experts": "shared_expert", "gate": "router"}
_KIND_PARTS = {MAMBA: "mamba", ATTENTION: "attention", MLP: "mlp"}
# Other architectures: the first matching name fragment decides the part.
_GENERIC_PARTS = (
    ("embed", "embeddings"),
    ("lm_head", "head"),
    ("norm", "norms"),
    ("attn", "attention"),
    ("attention", "attention"),
    ("mlp", "mlp"),
)


class InspectError(ValueError):
    pass


@dataclass(frozen=True)
class PartCount:
    part: str
    total: int
    active: int


@dataclass(frozen=True)
class LoraCount:
    preset: str
    native: int  # trainable parameters of the native layout's adapter (what reasonlab train adapts)
    per_expert: int  # the same preset in the grader's per-expert layout
    submission_bytes: int  # the native adapter packed for the grader, float32


@dataclass(frozen=True)
class Inspection:
    name: str
    model_type: str
    layer_pattern: str  # one character per layer (Nemotron-H: M Mamba-2, E MoE, * attention, - MLP)
    layer_counts: dict[str, int]
    routed_experts: int
    experts_per_token: int
    shared_experts: int
    parts: list[PartCount]
    total: int
    active: int
    active_excluding_embeddings: int
    lora_rank: int
    lora: list[LoraCount]
    dtype: str
    kv_cache_bytes_per_token: int
    mamba_state_bytes_per_sequence: int
    batch: int
    context: int
    weights_bytes: int
    cache_bytes: int
    notes: list[str] = field(default_factory=list)

    @property
    def memory_bytes(self) -> int:
        return self.weights_bytes + self.cache_bytes

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "memory_bytes": self.memory_bytes}


def load_config(model_or_config: str | Path | None = None):
    """A transformers config from a config.json, a model directory, ``tiny:<kind>``, the competition
    model's name (its shipped configuration) or a Hugging Face id (only its config.json is fetched)."""
    from transformers import AutoConfig

    if model_or_config is None or str(model_or_config) == COMPETITION_MODEL:
        with resources.as_file(resources.files("reasonlab") / "data" / COMPETITION_CONFIG) as path:
            config = AutoConfig.from_pretrained(path)
        config._name_or_path = COMPETITION_MODEL
        return config
    source = str(model_or_config)
    if source.startswith("tiny:"):
        from reasonlab.training.modeling import resolve_model_path

        return AutoConfig.from_pretrained(resolve_model_path(source))
    path = Path(source)
    if path.is_file():
        try:
            described = json.loads(path.read_text()).get("name")  # the shipped file names its model
        except (OSError, json.JSONDecodeError) as exc:
            raise InspectError(f"{path}: cannot read a model config ({exc})") from None
        config = AutoConfig.from_pretrained(path)
        config._name_or_path = described or str(path)
        return config
    return AutoConfig.from_pretrained(source)


def build_on_meta(config):
    """The causal-LM model of ``config`` with every parameter on the meta device (no memory, no weights)."""
    from accelerate import init_empty_weights
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        return AutoModelForCausalLM.from_config(config)


def layer_pattern(config) -> str:
    return config.hybrid_override_pattern if config.model_type == "nemotron_h" else ""


def part_of(parameter: str, pattern: str) -> str:
    """Which part of the model a parameter belongs to (by its name and, for Nemotron-H, its layer's kind)."""
    if pattern:
        if parameter.startswith("model.embeddings."):
            return "embeddings"
        if parameter.startswith("lm_head."):
            return "head"
        match = _NEMOTRON_LAYER.fullmatch(parameter)
        if match is None or not match.group(2).startswith("mixer."):
            return "norms" if "norm" in parameter else "other"
        kind, module = pattern[int(match.group(1))], match.group(2).split(".")[1]
        if kind == MOE:
            return _MOE_PARTS.get(module, "moe_latent")
        return _KIND_PARTS[kind]
    return next((part for fragment, part in _GENERIC_PARTS if fragment in parameter), "other")


def count_parts(model, config) -> list[PartCount]:
    pattern = layer_pattern(config)
    totals = dict.fromkeys(PARTS, 0)
    for name, parameter in model.named_parameters():
        totals[part_of(name, pattern)] += parameter.numel()
    routed = getattr(config, "n_routed_experts", 0)
    share = (config.num_experts_per_tok, routed) if routed else (1, 1)
    return [
        PartCount(part, total, total * share[0] // share[1] if part == "routed_experts" else total)
        for part, total in totals.items()
        if total
    ]


def _native_lora(model, preset: str, rank: int) -> int:
    """LoRA parameters of ``preset`` on the native model, matched the way PEFT matches its targets."""
    from torch import nn

    targets = nemotron_targets(list(PRESETS[preset]), NATIVE)
    pattern = re.compile(targets.target_modules)
    total = 0
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and pattern.fullmatch(name):
            total += rank * (module.in_features + module.out_features)
        for parameter_name in targets.target_parameters or ():
            owner, _, leaf = parameter_name.rpartition(".")
            if name == owner or name.endswith(f".{owner}"):
                experts, out_features, in_features = getattr(module, leaf).shape
                total += rank * experts * (in_features + out_features)
    return total


def _per_expert_modules(arch: Architecture):
    """(module path, (out, in)) of every LoRA-able Linear in the grader's layout."""
    for layer, kind in enumerate(arch.layer_kinds):
        for leaf, shape in arch.mixer_linears(kind).items():
            prefix = f"backbone.layers.{layer}.mixer."
            if "experts.E." in leaf:
                for expert in range(arch.n_routed_experts):
                    yield prefix + leaf.replace(".E.", f".{expert}."), shape
            else:
                yield prefix + leaf, shape
    yield "lm_head", (arch.vocab_size, arch.hidden_size)


def _per_expert_lora(arch: Architecture, preset: str, rank: int) -> int:
    pattern = re.compile(nemotron_targets(list(PRESETS[preset]), PER_EXPERT).target_modules)
    return sum(rank * (o + i) for path, (o, i) in _per_expert_modules(arch) if pattern.fullmatch(path))


def lora_counts(model, config, rank: int) -> list[LoraCount]:
    if config.model_type != "nemotron_h":
        return []  # the presets name Nemotron-H modules
    arch = Architecture.from_config(config.to_dict(), name=config._name_or_path)
    counts = []
    for preset in PRESETS:
        native = _native_lora(model, preset, rank)
        counts.append(LoraCount(preset, native, _per_expert_lora(arch, preset, rank), native * ADAPTER_BYTES))
    return counts


def cache_bytes(config, dtype_bytes: int) -> tuple[int, int]:
    """(KV-cache bytes per token over the attention layers, Mamba state bytes per sequence).

    A Mamba-2 layer keeps a fixed state whatever the context: the SSM state (heads x head_dim x
    state_size, in ``mamba_ssm_cache_dtype``) and the last ``conv_kernel - 1`` inputs of its convolution.
    """
    pattern = layer_pattern(config)
    if pattern:
        attention_layers = pattern.count(ATTENTION)
        kv_heads, head_dim = config.num_key_value_heads, config.head_dim
    else:
        attention_layers = config.num_hidden_layers
        kv_heads = config.num_key_value_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    kv_per_token = attention_layers * 2 * kv_heads * head_dim * dtype_bytes
    if not pattern:
        return kv_per_token, 0
    inner = config.mamba_num_heads * config.mamba_head_dim
    ssm_bytes = DTYPE_BYTES[str(config.mamba_ssm_cache_dtype)]
    ssm = inner * config.ssm_state_size * ssm_bytes
    conv = (inner + 2 * config.n_groups * config.ssm_state_size) * (config.conv_kernel - 1) * dtype_bytes
    return kv_per_token, pattern.count(MAMBA) * (ssm + conv)


def inspect_model(
    model_or_config: str | Path | None = None,
    *,
    rank: int = 32,
    batch: int = DEFAULT_BATCH,
    context: int = DEFAULT_CONTEXT,
    dtype: str = "bfloat16",
) -> Inspection:
    if dtype not in DTYPE_BYTES:
        raise InspectError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")
    config = load_config(model_or_config)
    model = build_on_meta(config)
    parts = count_parts(model, config)
    total = sum(p.total for p in parts)
    active = sum(p.active for p in parts)
    embeddings = sum(p.total for p in parts if p.part == "embeddings")
    pattern = layer_pattern(config)
    kv_per_token, mamba_state = cache_bytes(config, DTYPE_BYTES[dtype])
    inspection = Inspection(
        name=str(config._name_or_path or config.model_type),
        model_type=config.model_type,
        layer_pattern=pattern,
        layer_counts={kind: pattern.count(kind) for kind in (MAMBA, MOE, ATTENTION, MLP) if kind in pattern},
        routed_experts=getattr(config, "n_routed_experts", 0),
        experts_per_token=getattr(config, "num_experts_per_tok", 0),
        shared_experts=getattr(config, "n_shared_experts", 0),
        parts=parts,
        total=total,
        active=active,
        active_excluding_embeddings=active - embeddings,
        lora_rank=rank,
        lora=lora_counts(model, config, rank),
        dtype=dtype,
        kv_cache_bytes_per_token=kv_per_token,
        mamba_state_bytes_per_sequence=mamba_state,
        batch=batch,
        context=context,
        weights_bytes=total * DTYPE_BYTES[dtype],
        cache_bytes=batch * (context * kv_per_token + mamba_state),
    )
    if inspection.name == COMPETITION_MODEL:
        inspection.notes.extend(published_figures(inspection, config))
    return inspection


def published_figures(inspection: Inspection, config) -> list[str]:
    """Where NVIDIA's published figures for Nemotron-3-Nano differ from the configuration's count, and why."""
    billions = 1e9
    shared_width, routed_width = config.moe_shared_expert_intermediate_size, config.moe_intermediate_size
    return [
        f"total {inspection.total / billions:.2f}B: the tech report's 31.6B; the name's and the model card's "
        "'30B' round it down",
        f"active {inspection.active / billions:.2f}B with the embedding table, "
        f"{inspection.active_excluding_embeddings / billions:.2f}B without it: NVIDIA's '3.2B active' leaves the "
        "embedding table out; the model card's '3.5B active' (and the name's 'A3B') round the count with it down",
        f"experts per token {inspection.experts_per_token} (config num_experts_per_tok): some model-card text "
        "says 5; the configuration is what the model computes",
        f"shared experts {inspection.shared_experts}, {shared_width} wide = {shared_width // routed_width} x "
        f"a routed expert's {routed_width}: pages that say '2 shared experts' count its width",
        f"weights {inspection.total * 2 / billions:.1f} GB in bfloat16: the published BF16 checkpoint's size",
    ]
