"""reasonlab inspect: parameter counts from the configuration alone, checked against the formulas."""

from __future__ import annotations

import json
import time
from importlib import resources

import pytest

pytest.importorskip("accelerate")

from typer.testing import CliRunner  # noqa: E402

from reasonlab.analysis.inspect import inspect_model  # noqa: E402
from reasonlab.cli.main import app  # noqa: E402


def shipped_config() -> dict:
    return json.loads((resources.files("reasonlab") / "data" / "nemotron-3-nano-30b-a3b.json").read_text())


def formula_counts(c: dict) -> dict[str, int]:
    """Parameters per part written out from the configuration, independently of any model class."""
    h, pattern = c["hidden_size"], c["hybrid_override_pattern"]
    inner = c["mamba_num_heads"] * c["mamba_head_dim"]
    groups_state = 2 * c["n_groups"] * c["ssm_state_size"]
    conv_channels = inner + groups_state
    mamba = (
        h * (2 * inner + groups_state + c["mamba_num_heads"])  # in_proj: z, x, B, C, dt
        + conv_channels * (c["conv_kernel"] + 1)  # depthwise conv weight + bias
        + 3 * c["mamba_num_heads"]  # dt_bias, A_log, D
        + inner  # gated norm
        + inner * h  # out_proj
    )
    q, kv = c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    attention = 2 * h * q + 2 * h * kv
    experts = c["n_routed_experts"]
    return {
        "embeddings": c["vocab_size"] * h,
        "head": c["vocab_size"] * h,
        "mamba": pattern.count("M") * mamba,
        "attention": pattern.count("*") * attention,
        "routed_experts": pattern.count("E") * experts * 2 * h * c["moe_intermediate_size"],
        "shared_expert": pattern.count("E") * 2 * h * c["moe_shared_expert_intermediate_size"],
        "router": pattern.count("E") * experts * h,
        "norms": (len(pattern) + 1) * h,
    }


def test_real_config_counts_match_the_formulas_and_run_fast():
    config = shipped_config()
    # CPU time: on a shared machine the wall clock measures the neighbours; this is what idle cores spend.
    start = time.process_time()
    inspection = inspect_model()
    seconds = time.process_time() - start
    expected = formula_counts(config)
    assert {p.part: p.total for p in inspection.parts} == expected
    assert inspection.total == sum(expected.values())
    routed_active = expected["routed_experts"] * config["num_experts_per_tok"] // config["n_routed_experts"]
    assert inspection.active == inspection.total - expected["routed_experts"] + routed_active
    assert inspection.active_excluding_embeddings == inspection.active - expected["embeddings"]
    # The published figures: ~31.6B total, ~3.5B active, 52 = 23 Mamba + 23 MoE + 6 attention, 128 / 6.
    assert round(inspection.total / 1e9, 1) == 31.6
    assert 3.2e9 < inspection.active < 3.7e9
    assert inspection.layer_counts == {"M": 23, "E": 23, "*": 6}
    assert (inspection.routed_experts, inspection.experts_per_token) == (128, 6)
    assert seconds < 10, f"inspect took {seconds:.1f} s of CPU"


def test_cache_and_memory_follow_the_attention_and_mamba_shapes():
    c = shipped_config()
    inspection = inspect_model(batch=2, context=1000)
    kv = 6 * 2 * c["num_key_value_heads"] * c["head_dim"] * 2  # 6 attention layers, K and V, bf16
    assert inspection.kv_cache_bytes_per_token == kv
    inner = c["mamba_num_heads"] * c["mamba_head_dim"]
    ssm = inner * c["ssm_state_size"] * 4  # float32 SSM state
    conv = (inner + 2 * c["n_groups"] * c["ssm_state_size"]) * (c["conv_kernel"] - 1) * 2
    assert inspection.mamba_state_bytes_per_sequence == 23 * (ssm + conv)
    assert inspection.cache_bytes == 2 * (1000 * kv + 23 * (ssm + conv))
    assert inspection.memory_bytes == inspection.total * 2 + inspection.cache_bytes


def test_lora_sizes_per_preset_on_the_tiny_model():
    inspection = inspect_model("tiny:nemotron-h", rank=4)
    lora = {row.preset: row for row in inspection.lora}
    h, experts, routed, shared = 64, 4, 32, 64
    in_proj_out = 2 * 128 + 2 * 2 * 16 + 8  # z, x, B, C, dt of the tiny Mamba layer
    mamba_in, mamba_out = 4 * (h + in_proj_out), 4 * (128 + h)
    moe = 2 * (4 * experts * 2 * (h + routed) + 4 * 2 * (h + shared))  # two MoE layers
    attention = 4 * (2 * (h + 64) + 2 * (h + 32))
    # The native Mamba out_proj is a live LoRA target (training/live_lora.py), as in the per-expert layout.
    assert lora["competition"].native == lora["competition"].per_expert == mamba_in + mamba_out + moe
    assert lora["competition-attention"].native == mamba_in + mamba_out + moe + attention
    assert lora["all"].native == mamba_in + mamba_out + moe + attention + 4 * (h + 512)
    assert lora["competition"].submission_bytes == 4 * lora["competition"].native


def test_a_saved_config_file_and_the_shipped_file_by_path(tiny_model_dir):
    # A config.json as transformers saves it (infinite floats written as {"__float__": "Infinity"}).
    assert inspect_model(tiny_model_dir / "config.json").total == inspect_model(tiny_model_dir).total
    shipped = resources.files("reasonlab") / "data" / "nemotron-3-nano-30b-a3b.json"
    by_path = inspect_model(str(shipped))
    assert (
        by_path.total == inspect_model().total and by_path.notes
    )  # named, so compared with NVIDIA's figures


def test_cli_prints_tables_and_writes_json(tmp_path):
    out = tmp_path / "inspect.json"
    result = CliRunner().invoke(app, ["inspect", "tiny:nemotron-h", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "routed_experts" in result.stdout and "ME*E" in result.stdout
    figures = json.loads(out.read_text())
    assert figures["total"] == sum(p["total"] for p in figures["parts"])
    printed = CliRunner().invoke(app, ["inspect", "tiny:llama", "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["model_type"] == "llama"
