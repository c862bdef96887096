"""The vllm backend (offline engine, grader flags) on CPU with tiny models, run in the vLLM virtualenv;
its greedy completions must equal the hf backend's. Slow: engine start-up is ~1 minute.

The dense Nemotron-H (Mamba-2 + attention) runs with prefix caching off: vLLM 0.32's CPU build fails in
the Mamba prefix-caching path (an IndexError in ``mamba_mixer2``) with it on."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest

from reasonlab.inference.base import GenerationSettings, generate_all
from reasonlab.inference.prompts import puzzle_requests
from reasonlab.puzzles.io import read_puzzles
from reasonlab.runs.evaluate import data_path, load_eval_config

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_TOKENS = 24
RUNNER = f"""
import json, sys
from reasonlab.inference.base import GenerationSettings, Request
from reasonlab.inference.vllm_backend import VllmBackend

if __name__ == "__main__":
    requests = [Request(**r) for r in json.load(open(sys.argv[2]))]
    overrides = json.loads(sys.argv[3])
    adapter = sys.argv[4] or None
    backend = VllmBackend(sys.argv[1], adapter=adapter, max_model_len=2048, enforce_eager=True, dtype="float32", **overrides)
    completions = [c.to_dict() for c in backend.generate(requests, GenerationSettings(max_tokens={MAX_TOKENS}))]
    print("RESULT" + json.dumps(completions))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "engine_overrides", "with_adapter"),
    [("llama", {}, True), ("nemotron-h-dense", {"enable_prefix_caching": False}, False)],
    ids=["llama+lora", "nemotron-h-dense"],
)
def test_vllm_backend_matches_hf_greedy(tmp_path, vllm_python, kind, engine_overrides, with_adapter, request):
    """The llama case goes through a LoRA request (the grader's path) and compares with hf + PEFT."""
    from reasonlab.inference.hf import HfBackend
    from reasonlab.models.tiny import tiny_model

    model = tiny_model(kind)
    adapter = request.getfixturevalue("tiny_llama_adapter") if with_adapter else None
    requests = puzzle_requests(read_puzzles(data_path(load_eval_config(None))).puzzles)
    (tmp_path / "requests.json").write_text(json.dumps([asdict(r) for r in requests]), encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    result = subprocess.run(
        [vllm_python, str(tmp_path / "runner.py"), str(model), str(tmp_path / "requests.json"), json.dumps(engine_overrides), str(adapter or "")],
        capture_output=True, text=True, env=env, timeout=500,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    served = {c["id"]: c for c in json.loads(line[len("RESULT") :])}
    local = generate_all(
        HfBackend(model, device="cpu", adapter=adapter), requests, GenerationSettings(max_tokens=MAX_TOKENS)
    )
    assert set(served) == set(local)
    for row_id, completion in local.items():
        assert served[row_id]["text"] == completion.text, row_id
        assert served[row_id]["completion_tokens"] == completion.completion_tokens
        assert served[row_id]["prompt_tokens"] == completion.prompt_tokens
        assert served[row_id]["finish_reason"] == completion.finish_reason


SCORER = """
import json, sys
from dataclasses import asdict
from reasonlab.inference.base import GenerationSettings, Request
from reasonlab.inference.vllm_backend import VllmBackend

if __name__ == "__main__":
    requests = [Request(**r) for r in json.load(open(sys.argv[2]))]
    references = json.load(open(sys.argv[3]))
    backend = VllmBackend(sys.argv[1], max_model_len=2048, enforce_eager=True, dtype="float32")
    scores = [asdict(s) for s in backend.score_references(requests, references, GenerationSettings())]
    print("RESULT" + json.dumps(scores), flush=True)
    backend.close()
"""


@pytest.mark.slow
def test_vllm_prompt_logprobs_score_references_like_hf(tmp_path, vllm_python):
    """Imitation metrics through vLLM's prompt log-probabilities equal hf's teacher forcing on the tiny llama."""
    from reasonlab.inference.hf import HfBackend
    from reasonlab.models.tiny import tiny_model

    model = tiny_model("llama")
    requests = puzzle_requests(read_puzzles(data_path(load_eval_config(None))).puzzles[:4])
    references = [
        f"the number {n}\n{n} = X\n\\boxed{{X}}\n</think>\nThe answer is \\boxed{{X}}."
        for n in (61, 7, 40, 99)
    ]
    (tmp_path / "requests.json").write_text(json.dumps([asdict(r) for r in requests]), encoding="utf-8")
    (tmp_path / "references.json").write_text(json.dumps(references), encoding="utf-8")
    (tmp_path / "scorer.py").write_text(SCORER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    # Output to files, not pipes: the engine's helper processes may outlive it holding inherited pipes.
    with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
        result = subprocess.run(
            [vllm_python, str(tmp_path / "scorer.py"), str(model), str(tmp_path / "requests.json"), str(tmp_path / "references.json")],
            stdout=out, stderr=err, env=env, timeout=500,
        )  # fmt: skip
    stdout, stderr = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    # vllm-cpu 0.32 sometimes aborts in its C++ teardown at interpreter exit, after the work is done.
    teardown_abort = "terminate called without an active exception" in stderr and "RESULT" in stdout
    assert result.returncode == 0 or teardown_abort, stderr[-3000:]
    line = next(line for line in stdout.splitlines() if line.startswith("RESULT"))
    served = {s["id"]: s["tokens"] for s in json.loads(line[len("RESULT") :])}
    local = {
        s.id: s.tokens
        for s in HfBackend(model, device="cpu").score_references(requests, references, GenerationSettings())
    }
    assert set(served) == set(local) == {r.id for r in requests}
    for row_id, tokens in local.items():
        assert [(t["start"], t["end"]) for t in served[row_id]] == [(t.start, t.end) for t in tokens]
        assert [t["logprob"] for t in served[row_id]] == pytest.approx([t.logprob for t in tokens], abs=1e-3)
        assert [t["agrees"] for t in served[row_id]] == [t.agrees for t in tokens]
