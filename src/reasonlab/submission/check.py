"""Would the grader load this submission.zip? Every problem found, each with where it is and what to do.

The grader unzips the file, expects ``adapter_config.json`` and ``adapter_model.safetensors`` at the root, and
loads them with vLLM (``max_lora_rank=32``) onto Nemotron-3-Nano-30B-A3B. The check reads the safetensors
header itself (no torch, no model), so it runs offline in a second on any machine.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from reasonlab.submission.architecture import PEFT_PREFIX, Architecture, ModuleTable, competition_architecture
from reasonlab.training.targets import MAX_LORA_RANK

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
_LORA_KEY = re.compile(r"(?P<module>.+)\.(?P<which>lora_A|lora_B)\.weight")
_DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4}


@dataclass(frozen=True)
class Finding:
    level: str  # "error" (the grader would fail or silently lose weights) or "warning"
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


@dataclass
class CheckReport:
    path: Path
    architecture: str
    findings: list[Finding] = field(default_factory=list)
    rank: int | None = None
    alpha: float | None = None
    tensors: int = 0
    modules_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, where: str, message: str) -> None:
        self.findings.append(Finding("error", where, message))

    def warn(self, where: str, message: str) -> None:
        self.findings.append(Finding("warning", where, message))


def check_submission(path: Path, architecture: Architecture | ModuleTable | None = None) -> CheckReport:
    """Check a submission zip against the competition's model (or another Nemotron-H architecture)."""
    arch = architecture or competition_architecture()
    report = CheckReport(path=Path(path), architecture=arch.name)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.error(str(path), f"not a readable zip file ({exc})")
        return report
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        for name in names:
            if name.lower().endswith(".zip"):
                report.error(
                    name, "a zip inside the zip; the grader reads the files directly from submission.zip"
                )
            elif "/" in name.rstrip("/"):
                report.error(
                    name,
                    "file in a folder; adapter files must be at the zip root (zip the files, not the folder)",
                )
            elif name not in (CONFIG_NAME, WEIGHTS_NAME):
                report.warn(name, "extra file, ignored by the grader")
        for required in (CONFIG_NAME, WEIGHTS_NAME):
            if required not in names:
                nested = [n for n in names if n.endswith("/" + required)]
                hint = f" (found at {nested[0]}: move it to the root)" if nested else ""
                report.error(required, f"missing at the zip root{hint}")
        if not report.ok:
            return report
        config = _read_config(archive.read(CONFIG_NAME), report)
        header = _read_safetensors_header(archive.read(WEIGHTS_NAME), report)
    if config is not None and header is not None:
        check_adapter(config, header, arch, report)
    return report


def check_adapter(
    config: dict, header: dict[str, dict], arch: Architecture | ModuleTable, report: CheckReport
) -> None:
    """Check a parsed adapter config and safetensors header (``{key: {dtype, shape}}``) against ``arch``."""
    rank = _check_config(config, arch, report)
    if rank is None:
        return
    rank_pattern = config.get("rank_pattern") or {}
    pairs: dict[str, dict[str, list[int]]] = {}
    for key, info in sorted(header.items()):
        match = _LORA_KEY.fullmatch(key[len(PEFT_PREFIX) :]) if key.startswith(PEFT_PREFIX) else None
        if not match:
            report.error(
                key,
                f"not a LoRA weight the grader loads (expected {PEFT_PREFIX}<module>.lora_A|lora_B.weight)",
            )
            continue
        if info["dtype"] not in _DTYPE_BYTES:
            report.error(key, f"dtype {info['dtype']} (the grader expects bf16, fp16 or fp32)")
        pairs.setdefault(match.group("module"), {})[match.group("which")] = info["shape"]
    if not header:
        report.error(WEIGHTS_NAME, "holds no tensors")
    targets = config.get("target_modules")
    for module, parts in pairs.items():
        lookup = arch.lookup(module)
        if lookup.shape is None:
            report.error(module, lookup.problem)
            continue
        for missing in {"lora_A", "lora_B"} - parts.keys():
            report.error(module, f"{missing}.weight is missing (LoRA needs both A and B)")
        r = _rank_for(module, rank_pattern, rank)
        out_features, in_features = lookup.shape
        expected = {"lora_A": [r, in_features], "lora_B": [out_features, r]}
        for which, shape in parts.items():
            if list(shape) != expected[which]:
                report.error(
                    f"{module}.{which}.weight",
                    f"shape {list(shape)}, expected {expected[which]} (module is {out_features}x{in_features}, rank {r})",
                )
        if targets and not _targeted(module, targets):
            report.warn(module, "has weights but is not matched by target_modules; PEFT would not load them")
        kind = re.sub(r"^backbone\.layers\.\d+\.mixer\.|(?<=experts)\.\d+", "", module)
        report.modules_by_kind[kind] = report.modules_by_kind.get(kind, 0) + 1
    report.tensors = len(header)


