"""Routing metrics from expert counts, and LoRA targets for the experts a family relies on.

For a group of tokens (a family, a token class, a step kind) and an MoE layer with E experts:

- **load**: the share of the group's routing slots (k per token) that went to each expert; sums to 1;
- **entropy**: the load's Shannon entropy divided by log E: 1 when every expert is used alike, 0 when
  one expert takes every slot;
- **imbalance**: the busiest expert's load over the mean load (1/E); 1 is perfect balance;
- **lift**: load x E, the expert's use against a uniform router;
- **specificity**: the group's load over the load of all tokens: above 1, the group uses the expert
  more than the data as a whole does (what a family-specific expert looks like);
- between families: the **Jensen-Shannon divergence** of their loads (base 2, in [0, 1]) and the
  **top-k overlap**, the Jaccard similarity of their k busiest experts;
- **co-activation**: P(b | a), the share of tokens routed to expert a that were also routed to b;
- **drift** (with an adapter): the mean Jaccard similarity of each token's top-k sets, base vs adapted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from reasonlab.analysis.experts import RoutingCounts
from reasonlab.training.targets import PER_EXPERT, PRESETS, expand_parts, nemotron_targets

DECIMALS = 5


def _rounded(array: np.ndarray) -> list:
    return np.round(array, DECIMALS).tolist()


def loads(slots: np.ndarray) -> np.ndarray:
    """Slot counts (..., experts) -> each expert's share; all zeros where nothing was counted."""
    totals = slots.sum(-1, keepdims=True)
    return np.divide(slots, totals, out=np.zeros_like(slots), where=totals > 0)


def normalised_entropy(load: np.ndarray) -> np.ndarray:
    return entropy(load, axis=-1) / math.log(load.shape[-1]) if load.any() else np.zeros(load.shape[:-1])


def top_k_jaccard(a: np.ndarray, b: np.ndarray, k: int) -> float:
    busiest_a, busiest_b = set(np.argsort(-a, kind="stable")[:k]), set(np.argsort(-b, kind="stable")[:k])
    return len(busiest_a & busiest_b) / len(busiest_a | busiest_b)


def group_metrics(slots: np.ndarray, weights: np.ndarray, overall: np.ndarray) -> dict:
    """Metrics of one group from its (layers, experts) slot counts and summed router weights."""
    load = loads(slots)
    experts = slots.shape[-1]
    specificity = np.divide(load, overall, out=np.zeros_like(load), where=overall > 0)
    mean_weight = np.divide(weights, slots, out=np.zeros_like(weights), where=slots > 0)
    return {
        "load": _rounded(load),
        "entropy": _rounded(np.array([normalised_entropy(row) for row in load])),
        "imbalance": _rounded(load.max(-1) * experts),
        "lift": _rounded(load * experts),
        "specificity": _rounded(specificity),
        "mean_weight": _rounded(mean_weight),
    }


def family_divergence(slots: np.ndarray, top_k: int) -> dict:
    """Jensen-Shannon divergence and top-k overlap between families, per layer and averaged."""
    load = loads(slots)  # (layers, families, experts)
    layers, families = load.shape[:2]
    jsd = np.zeros((layers, families, families))
    overlap = np.ones((layers, families, families))
    for layer in range(layers):
        for a in range(families):
            for b in range(a + 1, families):
                p, q = load[layer, a], load[layer, b]
                if p.any() and q.any():
                    jsd[layer, a, b] = jsd[layer, b, a] = jensenshannon(p, q, base=2) ** 2
                    overlap[layer, a, b] = overlap[layer, b, a] = top_k_jaccard(p, q, top_k)
    return {
        "jsd": _rounded(jsd.mean(0)),
        "topk_overlap": _rounded(overlap.mean(0)),
        "jsd_by_layer": _rounded(jsd),
        "topk_overlap_by_layer": _rounded(overlap),
    }


def coactivation(counts: np.ndarray) -> np.ndarray:
    """(layers, E, E) counts of tokens choosing both a and b -> P(b | a) (row a)."""
    chosen = np.diagonal(counts, axis1=1, axis2=2)[:, :, None]
    return np.divide(counts, chosen, out=np.zeros_like(counts), where=chosen > 0)


