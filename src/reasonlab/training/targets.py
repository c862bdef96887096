"""Which modules of a Nemotron-H model a LoRA adapts: presets by part, for both module layouts.

Parts: ``attention`` (q/k/v/o_proj), ``mamba`` (in_proj, out_proj), ``shared_experts`` and ``routed_experts``
(up/down_proj; experts are non-gated, there is no gate_proj), ``lm_head``. Named presets combine them;
``competition`` is the official demo's choice (Mamba + all experts), ``competition-attention`` adds attention.

Layouts:
- ``native``: transformers' NemotronHForCausalLM (``model.layers.N.mixer``), routed experts fused into 3-D
  parameters that PEFT adapts through ``target_parameters`` (no dropout there). The Mamba ``out_proj`` is
  adapted too: the fused Mamba kernel reads ``out_proj.weight`` directly, so ``training.live_lora`` routes
  the mixers through the kernel's unfused branch and calls ``out_proj`` as a module (PEFT alone refuses it).
- ``per-expert``: the checkpoint's own remote-code class and the grader's vLLM (``backbone.layers.N.mixer``),
  one Linear per routed expert.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasonlab.grader import MAX_LORA_RANK

NATIVE, PER_EXPERT = "native", "per-expert"
PARTS = ("attention", "mamba", "shared_experts", "routed_experts", "lm_head")
PRESETS = {
    "competition": ("mamba", "shared_experts", "routed_experts"),
    "competition-attention": ("attention", "mamba", "shared_experts", "routed_experts"),
    "all": ("attention", "mamba", "shared_experts", "routed_experts", "lm_head"),
}
_MIXER_MODULES = {
    NATIVE: {
        "attention": ["q_proj", "k_proj", "v_proj", "o_proj"],
        "mamba": ["in_proj", "out_proj"],
        "shared_experts": [r"shared_experts\.up_proj", r"shared_experts\.down_proj"],
        "routed_experts": [],
    },
    PER_EXPERT: {
        "attention": ["q_proj", "k_proj", "v_proj", "o_proj"],
        "mamba": ["in_proj", "out_proj"],
        "shared_experts": [r"shared_experts\.up_proj", r"shared_experts\.down_proj"],
        "routed_experts": [r"experts\.\d+\.up_proj", r"experts\.\d+\.down_proj"],
    },
}
_ROOT = {NATIVE: r"model\.layers\.\d+\.mixer", PER_EXPERT: r"backbone\.layers\.\d+\.mixer"}


class TargetError(ValueError):
    pass


@dataclass(frozen=True)
class LoraTargets:
    """What to hand PEFT: ``target_modules`` (one full-match regex) and ``target_parameters`` (fused experts)."""

    target_modules: str | list[str]
    target_parameters: list[str] | None = None


def expand_parts(targets: str | list[str]) -> list[str] | None:
    """Preset or part names -> the parts, in canonical order; None if ``targets`` are raw module names."""
    names = [targets] if isinstance(targets, str) else list(targets)
    parts: set[str] = set()
    for name in names:
        if name in PRESETS:
            parts.update(PRESETS[name])
        elif name in PARTS:
            parts.add(name)
        else:
            return None
    return [p for p in PARTS if p in parts]


def nemotron_targets(parts: list[str], layout: str = NATIVE) -> LoraTargets:
    if layout not in _ROOT:
        raise TargetError(f"unknown layout {layout!r} (use {NATIVE!r} or {PER_EXPERT!r})")
    mixer = [m for part in parts if part != "lm_head" for m in _MIXER_MODULES[layout][part]]
    alternatives = [rf"{_ROOT[layout]}\.({'|'.join(mixer)})"] if mixer else []
    if "lm_head" in parts:
        alternatives.append("lm_head")
    if not alternatives and not (layout == NATIVE and "routed_experts" in parts):
        raise TargetError("no modules to adapt")
    routed = (
        ["experts.up_proj", "experts.down_proj"] if layout == NATIVE and "routed_experts" in parts else None
    )
    # PEFT needs some target_modules; a pattern that matches nothing is fine when only experts are adapted.
    return LoraTargets("|".join(alternatives) or r"^$", routed)


def resolve_targets(targets: str | list[str], layout: str = NATIVE) -> LoraTargets:
    """Presets/parts become Nemotron-H patterns; anything else (``all-linear``, module names) goes to PEFT as is."""
    parts = expand_parts(targets)
    if parts is None:
        return LoraTargets(targets)
    return nemotron_targets(parts, layout)


def check_rank(rank: int, competition: bool) -> None:
    if rank < 1:
        raise TargetError(f"LoRA rank must be positive, got {rank}")
    if competition and rank > MAX_LORA_RANK:
        raise TargetError(
            f"LoRA rank {rank} exceeds the grader's max_lora_rank={MAX_LORA_RANK}; "
            "lower it, or set competition: false for an adapter that is not a submission"
        )
