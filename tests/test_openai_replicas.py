"""Data parallel eval: ``backend.base_urls`` spreads the rows over several OpenAI-compatible replicas (two
real HTTP servers on 127.0.0.1 here), with the completions of a single replica."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from openai_fakes import send_chat_completion
from reasonlab.runs.config import ConfigError
from reasonlab.runs.evaluate import load_eval_config, run_eval


@contextmanager
def _replica(served: list[str], delay_s: float):
    """A server answering each chat request with a digest of its messages (what a greedy model does:
    the same request, the same completion, whichever replica answers)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            served.append(request["messages"][-1]["content"])
            time.sleep(delay_s)
            digest = hashlib.sha256(json.dumps(request["messages"]).encode()).hexdigest()[:6]
            send_chat_completion(self, f"<think>{digest}</think>\\boxed{{{digest}}}", request["model"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()


def _completions(run_dir) -> dict[str, str]:
    rows = [json.loads(line) for line in (run_dir / "completions.jsonl").read_text().splitlines()]
    return {r["id"]: r["completion"] for r in rows if "id" in r}


def test_two_replicas_share_the_rows_and_give_one_replicas_completions(tmp_path):
    settings = ["data.path=sample", "backend.kind=openai", "backend.model=m", "backend.concurrency=4"]
    settings += ["report=false", "backend.max_retries=0"]
    alone: list[str] = []
    with _replica(alone, delay_s=0.0) as url:
        single = run_eval(load_eval_config(None, [*settings, f"backend.base_url={url}"]), tmp_path / "one")
    fast, slow = [], []
    with _replica(fast, delay_s=0.0) as first, _replica(slow, delay_s=0.05) as second:
        config = load_eval_config(None, [*settings, f"backend.base_urls=[{first}, {second}]"])
        both = run_eval(config, tmp_path / "two")
    rows = single.metrics["overall"]["rows"]
    assert len(alone) == rows == len(fast) + len(slow) and both.metrics["overall"]["rows"] == rows
    assert slow and len(fast) > len(slow)  # least loaded: the slower replica gets fewer rows
    assert sorted(fast + slow) == sorted(alone)
    completions = _completions(tmp_path / "two")
    assert completions == _completions(tmp_path / "one") and len(completions) == rows


def test_base_urls_is_the_openai_backends_only():
    for wrong in (["backend.kind=solver"], ["backend.kind=openai", "backend.base_url=http://a/v1"]):
        try:
            load_eval_config(None, [*wrong, "backend.base_urls=[http://b/v1]"])
        except ConfigError as exc:
            assert "backend.base_urls" in str(exc)
        else:
            raise AssertionError(f"{wrong} with base_urls was accepted")
