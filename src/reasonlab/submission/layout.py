"""Conversion between the two ways a Nemotron-H LoRA adapter can be laid out.

*Native* (transformers ``NemotronHForCausalLM`` + PEFT): modules live under ``model.layers.N.mixer``; the 128
routed experts of a layer are one fused 3-D parameter per projection (``experts.up_proj``, shape
``(E, out, in)``), adapted with PEFT ``target_parameters``. PEFT stores one LoRA pair per fused parameter:

    lora_A.weight  (E*r, in)   rows ordered (expert, rank):   A_e = A.view(E, r, in)[e]
    lora_B.weight  (out, r*E)  columns ordered (rank, expert): B_e = B.view(out, r, E)[:, :, e]

so that expert e's update is ``scaling * B_e @ A_e``, scaling = alpha / r, exactly the update of an ordinary
rank-r LoRA on a Linear. When both ``up_proj`` and ``down_proj`` are targeted, PEFT nests its wrappers in the
order the parameters are registered (``up_proj`` first, innermost): the up_proj pair is saved as
``experts.base_layer.lora_A.weight`` and the down_proj pair as ``experts.lora_A.weight``.

*Grader* (the checkpoint's own names, what the grader's vLLM loads): ``backbone.layers.N.mixer`` and one
Linear per expert, ``experts.E.up_proj`` with ``lora_A.weight (r, in)`` and ``lora_B.weight (out, r)``.

Both conversions are exact (a reshape and a rename) and inverse to each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from reasonlab.submission.architecture import PEFT_PREFIX

NATIVE_ROOT, GRADER_ROOT = "model.", "backbone."
FUSED_EXPERT_PARAMS = ("up_proj", "down_proj")  # registration order in NemotronHExperts
_LORA_SUFFIX = re.compile(r"\.(lora_A|lora_B)\.weight$")
_FUSED = re.compile(r"(?P<layer>.*\.mixer\.experts)(?P<wrappers>(\.base_layer)*)$")
_PER_EXPERT = re.compile(r"(?P<layer>.*\.mixer\.experts)\.(?P<expert>\d+)\.(?P<proj>up_proj|down_proj)$")


class LayoutError(ValueError):
    pass


@dataclass(frozen=True)
class Adapter:
    config: dict
    tensors: dict[str, torch.Tensor]


def split_key(key: str) -> tuple[str, str]:
    """``base_model.model.<module>.lora_A.weight`` -> (module, "lora_A")."""
    match = _LORA_SUFFIX.search(key)
    if not key.startswith(PEFT_PREFIX) or not match:
        raise LayoutError(
            f"{key}: not a PEFT LoRA weight (expected {PEFT_PREFIX}<module>.lora_A|lora_B.weight)"
        )
    return key[len(PEFT_PREFIX) : match.start()], match.group(1)


def is_native(adapter: Adapter) -> bool:
    if adapter.config.get("target_parameters"):
        return True
    return any(split_key(k)[0].startswith(NATIVE_ROOT) for k in adapter.tensors)


def targeted_expert_params(config: dict) -> list[str]:
    """The fused expert parameters the config targets, in PEFT's nesting order (innermost first)."""
    targets = config.get("target_parameters") or []
    return [p for p in FUSED_EXPERT_PARAMS if any(t == p or t.endswith(f".{p}") for t in targets)]


def _rename_root(module: str, old: str, new: str) -> str:
    return new + module[len(old) :] if module.startswith(old) else module


def to_grader_layout(adapter: Adapter, num_experts: int, base_model: str | None = None) -> Adapter:
    """Native (fused experts, ``model.*``) -> grader (one Linear per expert, ``backbone.*``)."""
    expert_params = targeted_expert_params(adapter.config)
    tensors: dict[str, torch.Tensor] = {}
    for key, value in adapter.tensors.items():
        module, which = split_key(key)
        module = _rename_root(module, NATIVE_ROOT, GRADER_ROOT)
        fused = _FUSED.fullmatch(module)
        if not fused:
            tensors[f"{PEFT_PREFIX}{module}.{which}.weight"] = value
            continue
        depth = fused.group("wrappers").count(".base_layer")
        if depth >= len(expert_params):
            raise LayoutError(
                f"{key}: fused-expert LoRA nested {depth} deep, but target_parameters names "
                f"{len(expert_params)} expert parameter(s) ({expert_params})"
            )
        proj = expert_params[len(expert_params) - 1 - depth]
        for expert, part in enumerate(_split_experts(value, which, num_experts, key)):
            tensors[f"{PEFT_PREFIX}{fused.group('layer')}.{expert}.{proj}.{which}.weight"] = part.contiguous()
    config = dict(adapter.config)
    config.pop("target_parameters", None)
    config.pop("auto_mapping", None)
    config["target_modules"] = target_regex(split_key(k)[0] for k in tensors)
    config["rank_pattern"] = _rename_pattern(config.get("rank_pattern"), NATIVE_ROOT, GRADER_ROOT)
    config["alpha_pattern"] = _rename_pattern(config.get("alpha_pattern"), NATIVE_ROOT, GRADER_ROOT)
    if base_model:
        config["base_model_name_or_path"] = base_model
    return Adapter(config, tensors)


