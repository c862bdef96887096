"""A task declared as data: one YAML file per task under ``reasonlab/tracks/tasks/``.

Keys (all tracks alike):

- ``name``, ``track`` (math | code | logic | commonsense), ``description``;
- ``source``: ``loader`` (see :mod:`reasonlab.tracks.sources`) and its arguments;
- ``prepare``: optional named preparation adding fields (:mod:`reasonlab.tracks.prepare`);
- ``id``, ``prompt``, ``gold``, ``reference``: ``str.format`` templates over the document's fields
  (``{boxed_suffix}`` is the project's answer instruction; write literal braces as ``{{ }}``);
- ``fewshot``: how many leading rows become worked examples (their prompt and reference) before each
  question; those rows are not evaluated;
- ``metadata``: fields carried in each request for the extraction and scorer;
- ``extract`` and ``scorer``: named functions (:mod:`reasonlab.tracks.extract`, :mod:`reasonlab.tracks.scorers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from reasonlab.grader import BOXED_SUFFIX
from reasonlab.tracks.extract import EXTRACTIONS
from reasonlab.tracks.prepare import PREPARATIONS
from reasonlab.tracks.request import EvalRequest
from reasonlab.tracks.scorers import SCORERS
from reasonlab.tracks.sources import LOADERS

Track = Literal["math", "code", "logic", "commonsense"]


class TaskFileError(ValueError):
    """A task file that cannot be used, with the file and what is wrong."""


def _known(kind: str, names: dict) -> Any:
    def check(value: str | None) -> str | None:
        if value is not None and value not in names:
            raise ValueError(f"unknown {kind} {value!r}; known: {', '.join(sorted(names))}")
        return value

    return field_validator(kind)(check)


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    track: Track
    description: str
    source: dict[str, Any]
    prepare: str | None = None
    id: str
    prompt: str
    gold: str
    reference: str
    fewshot: int = 0
    metadata: list[str] = []
    extract: str
    scorer: str

    _check_prepare = _known("prepare", PREPARATIONS)
    _check_extract = _known("extract", EXTRACTIONS)
    _check_scorer = _known("scorer", SCORERS)

    @field_validator("source")
    @classmethod
    def _check_source(cls, source: dict[str, Any]) -> dict[str, Any]:
        if source.get("loader") not in LOADERS:
            raise ValueError(f"source.loader must be one of {', '.join(sorted(LOADERS))}")
        return source


@dataclass(frozen=True)
class Scored:
    """An extracted answer and its score in [0, 1]. ``no_answer``: the extraction found nothing it reads as
    an answer; None lets the evaluation decide from the answer (empty or the grader's ``NOT_FOUND``)."""

    answer: str
    score: float
    no_answer: bool | None = None

    @property
    def correct(self) -> bool:
        return self.score >= 1.0


@dataclass(frozen=True)
class Task:
    spec: TaskSpec
    path: Path

    @classmethod
    def from_file(cls, path: Path) -> Task:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls(TaskSpec.model_validate(raw), path)
        except (yaml.YAMLError, ValidationError) as exc:
            raise TaskFileError(f"{path}: {exc}") from None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def track(self) -> str:
        return self.spec.track

    def documents(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The first ``limit`` (default all) source documents with the prepared fields merged in."""
        arguments = {k: v for k, v in self.spec.source.items() if k != "loader"}
        documents = LOADERS[self.spec.source["loader"]](**arguments, limit=limit)
        prepare = PREPARATIONS[self.spec.prepare] if self.spec.prepare else None
        prepared = []
        for document in documents:
            fields = {**document, "boxed_suffix": BOXED_SUFFIX}
            if prepare:
                fields.update(prepare(fields))
            prepared.append(fields)
        return prepared

    def _format(self, template_key: str, fields: dict[str, Any]) -> str:
        template = getattr(self.spec, template_key)
        try:
            return template.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise TaskFileError(f"{self.path}: template {template_key!r} cannot be filled: {exc!r}") from None

    def requests(self, limit: int | None = None, fewshot: int | None = None) -> list[EvalRequest]:
        """The task's questions as generic eval requests (the first ``fewshot`` rows serve as examples)."""
        shots = self.spec.fewshot if fewshot is None else fewshot
        documents = self.documents(None if limit is None else shots + limit)
        examples: list[dict[str, str]] = []
        for fields in documents[:shots]:
            examples += [
                {"role": "user", "content": self._format("prompt", fields)},
                {"role": "assistant", "content": self._format("reference", fields)},
            ]
        rows = documents[shots:]
        metadata_source = {"source": self.spec.source}
        return [
            EvalRequest(
                id=f"{self.name}/{self._format('id', fields)}",
                task=self.name,
                track=self.track,
                messages=[*examples, {"role": "user", "content": self._format("prompt", fields)}],
                gold=self._format("gold", fields),
                metadata={**metadata_source, **{key: fields[key] for key in self.spec.metadata}},
                reference=self._format("reference", fields),
            )
            for fields in rows
        ]

    def extract(self, request: EvalRequest, completion: str) -> str:
        return EXTRACTIONS[self.spec.extract](completion, request)

    def score(self, request: EvalRequest, completion: str) -> Scored:
        """Extract the answer from a raw completion and score it against the request's gold."""
        answer = self.extract(request, completion)
        return Scored(answer=answer, score=SCORERS[self.spec.scorer](request, answer))
