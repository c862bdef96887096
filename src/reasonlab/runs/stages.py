"""Cached, resumable stages: each writes into its own folder of a run directory and is known by a key.

A stage's key is the hash of its settings and of the keys of the stages it reads, so a change to a stage's
settings changes its key and the key of everything downstream of it. Running a list of stages:

- a stage whose folder records its key as complete is skipped (its recorded result is reused);
- a stage whose folder records its key as started, not complete (a crash or a kill stopped it), runs again
  in that folder, so that work it keeps there (training checkpoints, stored completions) is resumed;
- any other stage (new, its settings or inputs changed, or forced) starts from an empty folder.

``STAGE/stage.json`` is the marker, written atomically when the stage starts and again, with its result,
when it has finished: a stage is complete only once every output it wrote is.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from reasonlab.runs.config import config_hash
from reasonlab.runs.rundir import write_json_atomic

STAGE_FILE = "stage.json"


class StageStatus(StrEnum):
    CACHED = "cached"  # complete under the same key: skipped
    RESUMED = "resumed"  # started under the same key, not finished: run again in its folder
    RUNNING = "running"  # run from an empty folder


@dataclass(frozen=True)
class Stage:
    """One step of a run: ``run(folder, results of its inputs)`` writes its outputs into ``folder`` and
    returns its result (JSON-serialisable), which is recorded and handed to the stages that read it."""

    name: str
    settings: Mapping[str, Any]  # what defines its outputs, besides its inputs
    run: Callable[[Path, dict[str, Any]], dict[str, Any]]
    inputs: tuple[str, ...] = ()
    description: str = ""


def stage_keys(stages: Sequence[Stage]) -> dict[str, str]:
    """Each stage's key: the hash of its name, settings and its inputs' keys (inputs come first)."""
    keys: dict[str, str] = {}
    for stage in stages:
        unknown = [name for name in stage.inputs if name not in keys]
        if unknown:
            raise ValueError(f"stage {stage.name!r} reads {', '.join(unknown)}, which do not come before it")
        inputs = {name: keys[name] for name in stage.inputs}
        keys[stage.name] = config_hash(
            {"stage": stage.name, "settings": dict(stage.settings), "inputs": inputs}
        )
    return keys


def downstream(stages: Sequence[Stage], names: Iterable[str]) -> set[str]:
    """``names`` and every stage that reads one of them, directly or not."""
    found = set(names)
    for stage in stages:
        if found.intersection(stage.inputs):
            found.add(stage.name)
    return found


def read_marker(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / STAGE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_stages(
    stages: Sequence[Stage],
    run_dir: Path,
    *,
    force: Iterable[str] = (),
    on_stage: Callable[[Stage, StageStatus], None] = lambda stage, status: None,
) -> dict[str, Any]:
    """Run ``stages`` in order in ``run_dir``, each in its own folder; returns each stage's result.
    ``force`` names stages to run again whatever their marker says, and with them everything downstream."""
    names = [stage.name for stage in stages]
    unknown = sorted(set(force) - set(names))
    if unknown:
        raise ValueError(f"no stage {', '.join(unknown)}; stages: {', '.join(names)}")
    forced = downstream(stages, force)
    keys = stage_keys(stages)
    results: dict[str, Any] = {}
    for stage in stages:
        folder = run_dir / stage.name
        marker = read_marker(folder)
        same = marker.get("key") == keys[stage.name] and stage.name not in forced
        if same and marker.get("complete"):
            on_stage(stage, StageStatus.CACHED)
            results[stage.name] = marker["result"]
            continue
        if not same and folder.exists():
            shutil.rmtree(folder)  # outputs of other settings: never mixed with this run's
        folder.mkdir(parents=True, exist_ok=True)
        record = {"stage": stage.name, "key": keys[stage.name], "settings": dict(stage.settings)}
        record["inputs"] = {name: keys[name] for name in stage.inputs}
        write_json_atomic(folder / STAGE_FILE, {**record, "complete": False})
        on_stage(stage, StageStatus.RESUMED if same else StageStatus.RUNNING)
        start = time.perf_counter()
        result = stage.run(folder, {name: results[name] for name in stage.inputs})
        seconds = round(time.perf_counter() - start, 1)
        write_json_atomic(
            folder / STAGE_FILE, {**record, "complete": True, "result": result, "seconds": seconds}
        )
        results[stage.name] = result
    return results
