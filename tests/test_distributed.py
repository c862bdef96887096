"""Multi-process training through `accelerate launch`: two CPU processes (gloo) on the tiny Nemotron-H with
reasonlab's model and LoRA setup; their gradients are averaged, so their weights stay identical.

accelerate's ``--cpu`` flag runs a single process unless MPI is set up, so the test uses its multi-process
launcher (torchrun underneath) and each process asks its Accelerator for the CPU: torch.distributed then
runs over gloo, as on a CPU cluster."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("accelerate")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_synchronise_their_gradients(tmp_path, tiny_model_dir):
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1", "--main_process_port", str(_free_port()),
        str(Path(__file__).with_name("ddp_worker.py")), str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    # Different text per rank: different local losses ...
    assert ranks[0]["loss"] != pytest.approx(ranks[1]["loss"])
    # ... but the same (all-reduced) gradients and therefore the same weights after the step.
    assert ranks[0]["grads"].keys() == ranks[1]["grads"].keys() and ranks[0]["grads"]
    for name, grad in ranks[0]["grads"].items():
        assert grad == pytest.approx(ranks[1]["grads"][name], rel=1e-5, abs=1e-8), name
    for name, weight in ranks[0]["weights"].items():
        assert weight == pytest.approx(ranks[1]["weights"][name], rel=1e-6), name
    assert any(abs(g) > 0 for g in ranks[0]["grads"].values())
