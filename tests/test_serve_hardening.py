"""`reasonlab serve` under hostile or impatient clients: bad requests, huge budgets, clients that leave,
and a second client arriving while a first one generates."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("fastapi")

from reasonlab.inference.base import Arrival, Completion, FixedFeed, GenerationSettings, Request  # noqa: E402
from reasonlab.inference.server import create_app  # noqa: E402

BUDGET = 300
STEP_S = 0.01  # one token per request per step


class SlowBackend:
    """Generates one token per request every STEP_S, admitting arrivals and dropping abandoned requests
    between steps, as the hf backend does between its segments."""

    name = "slow"

    def __init__(self):
        self.budgets: list[int] = []
        self.abandoned: list[str] = []
        self.steps = 0

    def generate(self, requests, settings):
        return self.generate_from_feed(settings, FixedFeed(requests, settings.max_tokens))

    def generate_from_feed(self, settings, feed):
        budgets, tokens = {}, {}
        while True:
            for request, max_tokens in feed.arrivals():
                budgets[request.id], tokens[request.id] = max_tokens, 0
                self.budgets.append(max_tokens)
            for request_id in [i for i in tokens if feed.abandoned(i)]:
                del tokens[request_id]
                self.abandoned.append(request_id)
            if not tokens:
                return
            time.sleep(STEP_S)
            self.steps += 1
            for request_id in list(tokens):
                tokens[request_id] += 1
                if tokens[request_id] == budgets[request_id]:
                    del tokens[request_id]
                    yield Completion(
                        request_id, "x" * budgets[request_id], 3, budgets[request_id], "length", 0.0
                    )

    def close(self):
        pass


def post(url: str, body: dict, timeout: float) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def chat(max_tokens: int, **extra) -> dict:
    return {"messages": [{"role": "user", "content": "hi"}], "max_tokens": max_tokens, **extra}


@pytest.fixture
def client():
    from fastapi.testclient import TestClient

    backend = SlowBackend()
    with TestClient(create_app(backend, "slow", default_max_tokens=20)) as test_client:
        test_client.backend = backend
        yield test_client


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (chat(5, temperature=-1), "temperature"),
        (chat(5, top_p=0), "top_p"),
        (chat(0), "max_tokens"),
        ({"messages": []}, "messages"),
        ({"max_tokens": 5}, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
        ({"messages": "hello"}, "messages"),
    ],
)
def test_bad_requests_get_400_naming_the_field(client, body, field):
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == field and field in error["message"]


def test_a_body_that_is_not_json_gets_400(client):
    response = client.post(
        "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_max_tokens_is_capped_at_the_budget(client):
    response = client.post("/v1/chat/completions", json=chat(5))
    assert response.status_code == 200 and response.json()["usage"]["completion_tokens"] == 5
    response = client.post("/v1/chat/completions", json=chat(10**9))
    assert response.status_code == 200
    assert client.backend.budgets[-1] == 20
    assert response.json()["usage"]["completion_tokens"] == 20


@pytest.fixture
def live_server():
    import uvicorn

    backend = SlowBackend()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(backend, "slow", default_max_tokens=BUDGET),
        host="127.0.0.1",
        port=port,
        log_level="error",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/v1/chat/completions", backend
    server.should_exit = True
    thread.join(timeout=10)


def test_an_abandoned_generation_is_cancelled(live_server):
    url, backend = live_server
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        post(url, chat(BUDGET), timeout=0.5)  # the client gives up and closes its connection
    deadline = time.monotonic() + 3
    while not backend.abandoned and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(backend.abandoned) == 1
    steps = backend.steps
    time.sleep(0.3)
    assert backend.steps == steps  # nothing generates any more
    assert steps < BUDGET / 2


def test_a_second_client_is_served_while_a_first_one_generates(live_server):
    url, backend = live_server

    def first_client():
        # the server stops at the end of the test, before this long request is done
        with contextlib.suppress(OSError):
            post(url, chat(BUDGET), timeout=60)

    first = threading.Thread(target=first_client, daemon=True)
    first.start()
    time.sleep(0.3)
    started = time.monotonic()
    response = post(url, chat(5), timeout=60)
    waited = time.monotonic() - started
    assert response["usage"]["completion_tokens"] == 5
    assert waited < BUDGET * STEP_S / 4, f"the second client waited {waited:.1f} s"
    assert first.is_alive()  # the first one is still generating


def test_the_hf_backend_admits_arrivals_and_drops_abandoned_requests():
    pytest.importorskip("torch")
    from reasonlab.inference.hf import HfBackend
    from reasonlab.models.tiny import tiny_model

    backend = HfBackend(tiny_model("llama"), device="cpu", refill_tokens=2)

    class Feed:
        def __init__(self):
            self.calls = 0

        def arrivals(self):
            self.calls += 1
            if self.calls == 1:
                return [
                    Arrival(Request(i, [{"role": "user", "content": f"Count to {n}."}]), 6)
                    for i, n in (("kept", 3), ("gone", 4))
                ]
            return (
                [Arrival(Request("late", [{"role": "user", "content": "Say hi."}]), 3)]
                if self.calls == 2
                else []
            )

        def abandoned(self, request_id):
            return request_id == "gone" and self.calls >= 2

    finished = {c.id: c for c in backend.generate_from_feed(GenerationSettings(max_tokens=6), Feed())}
    assert set(finished) == {"kept", "late"}
    assert finished["late"].completion_tokens <= 3  # its own budget