def _check_config(config: dict, arch: Architecture | ModuleTable, report: CheckReport) -> int | None:
    where = CONFIG_NAME
    if config.get("peft_type", "LORA") != "LORA":
        report.error(where, f"peft_type is {config.get('peft_type')!r}; the grader loads LoRA adapters only")
    rank = config.get("r")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        report.error(where, f"'r' must be a positive integer, got {rank!r}")
        rank = None
    elif rank > MAX_LORA_RANK:
        report.error(where, f"rank r={rank} exceeds the grader's max_lora_rank={MAX_LORA_RANK}")
    for module, r in (config.get("rank_pattern") or {}).items():
        if not isinstance(r, int) or not 1 <= r <= MAX_LORA_RANK:
            report.error(where, f"rank_pattern[{module!r}]={r!r} must be an integer in 1..{MAX_LORA_RANK}")
    alpha = config.get("lora_alpha")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or alpha <= 0:
        report.error(where, f"'lora_alpha' must be a positive number, got {alpha!r}")
    report.rank, report.alpha = rank, alpha if isinstance(alpha, int | float) else None
    if not config.get("target_modules"):
        report.error(where, "'target_modules' is empty")
    if config.get("target_parameters"):
        report.error(
            where,
            "uses target_parameters (fused experts, transformers-native layout); vLLM would drop the expert "
            "weights: pack with `reasonlab submit pack`, which converts to one LoRA per expert",
        )
    if config.get("use_dora"):
        report.error(where, "DoRA (use_dora) is not supported by the grader's vLLM")
    if config.get("modules_to_save"):
        report.error(where, f"modules_to_save={config['modules_to_save']} is not supported by vLLM LoRA")
    if config.get("bias", "none") != "none" or config.get("lora_bias"):
        report.warn(where, "trains biases; vLLM LoRA ignores them")
    base = config.get("base_model_name_or_path")
    short = arch.name.rsplit("/", 1)[-1].lower()
    if not base:
        report.warn(where, f"base_model_name_or_path is empty (expected {arch.name})")
    elif short not in str(base).lower() and str(base).lower() not in short:
        report.warn(where, f"base_model_name_or_path is {base!r}, not {arch.name}")
    return rank


def _rank_for(module: str, rank_pattern: dict, rank: int) -> int:
    for pattern, r in rank_pattern.items():
        if re.fullmatch(rf"(.*\.)?{pattern}", module):
            return r
    return rank


def _targeted(module: str, targets) -> bool:
    """PEFT's matching: a string is a full-match regex, a list matches a name or a dotted suffix."""
    if isinstance(targets, str):
        return re.fullmatch(targets, module) is not None
    return any(module == t or module.endswith("." + t) for t in targets)


def _read_config(raw: bytes, report: CheckReport) -> dict | None:
    try:
        config = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.error(CONFIG_NAME, f"not valid JSON ({exc})")
        return None
    if not isinstance(config, dict):
        report.error(CONFIG_NAME, "must hold a JSON object")
        return None
    return config


def _read_safetensors_header(raw: bytes, report: CheckReport) -> dict[str, dict] | None:
    """Parse and validate the safetensors header: every tensor's bytes lie inside the file and fit its shape."""
    if len(raw) < 8:
        report.error(WEIGHTS_NAME, "too short to be a safetensors file")
        return None
    (size,) = struct.unpack("<Q", raw[:8])
    if size > len(raw) - 8:
        report.error(
            WEIGHTS_NAME, f"header length {size} runs past the end of the file: not a safetensors file"
        )
        return None
    try:
        header = json.loads(raw[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.error(WEIGHTS_NAME, f"unreadable safetensors header ({exc})")
        return None
    header.pop("__metadata__", None)
    data_size = len(raw) - 8 - size
    tensors, spans = {}, {}
    for key, info in header.items():
        try:
            begin, end = info["data_offsets"]
            shape = [int(d) for d in info["shape"]]
            dtype = str(info["dtype"])
        except (KeyError, TypeError, ValueError):
            report.error(key, "malformed safetensors entry")
            continue
        count = 1
        for d in shape:
            count *= d
        if not 0 <= begin <= end <= data_size:
            report.error(
                key,
                f"data offsets {begin}..{end} outside the file's {data_size} data bytes (truncated file?)",
            )
        elif dtype in _DTYPE_BYTES and end - begin != count * _DTYPE_BYTES[dtype]:
            report.error(key, f"{end - begin} bytes for shape {shape} of {dtype}")
        else:
            spans[key] = (begin, end)
        tensors[key] = {"dtype": dtype, "shape": shape}
    start = 8 + size
    lora_b = [span for key, span in spans.items() if key.endswith(".lora_B.weight")]
    if lora_b and not any(raw[start + begin : start + end].strip(b"\x00") for begin, end in lora_b):
        report.warn(WEIGHTS_NAME, "every lora_B is zero: the adapter changes nothing (untrained?)")
    return tensors
