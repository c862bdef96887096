"""The interface every backend implements: a batch of chat requests in, completions out as they finish.

Backends yield each completion as soon as it is done, so a caller can store it before the next one
arrives (a run killed mid-way loses at most the completions still in flight).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

from reasonlab.grader import (
    FINISH_LENGTH,  # noqa: F401 - the completion hit max_tokens: truncated
    MAX_TOKENS,
)

FINISH_STOP = "stop"  # the model ended its turn (or a stop string was hit)
FINISH_ERROR = "error"  # the backend gave up on this request (see Completion.error)


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings; the defaults are the grader's (greedy, 7,680 new tokens, thinking on)."""

    max_tokens: int = MAX_TOKENS
    temperature: float = 0.0
    top_p: float = 1.0
    enable_thinking: bool = True
    seed: int = 0


@dataclass(frozen=True)
class Request:
    id: str
    messages: list[dict[str, str]]
    # The puzzle itself, for backends that answer without a model (the solver backend).
    puzzle: str | None = None
    # A known-good completion (a track task's reference answer), which the solver backend returns.
    reference: str | None = None


@dataclass
class Completion:
    id: str
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    # Wall time from when the backend started on this request to when its completion was ready.
    seconds: float
    error: str | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@runtime_checkable
class Backend(Protocol):
    """Satisfied by a backend and by its class (``name`` a class attribute), which is what plugins
    register: ``reasonlab.backends`` entry points name a class built as ``cls(model, **options)``."""

    name: str

    def generate(self, requests: Sequence[Request], settings: GenerationSettings) -> Iterator[Completion]:
        """Yield one completion per request, in any order, each as soon as it is ready."""

    def close(self) -> None:
        """Release models, engines, connections."""


class Arrival(NamedTuple):
    request: Request
    max_tokens: int  # this request's own budget; the other settings are the batch's


class RequestFeed(Protocol):
    """What a server hands a backend that batches continuously, between two generation steps."""

    def arrivals(self) -> list[Arrival]:
        """Requests that arrived since the last call (the first call gives the first batch); never blocks."""

    def abandoned(self, request_id: str) -> bool:
        """True once the client of ``request_id`` has gone: its generation should stop."""


@runtime_checkable
class FeedableBackend(Backend, Protocol):
    """A backend that admits requests and drops abandoned ones while it generates, so one long request
    neither blocks later clients nor keeps generating for a client that left (``reasonlab serve``)."""

    def generate_from_feed(self, settings: GenerationSettings, feed: RequestFeed) -> Iterator[Completion]:
        """Completions for the feed's requests, each to its own ``max_tokens`` with the other
        ``settings``, until the feed has nothing left; none for an abandoned request."""


class FixedFeed:
    """A :class:`RequestFeed` of one batch known in advance (what :meth:`Backend.generate` is given)."""

    def __init__(self, requests: Sequence[Request], max_tokens: int):
        self._pending = [Arrival(request, max_tokens) for request in requests]

    def arrivals(self) -> list[Arrival]:
        arrived, self._pending = self._pending, []
        return arrived

    def abandoned(self, request_id: str) -> bool:
        return False


@dataclass(frozen=True)
class TokenScore:
    """One reference token under teacher forcing: where it lies in the reference text, its log-probability
    given everything before it, and the model's greedy choice at that position."""

    start: int  # character offsets of the token in the reference text
    end: int
    logprob: float
    agrees: bool  # the greedy (argmax) token is the reference token
    predicted: str  # the greedy token's text


@dataclass
class ReferenceScore:
    id: str
    tokens: list[TokenScore]


@runtime_checkable
class ReferenceScorer(Protocol):
    """A backend that can score a reference completion under teacher forcing (for imitation metrics)."""

    def score_references(
        self, requests: Sequence[Request], references: Sequence[str], settings: GenerationSettings
    ) -> Iterator[ReferenceScore]:
        """One score per request: the reference continuation of its prompt, token by token."""


def generate_all(
    backend: Backend, requests: Iterable[Request], settings: GenerationSettings
) -> dict[str, Completion]:
    """Every completion, by request id (a convenience for tests and small scripts)."""
    return {completion.id: completion for completion in backend.generate(list(requests), settings)}
