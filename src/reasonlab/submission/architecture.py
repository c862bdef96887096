"""The Nemotron-H module tree, described from a config: which LoRA-able Linear lives where, with what shape.

The competition's base model ships with reasonlab (``data/nemotron-3-nano-30b-a3b.json``, values of its
``config.json`` and where they come from), so a submission can be checked offline. Any other Nemotron-H config
(for example a tiny model's ``config.json``) describes its own tree the same way.

Module paths here are in the grader's layout, the one vLLM and the original checkpoint use:
``backbone.layers.N.mixer.<name>`` with one Linear per routed expert (``experts.E.up_proj``) and ``lm_head``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

COMPETITION_MODEL = "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
PEFT_PREFIX = "base_model.model."  # PEFT's key prefix, also what vLLM strips

MAMBA, MOE, ATTENTION, MLP = "M", "E", "*", "-"
# transformers writes the pattern as a list of block names; the checkpoint as one character per layer.
_BLOCK_NAMES = {
    "mamba": MAMBA,
    "linear_attention": MAMBA,
    "moe": MOE,
    "attention": ATTENTION,
    "full_attention": ATTENTION,
    "mlp": MLP,
}
_MIXER = re.compile(r"backbone\.layers\.(\d+)\.mixer\.(.+)")
_ROUTED_EXPERT = re.compile(r"experts\.(\d+)\.(up_proj|down_proj)")
NOT_LORA_ABLE = {
    "conv1d": "the Mamba conv1d is a depthwise convolution the grader's vLLM cannot wrap with LoRA",
    "gate": "the MoE router is not a LoRA-able Linear",
    "norm": "norms are not LoRA-able",
}


class ArchitectureError(ValueError):
    pass


@dataclass(frozen=True)
class Lookup:
    """Where a module path leads: a Linear's (out_features, in_features), or why there is none."""

    shape: tuple[int, int] | None
    problem: str = ""