def summarise(counts: RoutingCounts) -> dict:
    """Everything ``experts.json`` holds: the model's routing shape, metrics per group, divergences."""
    slots = {axis: t.numpy() for axis, t in counts.slots.items()}
    weights = {axis: t.numpy() for axis, t in counts.weights.items()}
    overall_slots = slots["family"].sum(1)
    overall = loads(overall_slots)
    tokens = counts.tokens["family"].numpy()
    summary = {
        "model": counts.model,
        "rows": counts.rows,
        "tokens": int(tokens.sum()),
        "moe_layers": counts.layers,
        "experts": counts.experts,
        "top_k": counts.top_k,
        "all": {
            "tokens": int(tokens.sum()),
            **group_metrics(overall_slots, weights["family"].sum(1), overall),
        },
        "groups": {
            axis: {
                name: {
                    "tokens": int(counts.tokens[axis][g]),
                    **group_metrics(slots[axis][:, g], weights[axis][:, g], overall),
                }
                for g, name in enumerate(names)
            }
            for axis, names in counts.groups.items()
        },
        "families": counts.groups["family"],
        "family_divergence": family_divergence(slots["family"], counts.top_k),
        "coactivation": _rounded(coactivation(counts.coactivation.numpy())),
    }
    if counts.drift is not None:
        drift = counts.drift.numpy()
        per_family = np.divide(drift, tokens, out=np.zeros_like(drift), where=tokens > 0)
        summary["drift"] = {
            "topk_jaccard": _rounded(drift.sum(1) / max(tokens.sum(), 1)),
            "by_family": {f: _rounded(per_family[:, i]) for i, f in enumerate(counts.groups["family"])},
        }
    return summary


@dataclass(frozen=True)
class TargetSuggestion:
    families: list[str]
    experts: dict[int, list[int]]  # MoE layer -> its experts most specific to the families
    modules: list[str]  # the per-expert (grader) layout's module names
    targets: str  # one regex for lora.targets: the preset's other parts plus these experts


def suggest_targets(
    counts: RoutingCounts, families: list[str], n: int, preset: str | None = "competition-attention"
) -> TargetSuggestion:
    """The ``n`` experts per MoE layer that ``families`` use most above the data's average (specificity),
    as LoRA targets of the per-expert layout (``lora.layout: per-expert``; the native layout fuses the
    experts into one parameter, so it cannot adapt a subset). ``targets`` adds the preset's parts other
    than the routed experts, so it can replace the preset in ``lora.targets``."""
    unknown = sorted(set(families) - set(counts.groups["family"]))
    if unknown:
        raise ValueError(f"no tokens of famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}")
    slots = counts.slots["family"].numpy()
    chosen = [counts.groups["family"].index(f) for f in families]
    family_load, overall = loads(slots[:, chosen].sum(1)), loads(slots.sum(1))
    specificity = np.divide(family_load, overall, out=np.zeros_like(overall), where=overall > 0)
    experts = {
        layer: sorted(int(e) for e in np.argsort(-specificity[position], kind="stable")[:n])
        for position, layer in enumerate(counts.layers)
    }
    modules = [
        f"backbone.layers.{layer}.mixer.experts.{expert}.{projection}"
        for layer, chosen_experts in experts.items()
        for expert in chosen_experts
        for projection in ("up_proj", "down_proj")
    ]
    expert_pattern = "|".join(
        rf"backbone\.layers\.{layer}\.mixer\.experts\.({'|'.join(map(str, ids))})\.(up_proj|down_proj)"
        for layer, ids in experts.items()
    )
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    parts = [p for p in expand_parts(preset) if p != "routed_experts"] if preset else []
    others = nemotron_targets(parts, PER_EXPERT).target_modules if parts else ""
    targets = f"{others}|{expert_pattern}" if others else expert_pattern
    return TargetSuggestion(list(families), experts, modules, targets)
