"""The openai backend against real OpenAI-compatible HTTP servers on 127.0.0.1 serving the tiny model:
`reasonlab serve` (always) and `vllm serve` (when vLLM is installed; slow)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from reasonlab.inference.base import FINISH_ERROR, FINISH_STOP, GenerationSettings, generate_all
from reasonlab.inference.prompts import puzzle_requests
from reasonlab.puzzles.io import read_puzzles
from reasonlab.runs.evaluate import data_path, load_eval_config

SRC = Path(__file__).resolve().parents[1] / "src"
SETTINGS = GenerationSettings(max_tokens=24)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"server not up after {timeout_s} s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def requests():
    return puzzle_requests(read_puzzles(data_path(load_eval_config(None))).puzzles)


def _assert_same_completions(served: dict, local: dict) -> None:
    assert set(served) == set(local)
    for row_id, completion in served.items():
        assert completion.error is None, completion.error
        assert completion.text == local[row_id].text, row_id
        assert completion.completion_tokens == local[row_id].completion_tokens
        assert completion.prompt_tokens == local[row_id].prompt_tokens
        assert completion.finish_reason == local[row_id].finish_reason


def test_reasonlab_serve_gives_the_hf_backend_greedy_completions(requests):
    from reasonlab.inference.hf import HfBackend
    from reasonlab.inference.openai_backend import OpenAIBackend
    from reasonlab.models.tiny import tiny_model

    tiny_model_dir = tiny_model("llama")

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "reasonlab",
        "serve",
        str(tiny_model_dir),
        "--port",
        str(port),
        "--name",
        "tiny",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(server, f"http://127.0.0.1:{port}/v1/models", timeout_s=120)
        backend = OpenAIBackend("tiny", base_url=f"http://127.0.0.1:{port}/v1", concurrency=4)
        served = generate_all(backend, requests, SETTINGS)
    finally:
        _stop(server)
    local = generate_all(HfBackend(tiny_model_dir, device="cpu"), requests, SETTINGS)
    _assert_same_completions(served, local)


def test_unreachable_server_costs_rows_not_the_run(requests):
    from reasonlab.inference.openai_backend import OpenAIBackend

    backend = OpenAIBackend("m", base_url=f"http://127.0.0.1:{_free_port()}/v1", max_retries=1)
    started = time.monotonic()
    completions = generate_all(backend, requests[:3], SETTINGS)
    assert {c.finish_reason for c in completions.values()} == {FINISH_ERROR}
    assert all("Connection" in c.error for c in completions.values())
    assert time.monotonic() - started < 10


def test_transient_server_errors_are_retried_by_the_sdk(requests):
    """A real HTTP server on 127.0.0.1 that answers 503 twice, then a completion: the SDK's retries get it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from openai_fakes import send_chat_completion
    from reasonlab.inference.openai_backend import OpenAIBackend

    calls = []

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            calls.append(self.path)
            if len(calls) <= 2:
                self.send_response(503)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            send_chat_completion(self, "\\boxed{7}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        backend = OpenAIBackend("m", base_url=f"http://127.0.0.1:{server.server_port}/v1", max_retries=2)
        (completion,) = generate_all(backend, requests[:1], SETTINGS).values()
    finally:
        server.shutdown()
    assert completion.finish_reason == FINISH_STOP and completion.text == "\\boxed{7}"
    assert len(calls) == 3


@pytest.mark.slow
def test_vllm_serve_gives_the_hf_backend_greedy_completions(requests, vllm_python):
    from reasonlab.inference.hf import HfBackend
    from reasonlab.inference.openai_backend import OpenAIBackend
    from reasonlab.models.tiny import tiny_model

    # A llama-style model: vLLM's CPU build serves it with HF-identical greedy output.
    model = tiny_model("llama")
    port = _free_port()
    command = [
        vllm_python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
        "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(server, f"http://127.0.0.1:{port}/v1/models", timeout_s=400)
        served = generate_all(
            OpenAIBackend("tiny", base_url=f"http://127.0.0.1:{port}/v1"), requests, SETTINGS
        )
    finally:
        _stop(server)
    local = generate_all(HfBackend(model, device="cpu"), requests, SETTINGS)
    _assert_same_completions(served, local)


def test_thought_split_off_by_a_reasoning_parser_is_put_back():
    from types import SimpleNamespace

    from reasonlab.inference.openai_backend import _full_text

    split = SimpleNamespace(content="\\boxed{7}", reasoning_content="3 + 4 = 7\n")
    assert _full_text(split) == "3 + 4 = 7\n</think>\\boxed{7}"
    whole = SimpleNamespace(content="3 + 4 = 7\n</think>\\boxed{7}", reasoning_content=None, model_extra={})
    assert _full_text(whole) == "3 + 4 = 7\n</think>\\boxed{7}"
