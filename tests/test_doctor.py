"""`reasonlab doctor` judges hand-made machines with pieces missing, and this machine for real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reasonlab.runs.doctor import GIB, Gpu, Level, Machine, Need, judge, need_for, ready

H100 = Gpu("NVIDIA H100 80GB HBM3", 80 * GIB)


def machine(**changes) -> Machine:
    """A machine ready for everything; each test takes something away."""
    base = dict(
        python=(3, 11, 7),
        packages={"torch": "2.13.0", "transformers": "5.24.0", "vllm": "0.32.0", "mistral-common": "1.13.1"},
        modules={"mamba_ssm", "causal_conv1d", "flash_attn"},
        accelerator="cuda",
        gpus=[H100],
        vllm={"version": "0.32.0", "nemotron_h": True, "lora": True},
        vllm_python="/usr/bin/python3",
        disk_free_bytes=500 * GIB,
        dev_csv=Path("dev.csv"),
    )
    return Machine(**{**base, **changes})


def levels(findings) -> dict[str, Level]:
    return {f.check: f.level for f in findings}


def test_a_complete_gpu_machine_is_ready_for_the_grader_config():
    findings = judge(machine(), Need(gpu=True, gpu_bytes=70 * GIB, why="the vllm backend"))
    assert ready(findings) and set(levels(findings).values()) == {Level.OK}


def test_a_cpu_machine_is_ready_for_the_lab_and_says_what_a_gpu_run_needs():
    findings = judge(machine(accelerator="cpu", gpus=[], modules=set(), vllm=None, vllm_python=None))
    assert ready(findings)
    assert levels(findings) | {} == {
        **levels(findings),
        "gpu": Level.INFO,
        "vllm": Level.INFO,
        "kernels": Level.INFO,
    }
    assert all(f.fix for f in findings if f.level == Level.INFO)


def test_no_gpu_is_a_blocker_for_a_run_that_needs_one():
    findings = judge(machine(accelerator="cpu", gpus=[], vllm=None), Need(gpu=True, why="the vllm backend"))
    assert not ready(findings)
    assert levels(findings)["gpu"] == Level.BLOCKER and levels(findings)["vllm"] == Level.BLOCKER


def test_too_little_gpu_memory_is_a_blocker_naming_both_sizes():
    findings = judge(machine(gpus=[Gpu("small", 24 * GIB)]), Need(gpu=True, gpu_bytes=70 * GIB, why="x"))
    (memory,) = [f for f in findings if f.check == "gpu memory"]
    assert memory.level == Level.BLOCKER and "24 GiB < 70 GiB" in memory.detail


@pytest.mark.parametrize(
    ("changes", "check", "level"),
    [
        ({"python": (3, 10, 12)}, "python", Level.BLOCKER),
        ({"packages": {"torch": None}}, "torch", Level.WARN),
        ({"modules": {"flash_attn"}}, "kernels", Level.WARN),
        ({"vllm": {"version": "0.6.0", "nemotron_h": False}}, "vllm", Level.WARN),
        ({"vllm": {"version": "0.9.0", "nemotron_h": True, "lora": False}}, "vllm", Level.WARN),
        ({"packages": {"torch": "2.13.0", "mistral-common": None}}, "tokenizer", Level.INFO),
        ({"dev_csv": None}, "data", Level.WARN),
        ({"disk_free_bytes": 5 * GIB}, "disk", Level.WARN),
        ({"disk_free_bytes": GIB // 2}, "disk", Level.BLOCKER),
    ],
)
def test_each_missing_piece_is_named_with_its_fix(changes, check, level):
    findings = judge(machine(**changes))
    finding = next(f for f in findings if f.check == check)
    assert finding.level == level and finding.fix


@pytest.mark.parametrize(
    ("config", "gpu"),
    [
        ({"backend": {"kind": "vllm", "model": "nvidia/x"}}, True),
        ({"backend": {"kind": "hf", "model": "tiny:nemotron-h"}}, False),
        ({"backend": {"kind": "hf", "model": "/models/nemotron"}}, True),
        ({"backend": {"kind": "openai", "model": "nvidia/x"}}, False),
        ({"model": {"name_or_path": "/models/nemotron"}, "lora": {"r": 32}}, True),
        ({"model": {"name_or_path": "tiny:llama"}}, False),
    ],
)
def test_configs_say_whether_they_need_a_gpu(config, gpu):
    assert need_for(config).gpu is gpu


def test_doctor_on_this_machine_exits_zero_and_names_what_a_gpu_run_needs(tmp_path):
    from typer.testing import CliRunner

    from reasonlab.cli.main import app

    result = CliRunner().invoke(app, ["doctor", "--json"], env={**os.environ, "REASONLAB_VLLM_PYTHON": ""})
    assert result.exit_code == 0, result.output
    import json

    findings = {f["check"]: f for f in json.loads(result.output)}
    assert findings["python"]["level"] == "ok"
    if findings["gpu"]["level"] == "info":  # a CPU machine, as CI's
        assert "CUDA GPU" in findings["gpu"]["fix"]


def test_doctor_exits_one_on_a_blocker(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import reasonlab.runs.doctor as doctor
    from reasonlab.cli.main import app

    monkeypatch.setattr(doctor, "snapshot", lambda dev_csv=None: machine(disk_free_bytes=0))
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1 and "blocker" in result.output


@pytest.mark.skipif(
    not os.environ.get("REASONLAB_VLLM_PYTHON"), reason="REASONLAB_VLLM_PYTHON names no vLLM build"
)
def test_the_vllm_probe_reads_a_real_vllm():
    from reasonlab.runs.doctor import probe_vllm

    info = probe_vllm(os.environ["REASONLAB_VLLM_PYTHON"])
    assert info is not None and info["version"] and info["nemotron_h"] is True


def test_the_grader_config_needs_the_real_models_weights_and_caches():
    from reasonlab.runs.config import read_yaml

    need = need_for(read_yaml(Path(__file__).resolve().parents[1] / "configs" / "kaggle-eval.yaml"))
    # 31.6B parameters in BF16 plus 64 sequences x 7,680 tokens of KV cache and Mamba state (reasonlab inspect)
    assert need.gpu and 60 * GIB < need.gpu_bytes < 70 * GIB
