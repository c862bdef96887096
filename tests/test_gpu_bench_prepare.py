"""`scripts/gpu_bench.py --prepare-only`: everything the GPU benchmark does before its first engine, run here
on CPU so that a lent GPU's minutes are not spent finding a broken model directory or adapter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reasonlab.submission.check import check_submission

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_bench.py"


def test_prepare_only_builds_the_real_architecture_and_a_loadable_adapter(tmp_path):
    pytest.importorskip("mistral_common", reason="the tekken tokenizer needs the 'synth' extra")
    shipped = json.loads(
        (Path(__file__).resolve().parents[1] / "src/reasonlab/data/nemotron-3-nano-30b-a3b.json").read_text()
    )
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--prepare-only", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["architecture"] == "NemotronHForCausalLM"
    # Nemotron-3-Nano-30B-A3B: about 31.6B parameters in all (3B active); random layers would not be this.
    assert 30e9 < summary["parameters"] < 33e9
    assert summary["vocab_size"] == shipped["vocab_size"] == 131_072
    assert summary["prompt_tokens"] > 50
    report = check_submission(Path(summary["submission"]))
    assert report.ok, report.errors
    assert not (tmp_path / "bench.json").exists()  # nothing was measured
