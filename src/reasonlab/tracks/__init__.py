"""Reasoning tracks beyond the puzzles (math, code, logic, commonsense), one task per YAML file.

from reasonlab.tracks import load_task
task = load_task("gsm8k")
for request in task.requests(limit=5):
    completion = ...                        # any backend
    print(task.score(request, completion).correct)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reasonlab.tracks.request import EvalRequest
from reasonlab.tracks.sources import INSTALL_HINT, TracksExtraMissing
from reasonlab.tracks.task import Scored, Task, TaskFileError

__all__ = [
    "INSTALL_HINT",
    "EvalRequest",
    "Scored",
    "Task",
    "TaskFileError",
    "TracksExtraMissing",
    "load_task",
    "task_files",
    "task_names",
]


def task_files() -> dict[str, Path]:
    """Built-in task name -> its YAML file."""
    folder = Path(str(resources.files("reasonlab.tracks") / "tasks"))
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def task_names() -> list[str]:
    return list(task_files())


def load_task(name_or_path: str | Path) -> Task:
    """A built-in task by name, or any task file by path."""
    files = task_files()
    if str(name_or_path) in files:
        return Task.from_file(files[str(name_or_path)])
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return Task.from_file(path)
    raise KeyError(f"unknown task {str(name_or_path)!r}; built-in tasks: {', '.join(files)}")
