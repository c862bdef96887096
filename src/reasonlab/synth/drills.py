"""Drill records for styles whose traces recall a catalog ("memorise, then execute").

Each family of the mixture that has a :class:`~reasonlab.puzzles.trace_style.DrillSource` in the style
gets a share of the drills in proportion to its mixture weight; families without one are reported, not
an error. Family ``f``'s drills come from their own ``random.Random`` seeded with (seed, f), so a seed
gives the same drills whatever else is asked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from reasonlab.puzzles.trace_style import find_drills
from reasonlab.synth.generate import Mixture
from reasonlab.synth.records import drill_record


@dataclass
class Drills:
    records: list[dict[str, Any]] = field(default_factory=list)
    per_family: dict[str, int] = field(default_factory=dict)
    without_source: list[str] = field(default_factory=list)  # families with no drill source in the style


def shares(weights: dict[str, float], n: int) -> dict[str, int]:
    """``n`` split by ``weights`` (largest remainder, ties by name), every share a whole number."""
    total = sum(weights.values())
    if not weights or total <= 0:
        return {}
    exact = {name: n * w / total for name, w in weights.items()}
    counts = {name: int(x) for name, x in exact.items()}
    for name in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[: n - sum(counts.values())]:
        counts[name] += 1
    return counts


def make_drills(mixture: Mixture, style: str, n: int, seed: int) -> Drills:
    """``n`` drill records over the mixture's families that have a drill source in ``style``."""
    out = Drills()
    sources = {}
    for name in mixture.weights:
        source = find_drills(name, style)
        if source is None:
            out.without_source.append(name)
        else:
            sources[name] = source
    counts = shares({name: mixture.weights[name] for name in sources}, n)
    for name, count in sorted(counts.items()):
        pairs = sources[name].drills(random.Random(f"reasonlab-drills:{seed}:{name}"), count)
        out.records += [drill_record(name, style, i, user, answer) for i, (user, answer) in enumerate(pairs)]
        out.per_family[name] = len(pairs)
    return out
