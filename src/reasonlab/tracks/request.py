"""The generic evaluation request every task produces and every backend consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class EvalRequest:
    """One question for a model: chat ``messages`` to send, the ``gold`` its scorer compares with, and
    ``metadata`` the extraction and scorer need. ``reference`` is a completion known to be right (what
    ``reasonlab tasks verify`` scores, and what the solver backend answers a task without a puzzle with).

    A puzzle's request also carries its ``family`` and ``subtype``, the ``puzzle`` text itself (the solver
    backend solves it), and, from SFT records, the ``trace`` the model was taught and its ``trace_style``
    (imitation metrics)."""

    id: str
    task: str
    track: str
    messages: list[dict[str, str]]
    gold: str
    metadata: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    family: str | None = None
    subtype: str | None = None
    puzzle: str | None = None
    trace: str | None = None
    trace_style: str | None = None

    @property
    def prompt(self) -> str:
        """The last user turn (the question itself, without few-shot examples)."""
        return self.messages[-1]["content"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
