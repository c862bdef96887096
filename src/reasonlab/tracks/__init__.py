"""Everything evaluated is a task: the Wonderland puzzles (:mod:`reasonlab.tracks.wonderland`) and the
reasoning tracks beyond them (math, code, logic, commonsense), one task per YAML file.

from reasonlab.tracks import load_task
task = load_task("gsm8k")
for request in task.requests(limit=5):
    completion = ...                        # any backend
    print(task.score(request, completion).correct)
"""

from __future__ import annotations

from functools import partial
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from reasonlab.plugins import Registry
from reasonlab.tracks.request import EvalRequest
from reasonlab.tracks.sources import INSTALL_HINT, TracksExtraMissing
from reasonlab.tracks.task import Scored, Task, TaskFileError

__all__ = [
    "INSTALL_HINT",
    "EvalRequest",
    "EvalTask",
    "Scored",
    "Task",
    "TaskFileError",
    "TracksExtraMissing",
    "load_task",
    "task_files",
    "task_names",
]


@runtime_checkable
class EvalTask(Protocol):
    """What evaluation needs of a task; :class:`Task` (one YAML file) and the Wonderland puzzles are the
    built-in kinds. A plugin registers a task object under the entry point group ``reasonlab.tasks``."""

    name: str
    track: str

    def requests(self, limit: int | None = None, fewshot: int | None = None) -> list[EvalRequest]:
        """The task's requests (the first ``limit``), each with the messages and the gold answer."""

    def extract(self, request: EvalRequest, completion: str) -> str:
        """The answer ``completion`` gives."""

    def score(self, request: EvalRequest, completion: str) -> Scored:
        """The extracted answer and its score against the request's gold."""


def task_files() -> dict[str, Path]:
    """Built-in task name -> its YAML file."""
    folder = Path(str(resources.files("reasonlab.tracks") / "tasks"))
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


# Tasks by name: the Wonderland puzzles, the built-in task files, then plugins' (``reasonlab.tasks``).
TASKS: Registry[EvalTask] = Registry(
    "tasks",
    EvalTask,
    {
        "wonderland": "reasonlab.tracks.wonderland:WONDERLAND_TASK",
        **{name: (str(path), partial(Task.from_file, path)) for name, path in task_files().items()},
    },
)


def task_names() -> list[str]:
    return TASKS.names()


def load_task(name_or_path: str | Path) -> EvalTask:
    """A registered task by name, or any task file by path."""
    if str(name_or_path) in TASKS:
        return TASKS.get(str(name_or_path))
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return Task.from_file(path)
    raise KeyError(f"unknown task {str(name_or_path)!r}; registered tasks: {', '.join(TASKS.names())}")
