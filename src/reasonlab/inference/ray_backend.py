"""Evaluation rows sharded over a Ray cluster: ``backend.ray: local`` (or ``auto``, ``ray://host:10001``).

The configured backend (solver or hf) runs in one Ray actor per cluster CPU, each built once; the
requests go to them in chunks, round robin, and the completions come back in request order. Each row is
answered by the same backend code as in a local run, so the completions are the local run's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from reasonlab.inference.base import Completion, GenerationSettings, Request
from reasonlab.workers import ray_session

if TYPE_CHECKING:
    from reasonlab.inference.factory import BackendConfig

REQUESTS_PER_TASK = 16


class _Replica:
    """One copy of the backend, in a Ray actor's process."""

    def __init__(self, config: BackendConfig, seed: int):
        from reasonlab.inference.factory import make_backend

        self.backend = make_backend(config, seed=seed)

    def generate(self, requests: list[Request], settings: GenerationSettings) -> list[Completion]:
        return list(self.backend.generate(requests, settings))


class RayBackend:
    name = "ray"

    def __init__(self, config: BackendConfig, *, seed: int = 0, address: str | None = None):
        self.config, self.seed, self.address = config, seed, address

    def generate(self, requests: Sequence[Request], settings: GenerationSettings) -> Iterator[Completion]:
        requests = list(requests)
        chunks = [requests[i : i + REQUESTS_PER_TASK] for i in range(0, len(requests), REQUESTS_PER_TASK)]
        with ray_session(self.address) as ray:
            replica = ray.remote(num_cpus=1)(_Replica)
            count = max(1, min(len(chunks), int(ray.cluster_resources().get("CPU", 1))))
            actors = [replica.remote(self.config, self.seed) for _ in range(count)]
            try:
                pending = [
                    actors[i % count].generate.remote(chunk, settings) for i, chunk in enumerate(chunks)
                ]
                for ref in pending:
                    yield from ray.get(ref)
            finally:
                for actor in actors:
                    ray.kill(actor)

    def close(self) -> None:
        pass
