"""Would the grader load this submission.zip? Every problem found, each with where it is and what to do.

The grader unzips the file, expects ``adapter_config.json`` and ``adapter_model.safetensors`` at the root, and
loads them with vLLM (``max_lora_rank=32``) onto Nemotron-3-Nano-30B-A3B. The check reads the safetensors
header itself (no torch, no model), so it runs offline in a second on any machine. It never raises on a
hostile file: sizes are checked against the zip's declared ones before anything is inflated (a zip bomb is
refused unread), members are streamed a chunk at a time, and corrupt, encrypted or malformed members are
findings like any other.
"""

from __future__ import annotations

import json
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from reasonlab.grader import MAX_LORA_RANK
from reasonlab.submission.architecture import PEFT_PREFIX, Architecture, ModuleTable, competition_architecture

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
_LORA_KEY = re.compile(r"(?P<module>.+)\.(?P<which>lora_A|lora_B)\.weight")
_DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4}
# (element as unsigned bits, exponent mask): an all-ones exponent is NaN or infinity.
_EXPONENT_BITS = {"BF16": ("<u2", 0x7F80), "F16": ("<u2", 0x7C00), "F32": ("<u4", 0x7F800000)}

# Bounds on what the check reads, taken from the zip's own header before any byte is inflated.
MAX_CONFIG_BYTES = 1 << 20
MAX_HEADER_BYTES = 100 << 20  # safetensors' own limit
MAX_WEIGHTS_BYTES = 64 << 30  # far above a rank-32 adapter of the competition's model
MAX_COMPRESSION_RATIO = 100  # LoRA weights barely compress; deflate at most ~1000:1; a bomb far more
READ_CHUNK = 1 << 20


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
        config = _read_member(archive, CONFIG_NAME, report, _read_config)
        header = _read_member(archive, WEIGHTS_NAME, report, _scan_safetensors)
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
    for key in _non_finite_keys(config):
        report.error(where, f"{key} is not a finite number")
    alpha = config.get("lora_alpha")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or not 0 < alpha < math.inf:
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


