"""Turn a saved PEFT adapter directory into the submission.zip the grader loads.

A native-layout adapter (transformers NemotronH, fused experts) is converted to the grader's layout first;
the zip is checked before it is kept, so a zip that ``pack`` writes is one ``check`` accepts.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from safetensors.torch import load_file, save_file

from reasonlab.outputs import OutputPathError, atomic_path, check_outputs
from reasonlab.submission.architecture import Architecture, ModuleTable, competition_architecture
from reasonlab.submission.check import CONFIG_NAME, WEIGHTS_NAME, CheckReport, check_submission
from reasonlab.submission.layout import Adapter, is_native, to_grader_layout


class PackError(ValueError):
    def __init__(self, message: str, report: CheckReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class PackResult:
    path: Path
    converted: bool
    report: CheckReport
    dropped: list[str]


def read_adapter(adapter_dir: Path) -> Adapter:
    adapter_dir = Path(adapter_dir)
    config_path, weights_path = adapter_dir / CONFIG_NAME, adapter_dir / WEIGHTS_NAME
    if not config_path.is_file():
        raise PackError(f"{config_path} not found: ADAPTER_DIR must be a PEFT save_pretrained() directory")
    if not weights_path.is_file():
        bin_hint = (
            " (found adapter_model.bin: save with safe_serialization=True)"
            if (adapter_dir / "adapter_model.bin").exists()
            else ""
        )
        raise PackError(f"{weights_path} not found{bin_hint}")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise PackError(f"{config_path}: not valid JSON ({exc})") from None
    return Adapter(config, load_file(weights_path))


def write_adapter(adapter: Adapter, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG_NAME).write_text(json.dumps(adapter.config, indent=2, sort_keys=True))
    save_file(adapter.tensors, directory / WEIGHTS_NAME)


def pack_adapter(
    adapter_dir: Path, out: Path, architecture: Architecture | ModuleTable | None = None
) -> PackResult:
    """Write ``out`` (a zip with the two adapter files at its root); raise PackError if it would not load."""
    arch = architecture or competition_architecture()
    out, adapter_dir = Path(out), Path(adapter_dir)
    try:
        check_outputs([out], [adapter_dir / CONFIG_NAME, adapter_dir / WEIGHTS_NAME])
    except OutputPathError as exc:
        raise PackError(str(exc)) from None
    adapter = read_adapter(adapter_dir)
    # PEFT saves a full copy of a targeted lm_head/embedding (save_embedding_layers); it is the frozen base
    # weight, and vLLM rejects non-LoRA tensors.
    dropped = sorted(k for k in adapter.tensors if k.endswith(".base_layer.weight"))
    adapter = Adapter(adapter.config, {k: v for k, v in adapter.tensors.items() if k not in dropped})
    # Only Nemotron-H has two layouts; other models' adapters are packed as they are.
    converted = isinstance(arch, Architecture) and is_native(adapter)
    if converted:
        adapter = to_grader_layout(adapter, num_experts=arch.n_routed_experts, base_model=arch.name)
    elif not adapter.config.get("base_model_name_or_path"):
        adapter = Adapter({**adapter.config, "base_model_name_or_path": arch.name}, adapter.tensors)
    with atomic_path(out) as partial, tempfile.TemporaryDirectory() as tmp:
        write_adapter(adapter, Path(tmp))
        # Stored, not deflated: LoRA weights barely compress and the zip can be gigabytes.
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for name in (CONFIG_NAME, WEIGHTS_NAME):
                archive.write(Path(tmp) / name, arcname=name)
        report = check_submission(partial, arch)
        if not report.ok:
            raise PackError(f"the packed adapter would not load: {len(report.errors)} problem(s)", report)
    report.path = out
    return PackResult(out, converted, report, dropped)
