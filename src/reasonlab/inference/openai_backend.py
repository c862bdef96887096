"""Any OpenAI-compatible chat server (``vllm serve``, ``reasonlab serve``, hosted APIs) via the official
``openai`` client: async, at most ``concurrency`` requests in flight, the API key read from an environment
variable. Retries and timeouts are the SDK's own: ``max_retries`` retries of connection errors, 408, 409,
429 and 5xx answers with exponential backoff and jitter (honouring ``Retry-After``), ``timeout_s`` per
attempt. A request that still fails costs its row (finish reason ``error``), never the run.

Data parallel: with several ``base_urls`` (replicas of one model, e.g. one ``vllm serve`` per GPU or
node), each request goes to the replica with the fewest requests in flight, so a slower replica gets
fewer; ``concurrency`` bounds the total across replicas.

The grader reads the whole output, thinking included. A server with a reasoning parser returns the
thought separately (``reasoning_content`` or ``reasoning``); it is put back in front of the answer as
``THOUGHT</think>ANSWER``, the text the model generated after the ``<think>\\n`` of the prompt.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from reasonlab.inference.base import (
    FINISH_ERROR,
    FINISH_LENGTH,
    FINISH_STOP,
    Completion,
    GenerationSettings,
    Request,
)

_DONE = object()


def _full_text(message) -> str:
    content = message.content or ""
    thought = getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)
    if not thought:
        extra = getattr(message, "model_extra", None) or {}
        thought = extra.get("reasoning_content") or extra.get("reasoning")
    return f"{thought}</think>{content}" if thought else content


class _Replicas:
    """The clients of the replicas, each with its count of requests in flight (one event loop: no lock)."""

    def __init__(self, clients: list):
        self.clients = clients
        self.in_flight = [0] * len(clients)

    @contextmanager
    def least_loaded(self):
        # ties go to the first, so an idle pool fills the replicas in turn
        index = min(range(len(self.clients)), key=self.in_flight.__getitem__)
        self.in_flight[index] += 1
        try:
            yield self.clients[index]
        finally:
            self.in_flight[index] -= 1


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        base_urls: Sequence[str] = (),
        api_key_env: str = "OPENAI_API_KEY",
        require_api_key: bool = False,
        concurrency: int = 16,
        timeout_s: float = 600.0,
        max_retries: int = 4,
    ):
        import openai

        self.model = model
        self.base_urls = list(base_urls) or [base_url]
        key = os.environ.get(api_key_env)
        if require_api_key and not key:
            # Said before any request: a hosted API answers a missing key with 401 on every row.
            raise ValueError(
                f"backend.api_key_env: the environment variable {api_key_env} is not set; this server needs "
                f"an API key (export {api_key_env}=...)"
            )
        self.api_key = key or "EMPTY"  # local servers (vllm serve, reasonlab serve) take any key
        self.concurrency = max(1, concurrency)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._openai = openai

    async def _one(
        self, replicas: _Replicas, limit: asyncio.Semaphore, request: Request, settings: GenerationSettings
    ) -> Completion:
        async with limit:
            with replicas.least_loaded() as client:
                return await self._ask(client, request, settings)

    async def _ask(self, client, request: Request, settings: GenerationSettings) -> Completion:
        started = time.perf_counter()
        try:
            response = await client.chat.completions.create(
                model=self.model,
                messages=request.messages,
                max_tokens=settings.max_tokens,
                temperature=settings.temperature,
                top_p=settings.top_p,
                seed=settings.seed,
                extra_body={"chat_template_kwargs": {"enable_thinking": settings.enable_thinking}},
            )
        except self._openai.APIError as exc:  # after the SDK's retries
            return Completion(
                id=request.id,
                text="",
                prompt_tokens=0,
                completion_tokens=0,
                finish_reason=FINISH_ERROR,
                seconds=time.perf_counter() - started,
                error=f"{type(exc).__name__}: {exc}",
            )
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            id=request.id,
            text=_full_text(choice.message),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=FINISH_LENGTH if choice.finish_reason == "length" else FINISH_STOP,
            seconds=time.perf_counter() - started,
        )

    async def _run(self, requests: Sequence[Request], settings: GenerationSettings, out: queue.Queue) -> None:
        replicas = _Replicas(
            [
                self._openai.AsyncOpenAI(
                    base_url=url, api_key=self.api_key, timeout=self.timeout_s, max_retries=self.max_retries
                )
                for url in self.base_urls
            ]
        )
        limit = asyncio.Semaphore(self.concurrency)
        try:
            tasks = [asyncio.create_task(self._one(replicas, limit, r, settings)) for r in requests]
            for finished in asyncio.as_completed(tasks):
                out.put(await finished)
        finally:
            for client in replicas.clients:
                await client.close()

    def generate(self, requests: Sequence[Request], settings: GenerationSettings) -> Iterator[Completion]:
        # The event loop runs in a worker thread so completions reach the caller one by one, as they land.
        out: queue.Queue = queue.Queue()
        failure: list[BaseException] = []

        def work() -> None:
            try:
                asyncio.run(self._run(requests, settings, out))
            except BaseException as exc:  # handed to the caller's thread below
                failure.append(exc)
            finally:
                out.put(_DONE)

        worker = threading.Thread(target=work, name="openai-backend", daemon=True)
        worker.start()
        while (item := out.get()) is not _DONE:
            yield item
        worker.join()
        if failure:
            raise failure[0]

    def close(self) -> None:
        pass