def _non_finite_keys(value, where: str = "") -> list[str]:
    """Where a JSON value holds NaN or +-Infinity (Python's json reads them; the grader's loaders choke)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [where or "value"]
    if isinstance(value, dict):
        return [
            k for key, v in value.items() for k in _non_finite_keys(v, f"{where}.{key}" if where else key)
        ]
    if isinstance(value, list):
        return [k for i, v in enumerate(value) for k in _non_finite_keys(v, f"{where}[{i}]")]
    return []


def _read_member(archive: zipfile.ZipFile, name: str, report: CheckReport, read):
    """``read(stream, declared size, report)`` on one member, after refusing what the zip's own header
    says cannot be read safely (encrypted, too large, a zip bomb); None when the member is unusable."""
    info = archive.getinfo(name)
    limit = MAX_CONFIG_BYTES if name == CONFIG_NAME else MAX_WEIGHTS_BYTES
    if info.flag_bits & 0x1:
        report.error(name, "is encrypted; the grader cannot read it")
        return None
    if info.file_size > limit:
        report.error(name, f"declares {info.file_size} bytes, more than the {limit} a {name} can need")
        return None
    if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1) and info.file_size > READ_CHUNK:
        report.error(
            name,
            f"declares {info.file_size} bytes compressed into {info.compress_size}: a zip bomb, refused "
            "without inflating it",
        )
        return None
    try:
        with archive.open(info) as stream:
            result = read(stream, info.file_size, report)
            while stream.read(READ_CHUNK):  # to the end, where zipfile checks the CRC
                pass
    except zipfile.BadZipFile as exc:  # a bad CRC, a truncated member
        report.error(name, f"is corrupt ({exc})")
        return None
    except (OSError, EOFError, RuntimeError, NotImplementedError, zlib.error) as exc:
        report.error(name, f"cannot be read ({type(exc).__name__}: {exc})")
        return None
    return result


def _read_config(stream, size: int, report: CheckReport) -> dict | None:
    raw = stream.read(size)
    try:
        config = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.error(CONFIG_NAME, f"not valid JSON ({exc})")
        return None
    if not isinstance(config, dict):
        report.error(CONFIG_NAME, "must hold a JSON object")
        return None
    return config


def _entry(info) -> tuple[int, int, list[int], str] | None:
    """(begin, end, shape, dtype) of a well-formed safetensors header entry, else None."""
    if not isinstance(info, dict):
        return None
    offsets, shape, dtype = info.get("data_offsets"), info.get("shape"), info.get("dtype")
    numbers = [*offsets, *shape] if isinstance(offsets, list) and isinstance(shape, list) else None
    if (
        numbers is None
        or len(offsets) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers)
        or not isinstance(dtype, str)
    ):
        return None
    return offsets[0], offsets[1], shape, dtype


def _scan_safetensors(stream, size: int, report: CheckReport) -> dict[str, dict] | None:
    """Validate a safetensors stream: a well-formed header whose tensors lie inside the file and fit their
    shapes, with finite values. Reads the data once, a chunk at a time, so memory stays bounded."""
    prefix = stream.read(8)
    if len(prefix) < 8:
        report.error(WEIGHTS_NAME, "too short to be a safetensors file")
        return None
    (header_size,) = struct.unpack("<Q", prefix)
    if header_size > min(size - 8, MAX_HEADER_BYTES):
        report.error(
            WEIGHTS_NAME, f"header length {header_size} runs past the end of the file or any sane size"
        )
        return None
    try:
        header = json.loads(stream.read(header_size))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.error(WEIGHTS_NAME, f"unreadable safetensors header ({exc})")
        return None
    if not isinstance(header, dict):
        report.error(WEIGHTS_NAME, "the safetensors header must be a JSON object")
        return None
    header.pop("__metadata__", None)
    data_size = size - 8 - header_size
    tensors, spans = {}, []
    for key, info in header.items():
        entry = _entry(info)
        if entry is None:
            report.error(key, "malformed safetensors entry (needs dtype, shape and two data offsets)")
            continue
        begin, end, shape, dtype = entry
        if not begin <= end <= data_size:
            report.error(
                key,
                f"data offsets {begin}..{end} outside the file's {data_size} data bytes (truncated file?)",
            )
        elif dtype in _DTYPE_BYTES and end - begin != math.prod(shape) * _DTYPE_BYTES[dtype]:
            report.error(key, f"{end - begin} bytes for shape {shape} of {dtype}")
        else:
            spans.append((begin, end, key, dtype))
        tensors[key] = {"dtype": dtype, "shape": shape}
    _scan_values(stream, sorted(spans), report)
    return tensors


def _scan_values(stream, spans: list[tuple[int, int, str, str]], report: CheckReport) -> None:
    """One pass over the tensors' bytes: NaN or infinite weights are errors, an all-zero lora_B a warning."""
    import numpy as np

    position, any_lora_b, lora_b_nonzero = 0, False, False
    for begin, end, key, dtype in spans:
        if begin < position:
            report.error(key, "overlaps the tensor before it")
            continue
        _skip(stream, begin - position)
        position, non_finite = end, False
        exponent = _EXPONENT_BITS.get(dtype)
        is_lora_b = key.endswith(".lora_B.weight")
        any_lora_b |= is_lora_b
        remaining = end - begin
        while remaining:
            chunk = stream.read(min(READ_CHUNK, remaining))
            if not chunk:
                raise EOFError(f"the data of {key} ends early")
            remaining -= len(chunk)
            if exponent is not None and not non_finite:
                bits = np.frombuffer(chunk, dtype=exponent[0])
                non_finite = bool(np.any((bits & exponent[1]) == exponent[1]))
            if is_lora_b and not lora_b_nonzero:
                lora_b_nonzero = bool(chunk.strip(b"\x00"))
        if non_finite:
            report.error(key, "holds NaN or infinite values (a diverged training run?)")
    if any_lora_b and not lora_b_nonzero:
        report.warn(WEIGHTS_NAME, "every lora_B is zero: the adapter changes nothing (untrained?)")


def _skip(stream, count: int) -> None:
    while count > 0:
        skipped = len(stream.read(min(READ_CHUNK, count)))
        if not skipped:
            raise EOFError("the tensor data ends early")
        count -= skipped
