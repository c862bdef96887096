"""`submit check` on hostile zips: findings, never a traceback, and never more than a bounded read."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.submission.architecture import competition_architecture
from reasonlab.submission.check import check_submission

MODULE = "backbone.layers.5.mixer.q_proj"
runner = CliRunner()


def safetensors_bytes(tensors: dict[str, np.ndarray], header_override=None) -> bytes:
    header, data, offset = {}, b"", 0
    for key, array in tensors.items():
        raw = array.astype("<f4").tobytes()
        header[key] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        data, offset = data + raw, offset + len(raw)
    text = json.dumps(header if header_override is None else header_override).encode()
    return struct.pack("<Q", len(text)) + text + data


def adapter_tensors(rank: int = 2) -> dict[str, np.ndarray]:
    out_features, in_features = competition_architecture().lookup(MODULE).shape
    rng = np.random.default_rng(0)
    return {
        f"base_model.model.{MODULE}.lora_A.weight": rng.standard_normal((rank, in_features)),
        f"base_model.model.{MODULE}.lora_B.weight": rng.standard_normal((out_features, rank)),
    }


def config(**changes) -> bytes:
    base = {
        "peft_type": "LORA",
        "r": 2,
        "lora_alpha": 16,
        "target_modules": ["q_proj"],
        "base_model_name_or_path": "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
    }
    return json.dumps({**base, **changes}).encode()  # json writes NaN for float("nan")


def write_zip(path: Path, weights: bytes, config_bytes: bytes | None = None, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr("adapter_config.json", config_bytes or config())
        archive.writestr("adapter_model.safetensors", weights)
    return path


def errors(path: Path) -> list[str]:
    return [str(f) for f in check_submission(path).errors]


def assert_cli_fails_cleanly(path: Path) -> None:
    result = runner.invoke(app, ["submit", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_well_formed_zip_passes(tmp_path):
    report = check_submission(write_zip(tmp_path / "s.zip", safetensors_bytes(adapter_tensors())))
    assert report.ok, report.findings


def test_a_bad_crc_is_a_finding(tmp_path):
    path = write_zip(tmp_path / "s.zip", safetensors_bytes(adapter_tensors()))
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"lora_B") + 40_000] ^= 0xFF  # a byte of tensor data; the stored CRC no longer matches
    path.write_bytes(bytes(raw))
    assert any("corrupt" in e and "CRC" in e for e in errors(path))
    assert_cli_fails_cleanly(path)


def test_an_encrypted_member_is_a_finding(tmp_path):
    path = write_zip(tmp_path / "s.zip", safetensors_bytes(adapter_tensors()))
    raw = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            raw[start + flag_at] |= 0x1
            start += 4
    path.write_bytes(bytes(raw))
    assert any("encrypted" in e for e in errors(path))
    assert_cli_fails_cleanly(path)


@pytest.mark.parametrize(
    "header",
    [
        [],  # not an object
        {"x.lora_A.weight": {"dtype": "F32", "shape": [1], "data_offsets": ["a", "b"]}},
        {"x.lora_A.weight": "not an entry"},
        {"x.lora_A.weight": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4, 8]}},
    ],
)
def test_a_malformed_safetensors_header_is_a_finding(tmp_path, header):
    path = write_zip(tmp_path / "s.zip", safetensors_bytes(adapter_tensors(), header_override=header))
    assert errors(path)
    assert_cli_fails_cleanly(path)


def test_a_truncated_zip_is_a_finding(tmp_path):
    path = write_zip(tmp_path / "s.zip", safetensors_bytes(adapter_tensors()))
    path.write_bytes(path.read_bytes()[:-30])  # the central directory is cut
    assert errors(path)
    assert_cli_fails_cleanly(path)


def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path, monkeypatch):
    weights = safetensors_bytes(adapter_tensors()) + bytes(30_000_000)  # compresses ~1000:1
    path = write_zip(tmp_path / "s.zip", weights, compression=zipfile.ZIP_DEFLATED)
    inflated = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = real_read(self, n)
        inflated.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    assert any("zip bomb" in e for e in errors(path))
    assert sum(inflated) < 2_000_000


def test_non_finite_config_values_are_errors(tmp_path):
    weights = safetensors_bytes(adapter_tensors())
    for bad in ({"lora_alpha": float("nan")}, {"lora_alpha": float("inf")}, {"lora_dropout": float("nan")}):
        path = write_zip(tmp_path / "s.zip", weights, config(**bad))
        assert any(next(iter(bad)) in e and "finite" in e for e in errors(path)), bad


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_errors(tmp_path, value):
    tensors = adapter_tensors()
    tensors[f"base_model.model.{MODULE}.lora_B.weight"][3, 1] = value
    found = errors(write_zip(tmp_path / "s.zip", safetensors_bytes(tensors)))
    assert any("lora_B" in e and "NaN or infinite" in e for e in found), found


def test_findings_print_their_brackets_literally(tmp_path):
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("adapter_config.json", config(target_modules=r".*\.[qk]_proj"))
        archive.writestr("adapter_model.safetensors", safetensors_bytes(adapter_tensors()))
        archive.writestr("notes[draft].txt", "x")
    result = runner.invoke(app, ["submit", "check", str(path)])
    assert "notes[draft].txt: extra file" in result.output.replace("\n", "")