@dataclass(frozen=True)
class Architecture:
    name: str
    layer_kinds: str  # one character per layer: M Mamba-2, E MoE, * attention, - dense MLP
    hidden_size: int
    vocab_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    mamba_num_heads: int
    mamba_head_dim: int
    n_groups: int
    ssm_state_size: int
    n_routed_experts: int
    moe_intermediate_size: int
    moe_shared_expert_intermediate_size: int
    intermediate_size: int
    source: str = ""

    @classmethod
    def from_config(cls, config: dict, name: str | None = None) -> Architecture:
        if config.get("hybrid_override_pattern"):
            kinds = str(config["hybrid_override_pattern"])
        elif config.get("layers_block_type") or config.get("layer_types"):
            names = config.get("layers_block_type") or config["layer_types"]
            unknown = sorted({n for n in names if n not in _BLOCK_NAMES})
            if unknown:
                raise ArchitectureError(f"unknown Nemotron-H block type(s) {unknown}")
            kinds = "".join(_BLOCK_NAMES[n] for n in names)
        else:
            raise ArchitectureError("config has neither hybrid_override_pattern nor layers_block_type")
        try:
            hidden = int(config["hidden_size"])
            heads = int(config["num_attention_heads"])
            return cls(
                name=name or config.get("name") or config.get("_name_or_path") or "nemotron_h",
                layer_kinds=kinds,
                hidden_size=hidden,
                vocab_size=int(config["vocab_size"]),
                num_attention_heads=heads,
                num_key_value_heads=int(config["num_key_value_heads"]),
                head_dim=int(config.get("head_dim") or hidden // heads),
                mamba_num_heads=int(config["mamba_num_heads"]),
                mamba_head_dim=int(config["mamba_head_dim"]),
                n_groups=int(config["n_groups"]),
                ssm_state_size=int(config["ssm_state_size"]),
                n_routed_experts=int(config["n_routed_experts"]),
                moe_intermediate_size=int(config["moe_intermediate_size"]),
                moe_shared_expert_intermediate_size=int(config["moe_shared_expert_intermediate_size"]),
                intermediate_size=int(config.get("intermediate_size") or config["moe_intermediate_size"]),
                source=str(config.get("source", "")),
            )
        except KeyError as exc:
            raise ArchitectureError(
                f"config lacks {exc.args[0]!r}, needed to describe a Nemotron-H model"
            ) from None

    @classmethod
    def from_file(cls, path: Path) -> Architecture:
        path = Path(path)
        if path.is_dir():
            path = path / "config.json"
        try:
            config = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ArchitectureError(f"{path}: cannot read a model config ({exc})") from None
        return cls.from_config(
            config, name=config.get("_name_or_path") or config.get("name") or str(path.parent)
        )

    @property
    def mamba_intermediate_size(self) -> int:
        return self.mamba_num_heads * self.mamba_head_dim

    def mixer_linears(self, kind: str) -> dict[str, tuple[int, int]]:
        """(out, in) of every LoRA-able Linear in one layer's mixer, routed experts as ``experts.E.<proj>``."""
        h = self.hidden_size
        if kind == MAMBA:
            inner = self.mamba_intermediate_size
            conv_dim = inner + 2 * self.n_groups * self.ssm_state_size
            return {"in_proj": (inner + conv_dim + self.mamba_num_heads, h), "out_proj": (h, inner)}
        if kind == ATTENTION:
            q, kv = self.num_attention_heads * self.head_dim, self.num_key_value_heads * self.head_dim
            return {"q_proj": (q, h), "k_proj": (kv, h), "v_proj": (kv, h), "o_proj": (h, q)}
        if kind == MOE:
            shared, routed = self.moe_shared_expert_intermediate_size, self.moe_intermediate_size
            return {
                "shared_experts.up_proj": (shared, h),
                "shared_experts.down_proj": (h, shared),
                "experts.E.up_proj": (routed, h),
                "experts.E.down_proj": (h, routed),
            }
        if kind == MLP:
            return {"up_proj": (self.intermediate_size, h), "down_proj": (h, self.intermediate_size)}
        raise ArchitectureError(f"unknown layer kind {kind!r}")

    def lookup(self, module: str) -> Lookup:
        """Resolve a module path of the grader's layout (``backbone.layers.N.mixer.q_proj``, ``lm_head``)."""
        if module == "lm_head":
            return Lookup((self.vocab_size, self.hidden_size))
        match = _MIXER.fullmatch(module)
        if not match:
            if module.startswith("model.layers.") or module.startswith("model.embeddings"):
                return Lookup(None, "native transformers layout (model.*); the grader expects backbone.*")
            return Lookup(None, "no such module in a Nemotron-H model")
        layer, rest = int(match.group(1)), match.group(2)
        if layer >= len(self.layer_kinds):
            return Lookup(None, f"layer {layer} does not exist (the model has {len(self.layer_kinds)})")
        leaf = rest.rsplit(".", 1)[-1]
        if leaf in NOT_LORA_ABLE:
            return Lookup(None, NOT_LORA_ABLE[leaf])
        kind = self.layer_kinds[layer]
        linears = self.mixer_linears(kind)
        expert = _ROUTED_EXPERT.fullmatch(rest)
        if expert:
            if kind != MOE:
                return Lookup(None, f"layer {layer} is {describe_kind(kind)}, it has no routed experts")
            if int(expert.group(1)) >= self.n_routed_experts:
                return Lookup(
                    None, f"expert {expert.group(1)} does not exist (the model has {self.n_routed_experts})"
                )
            return Lookup(linears[f"experts.E.{expert.group(2)}"])
        if rest in ("experts.up_proj", "experts.down_proj"):
            return Lookup(
                None, "fused routed experts (transformers-native layout); the grader expects experts.E.*"
            )
        if rest in linears:
            return Lookup(linears[rest])
        return Lookup(
            None, f"layer {layer} is {describe_kind(kind)}, it has no '{rest}' (it has {', '.join(linears)})"
        )


def describe_kind(kind: str) -> str:
    return {
        MAMBA: "a Mamba-2 layer",
        MOE: "an MoE layer",
        ATTENTION: "an attention layer",
        MLP: "an MLP layer",
    }[kind]


@dataclass(frozen=True)
class ModuleTable:
    """Any other transformers model: its Linear modules by name, read from the model built on the meta
    device (no weights). Names are the model's own (``model.layers.0.self_attn.q_proj``)."""

    name: str
    shapes: dict[str, tuple[int, int]]

    @classmethod
    def from_config_file(cls, path: Path) -> ModuleTable:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.from_pretrained(path)
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
        shapes = {
            n: tuple(m.weight.shape) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)
        }
        return cls(name=config._name_or_path or str(path), shapes=shapes)

    def lookup(self, module: str) -> Lookup:
        if module in self.shapes:
            return Lookup(self.shapes[module])
        return Lookup(None, f"no Linear module {module!r} in {self.name}")


def load_architecture(path: Path) -> Architecture | ModuleTable:
    """The module tree of the model whose ``config.json`` is at ``path`` (a file or a model directory)."""
    path = Path(path)
    config_file = path / "config.json" if path.is_dir() else path
    try:
        config = json.loads(config_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArchitectureError(f"{config_file}: cannot read a model config ({exc})") from None
    if config.get("model_type") == "nemotron_h" or "hybrid_override_pattern" in config:
        return Architecture.from_file(config_file)
    return ModuleTable.from_config_file(config_file.parent)


def competition_architecture() -> Architecture:
    """Nemotron-3-Nano-30B-A3B, from the config facts that ship with reasonlab."""
    text = (resources.files("reasonlab") / "data" / "nemotron-3-nano-30b-a3b.json").read_text()
    return Architecture.from_config(json.loads(text), name=COMPETITION_MODEL)
