"""A small OpenAI-compatible chat server over any backend (``reasonlab serve``).

It lets the ``openai`` backend, and any OpenAI client, talk to a local transformers model where vLLM is
not installed. Concurrent requests with the same sampling settings are gathered into one batch for the
backend (which batches them dynamically), so many clients share one model efficiently.
Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` (non-streaming, one choice).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from reasonlab.inference.base import Backend, Completion, GenerationSettings, Request


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | None = ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage]
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    n: int = 1
    stream: bool = False
    chat_template_kwargs: dict[str, Any] | None = None


@dataclass
class _Job:
    request: Request
    settings: GenerationSettings
    future: Future


class BatchingWorker:
    """Feeds queued jobs to the backend in batches of equal settings, from one thread (models are not
    thread-safe), and resolves each job's future as its completion arrives."""

    def __init__(self, backend: Backend, max_batch: int = 64, gather_s: float = 0.01):
        self.backend, self.max_batch, self.gather_s = backend, max_batch, gather_s
        self.jobs: queue.Queue[_Job] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="batching-worker", daemon=True)
        self._thread.start()

    def submit(self, request: Request, settings: GenerationSettings) -> Future:
        future: Future = Future()
        self.jobs.put(_Job(request, settings, future))
        return future

    def _take_batch(self) -> list[_Job]:
        batch = [self.jobs.get()]
        deadline = time.monotonic() + self.gather_s
        while len(batch) < self.max_batch:
            try:
                job = self.jobs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if job.settings != batch[0].settings:
                self.jobs.put(job)  # served by a later batch with its own settings
                break
            batch.append(job)
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            by_id = {job.request.id: job for job in batch}
            try:
                for completion in self.backend.generate([job.request for job in batch], batch[0].settings):
                    by_id.pop(completion.id).future.set_result(completion)
            except Exception as exc:  # the clients of this batch get the error; the server keeps serving
                for job in by_id.values():
                    job.future.set_exception(exc)


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


def create_app(backend: Backend, model_name: str, *, default_max_tokens: int = 7680, max_batch: int = 64):
    from fastapi import FastAPI, HTTPException

    app = FastAPI(title="reasonlab OpenAI-compatible server")
    worker = BatchingWorker(backend, max_batch=max_batch)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "reasonlab"}]}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest) -> dict[str, Any]:
        if body.stream or body.n != 1:
            raise HTTPException(400, "this server answers with one non-streamed choice (stream=false, n=1)")
        template_kwargs = body.chat_template_kwargs or {}
        settings = GenerationSettings(
            max_tokens=body.max_completion_tokens or body.max_tokens or default_max_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            enable_thinking=bool(template_kwargs.get("enable_thinking", True)),
            seed=body.seed or 0,
        )
        request = Request(
            id=uuid.uuid4().hex, messages=[m.model_dump(exclude_none=True) for m in body.messages]
        )
        completion = await asyncio.wrap_future(worker.submit(request, settings))
        return _response(completion, body.model or model_name)

    return app


def serve(
    backend: Backend, model_name: str, *, host: str = "127.0.0.1", port: int = 8000, **app_options
) -> None:
    import uvicorn

    uvicorn.run(create_app(backend, model_name, **app_options), host=host, port=port, log_level="warning")