def to_native_layout(adapter: Adapter, num_experts: int) -> Adapter:
    """Grader (one Linear per expert, ``backbone.*``) -> native (fused experts, ``model.*``)."""
    per_expert: dict[tuple[str, str, str], dict[int, torch.Tensor]] = {}
    tensors: dict[str, torch.Tensor] = {}
    for key, value in adapter.tensors.items():
        module, which = split_key(key)
        module = _rename_root(module, GRADER_ROOT, NATIVE_ROOT)
        match = _PER_EXPERT.fullmatch(module)
        if match:
            per_expert.setdefault((match.group("layer"), match.group("proj"), which), {})[
                int(match.group("expert"))
            ] = value
        else:
            tensors[f"{PEFT_PREFIX}{module}.{which}.weight"] = value
    expert_params = [p for p in FUSED_EXPERT_PARAMS if any(proj == p for _, proj, _ in per_expert)]
    for (layer, proj, which), parts in per_expert.items():
        if sorted(parts) != list(range(num_experts)):
            raise LayoutError(f"{layer}: {proj} has LoRA weights for {len(parts)} of {num_experts} experts")
        ordered = [parts[e] for e in range(num_experts)]
        depth = len(expert_params) - 1 - expert_params.index(proj)
        tensors[f"{PEFT_PREFIX}{layer}{'.base_layer' * depth}.{which}.weight"] = _fuse_experts(ordered, which)
    config = dict(adapter.config)
    modules = [m for m in (split_key(k)[0] for k in tensors) if not _FUSED.fullmatch(m)]
    config["target_modules"] = sorted({m.rsplit(".", 1)[-1] for m in modules}) or None
    config["target_parameters"] = [f"experts.{p}" for p in expert_params] or None
    config["rank_pattern"] = _rename_pattern(config.get("rank_pattern"), GRADER_ROOT, NATIVE_ROOT)
    config["alpha_pattern"] = _rename_pattern(config.get("alpha_pattern"), GRADER_ROOT, NATIVE_ROOT)
    return Adapter(config, tensors)


def _split_experts(value: torch.Tensor, which: str, num_experts: int, key: str) -> list[torch.Tensor]:
    if which == "lora_A":
        rows, width = value.shape
        if rows % num_experts:
            raise LayoutError(f"{key}: {rows} rows do not split into {num_experts} experts")
        return list(value.view(num_experts, rows // num_experts, width).unbind(0))
    out, cols = value.shape
    if cols % num_experts:
        raise LayoutError(f"{key}: {cols} columns do not split into {num_experts} experts")
    return list(value.view(out, cols // num_experts, num_experts).unbind(2))


def _fuse_experts(parts: list[torch.Tensor], which: str) -> torch.Tensor:
    if which == "lora_A":
        return torch.cat(parts, dim=0).contiguous()  # (E*r, in), rows (expert, rank)
    return torch.stack(parts, dim=-1).flatten(1).contiguous()  # (out, r*E), columns (rank, expert)


def target_regex(modules) -> str:
    """A PEFT/vLLM ``target_modules`` regex that matches exactly these modules' kinds in every layer."""
    leaves = set()
    for module in modules:
        if module == "lm_head":
            leaves.add("lm_head")
            continue
        _, _, rest = module.partition(".mixer.")
        leaves.add(
            re.sub(
                r"^experts\.\d+\.", r"experts\\.\\d+\\.", rest.replace("shared_experts.", r"shared_experts\.")
            )
        )
    mixer = sorted(leaf for leaf in leaves if leaf != "lm_head")
    alternatives = []
    if mixer:
        alternatives.append(rf".*\.mixer\.({'|'.join(mixer)})")
    if "lm_head" in leaves:
        alternatives.append("lm_head")
    return "|".join(alternatives) if len(alternatives) > 1 else alternatives[0]


def _rename_pattern(pattern: dict | None, old: str, new: str) -> dict:
    return {_rename_root(k, old, new): v for k, v in (pattern or {}).items()}
