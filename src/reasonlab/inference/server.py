"""A small OpenAI-compatible chat server over any backend (``reasonlab serve``).

It lets the ``openai`` backend, and any OpenAI client, talk to a local transformers model where vLLM is
not installed. Concurrent requests with the same sampling settings are gathered into one batch for the
backend (which batches them dynamically), so many clients share one model efficiently.
Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` (non-streaming, one choice).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Literal

from fastapi import FastAPI, HTTPException
from fastapi import Request as HttpRequest
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from reasonlab.grader import MAX_TOKENS
from reasonlab.inference.base import (
    Arrival,
    Backend,
    Completion,
    FeedableBackend,
    GenerationSettings,
    Request,
)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | None = ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    seed: int | None = None
    n: int = Field(1, ge=1)
    stream: bool = False
    chat_template_kwargs: dict[str, Any] | None = None


@dataclass
class _Job:
    request: Request
    settings: GenerationSettings
    future: Future


class BatchingWorker:
    """Feeds queued jobs to the backend in batches of equal settings, from one thread (models are not
    thread-safe), and resolves each job's future as its completion arrives.

    A backend that batches continuously (:class:`FeedableBackend`) also takes, between its generation
    steps, the jobs that arrived meanwhile and drops the abandoned ones, so a long generation neither
    makes a later client wait for it nor goes on for a client that left. Any backend is spared the
    abandoned jobs that have not started."""

    def __init__(self, backend: Backend, max_batch: int = 64, gather_s: float = 0.01):
        self.backend, self.max_batch, self.gather_s = backend, max_batch, gather_s
        self._pending: list[_Job] = []  # in arrival order
        self._abandoned: set[str] = set()
        self._changed = threading.Condition()
        self._feedable = isinstance(backend, FeedableBackend)
        self._thread = threading.Thread(target=self._loop, name="batching-worker", daemon=True)
        self._thread.start()

    def submit(self, request: Request, settings: GenerationSettings) -> Future:
        future: Future = Future()
        with self._changed:
            self._pending.append(_Job(request, settings, future))
            self._changed.notify()
        return future

    def abandon(self, request_id: str) -> None:
        """The client of ``request_id`` has gone: drop its job, or stop its generation where the backend can."""
        with self._changed:
            waiting = [job for job in self._pending if job.request.id != request_id]
            if len(waiting) == len(self._pending):  # already generating
                self._abandoned.add(request_id)
            self._pending = waiting

    def _batch_key(self, settings: GenerationSettings) -> GenerationSettings:
        """What jobs of one batch share: every setting, or all but the budget where the backend gives
        each request its own."""
        return replace(settings, max_tokens=0) if self._feedable else settings

    def _take(self, key: GenerationSettings, limit: int) -> list[_Job]:
        """Up to ``limit`` pending jobs of batch ``key``, oldest first (call with the lock held)."""
        taken = [job for job in self._pending if self._batch_key(job.settings) == key][:limit]
        self._pending = [job for job in self._pending if job not in taken]
        return taken

    def _wait_for_jobs(self) -> GenerationSettings:
        """The settings of the oldest pending job, once there is one."""
        with self._changed:
            while not self._pending:
                self._changed.wait()
        time.sleep(self.gather_s)  # requests sent together are generated together
        with self._changed:
            return self._pending[0].settings

    def _loop(self) -> None:
        while True:
            settings = self._wait_for_jobs()
            by_id: dict[str, _Job] = {}
            feed = _Feed(self, self._batch_key(settings), by_id)
            try:
                if self._feedable:
                    stream = self.backend.generate_from_feed(settings, feed)
                else:
                    requests = [arrival.request for arrival in feed.arrivals()]
                    stream = self.backend.generate(requests, settings)
                for completion in stream:
                    _resolve(by_id.pop(completion.id).future, completion)
                missing = RuntimeError("the backend returned no completion for this request")
            except Exception as exc:  # the clients of this batch get the error; the server keeps serving
                missing = exc
            for job in by_id.values():  # abandoned (already cancelled), or failed
                _resolve(job.future, missing)
            with self._changed:
                self._abandoned.difference_update(by_id)


class _Feed:
    """The worker's pending jobs with one batch's settings, as a :class:`RequestFeed`."""

    def __init__(self, worker: BatchingWorker, key: GenerationSettings, by_id: dict[str, _Job]):
        self.worker, self.key, self.by_id = worker, key, by_id

    def arrivals(self) -> list[Arrival]:
        with self.worker._changed:
            jobs = self.worker._take(self.key, self.worker.max_batch)
        self.by_id.update((job.request.id, job) for job in jobs)
        return [Arrival(job.request, job.settings.max_tokens) for job in jobs]

    def abandoned(self, request_id: str) -> bool:
        return request_id in self.worker._abandoned


def _resolve(future: Future, outcome: Completion | Exception) -> None:
    if future.done():  # cancelled: its client has gone
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _response(completion: Completion, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": completion.text},
                "finish_reason": completion.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "total_tokens": completion.prompt_tokens + completion.completion_tokens,
        },
    }


def _field(location: tuple) -> str:
    return ".".join(str(part) for part in location if part != "body") or "body"


def create_app(
    backend: Backend,
    model_name: str,
    *,
    default_max_tokens: int = MAX_TOKENS,
    max_batch: int = 64,
    disconnect_poll_s: float = 0.1,
):
    """The FastAPI app. ``default_max_tokens`` is also the cap: a request asking for more gets that many,
    so no client can hold the model for longer than the grader's budget."""
    app = FastAPI(title="reasonlab OpenAI-compatible server")
    worker = BatchingWorker(backend, max_batch=max_batch)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: HttpRequest, exc: RequestValidationError) -> JSONResponse:
        # OpenAI's shape and status (400, not FastAPI's 422), naming each field that is wrong.
        problems = [f"{_field(error['loc'])}: {error['msg']}" for error in exc.errors()]
        first = _field(exc.errors()[0]["loc"]) if exc.errors() else None
        return JSONResponse(
            status_code=400,
            content={
                "error": {"message": "; ".join(problems), "type": "invalid_request_error", "param": first}
            },
        )

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "reasonlab"}]}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest, http: HttpRequest) -> Any:
        if body.stream or body.n != 1:
            raise HTTPException(400, "this server answers with one non-streamed choice (stream=false, n=1)")
        template_kwargs = body.chat_template_kwargs or {}
        asked = body.max_completion_tokens or body.max_tokens or default_max_tokens
        settings = GenerationSettings(
            max_tokens=min(asked, default_max_tokens),
            temperature=body.temperature,
            top_p=body.top_p,
            enable_thinking=bool(template_kwargs.get("enable_thinking", True)),
            seed=body.seed or 0,
        )
        request = Request(
            id=uuid.uuid4().hex, messages=[m.model_dump(exclude_none=True) for m in body.messages]
        )
        pending = asyncio.wrap_future(worker.submit(request, settings))
        while not pending.done():
            await asyncio.wait({pending}, timeout=disconnect_poll_s)
            if not pending.done() and await http.is_disconnected():
                worker.abandon(request.id)
                pending.cancel()
                return Response(status_code=499)  # nginx's "client closed request"; nobody reads it
        return _response(pending.result(), body.model or model_name)

    return app


def serve(
    backend: Backend, model_name: str, *, host: str = "127.0.0.1", port: int = 8000, **app_options
) -> None:
    import uvicorn

    uvicorn.run(create_app(backend, model_name, **app_options), host=host, port=port, log_level="warning")
