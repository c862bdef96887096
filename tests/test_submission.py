"""Submission packing, layout conversion and the offline check, on a tiny native Nemotron-H and the real
architecture's shapes."""

from __future__ import annotations

import json
import zipfile

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

from safetensors.torch import save_file  # noqa: E402
from transformers import NemotronHConfig, NemotronHForCausalLM  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from reasonlab.cli.main import app  # noqa: E402
from reasonlab.submission.architecture import Architecture, competition_architecture  # noqa: E402
from reasonlab.submission.check import check_submission  # noqa: E402
from reasonlab.submission.layout import Adapter, to_grader_layout, to_native_layout  # noqa: E402
from reasonlab.submission.pack import PackError, pack_adapter, read_adapter  # noqa: E402
from reasonlab.training.live_lora import wrap_lora  # noqa: E402
from reasonlab.training.targets import TargetError, check_rank, resolve_targets  # noqa: E402

TINY = dict(
    vocab_size=64,
    hidden_size=24,
    num_hidden_layers=4,
    hybrid_override_pattern="ME*E",
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=6,
    mamba_num_heads=4,
    mamba_head_dim=6,
    n_groups=2,
    ssm_state_size=4,
    n_routed_experts=4,
    num_experts_per_tok=2,
    moe_intermediate_size=16,
    moe_shared_expert_intermediate_size=20,
    intermediate_size=16,
    chunk_size=8,
)


def tiny_model():
    torch.manual_seed(0)
    return NemotronHForCausalLM(NemotronHConfig(**TINY))


def tiny_architecture() -> Architecture:
    return Architecture.from_config(NemotronHConfig(**TINY).to_dict(), name="tiny-nemotron-h")


def trained_native_adapter(tmp_path, preset="all"):
    """A native-layout adapter with random (non-zero) A and B, as if trained."""
    targets = resolve_targets(preset)
    model = wrap_lora(
        tiny_model(),
        peft.LoraConfig(
            r=2,
            lora_alpha=4,
            target_modules=targets.target_modules,
            target_parameters=targets.target_parameters,
        ),
    )
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.normal_(0, 0.1)
    model.save_pretrained(tmp_path / "adapter", save_embedding_layers=False)
    return model, tmp_path / "adapter"


def test_shipped_architecture_is_nemotron_3_nano():
    arch = competition_architecture()
    assert len(arch.layer_kinds) == 52
    assert (arch.layer_kinds.count("M"), arch.layer_kinds.count("E"), arch.layer_kinds.count("*")) == (
        23,
        23,
        6,
    )
    assert arch.hidden_size == 2688 and arch.n_routed_experts == 128
    assert arch.lookup("backbone.layers.0.mixer.in_proj").shape == (4096 + 4096 + 2 * 8 * 128 + 64, 2688)
    assert arch.lookup("backbone.layers.1.mixer.experts.127.up_proj").shape == (1856, 2688)
    assert arch.lookup("backbone.layers.1.mixer.shared_experts.down_proj").shape == (2688, 3712)
    assert arch.lookup("backbone.layers.5.mixer.k_proj").shape == (256, 2688)
    assert arch.lookup("backbone.layers.1.mixer.experts.128.up_proj").shape is None
    assert "conv1d" in arch.lookup("backbone.layers.0.mixer.conv1d").problem
    assert arch.lookup("backbone.layers.0.mixer.q_proj").shape is None  # layer 0 is Mamba


def test_tiny_architecture_matches_the_real_modules():
    arch, model = tiny_architecture(), tiny_model()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            grader_name = name.replace("model.", "backbone.", 1) if name.startswith("model.") else name
            assert arch.lookup(grader_name).shape == tuple(module.weight.shape), name
    experts = model.model.layers[1].mixer.experts
    assert arch.lookup("backbone.layers.1.mixer.experts.0.up_proj").shape == tuple(experts.up_proj.shape[1:])


def test_native_presets_adapt_mamba_out_proj_which_peft_alone_refuses():
    targets = resolve_targets("competition")
    assert "out_proj" in targets.target_modules
    assert targets.target_parameters == ["experts.up_proj", "experts.down_proj"]
    lora = peft.LoraConfig(r=2, target_modules=["in_proj", "out_proj"])
    with pytest.raises(ValueError, match="out_proj"):
        peft.get_peft_model(tiny_model(), lora)
    with pytest.raises(ValueError, match="conv1d"):
        wrap_lora(tiny_model(), peft.LoraConfig(r=2, target_modules=["conv1d"]))
    assert "out_proj" in resolve_targets("competition", layout="per-expert").target_modules
    with pytest.raises(TargetError, match="max_lora_rank"):
        check_rank(64, competition=True)
    check_rank(64, competition=False)


def test_layout_round_trip_is_exact(tmp_path):
    _, adapter_dir = trained_native_adapter(tmp_path)
    native = read_adapter(adapter_dir)
    grader = to_grader_layout(native, num_experts=4)
    assert "base_model.model.backbone.layers.1.mixer.experts.3.down_proj.lora_B.weight" in grader.tensors
    assert not any(".model.layers." in k for k in grader.tensors)
    back = to_native_layout(grader, num_experts=4)
    assert back.tensors.keys() == native.tensors.keys()
    for key, value in native.tensors.items():
        assert torch.equal(back.tensors[key], value), key
    assert back.config["target_parameters"] == ["experts.up_proj", "experts.down_proj"]


def test_converted_adapter_gives_the_same_weight_update(tmp_path):
    model, adapter_dir = trained_native_adapter(tmp_path)
    grader = to_grader_layout(read_adapter(adapter_dir), num_experts=4)
    base = {n: p.detach().clone() for n, p in tiny_model().named_parameters()}
    merged = dict(model.merge_and_unload().named_parameters())
    scaling = 4 / 2
    for layer in (1, 3):
        for proj in ("up_proj", "down_proj"):
            fused = f"model.layers.{layer}.mixer.experts.{proj}"
            for e in range(4):
                key = f"base_model.model.backbone.layers.{layer}.mixer.experts.{e}.{proj}"
                delta = (
                    scaling * grader.tensors[f"{key}.lora_B.weight"] @ grader.tensors[f"{key}.lora_A.weight"]
                )
                torch.testing.assert_close(
                    base[fused][e] + delta, merged[fused][e].detach(), rtol=1e-5, atol=1e-6
                )
    key = "base_model.model.backbone.layers.2.mixer.q_proj"
    delta = scaling * grader.tensors[f"{key}.lora_B.weight"] @ grader.tensors[f"{key}.lora_A.weight"]
    q = "model.layers.2.mixer.q_proj.weight"
    torch.testing.assert_close(base[q] + delta, merged[q].detach(), rtol=1e-5, atol=1e-6)


def test_pack_converts_and_check_accepts(tmp_path):
    _, adapter_dir = trained_native_adapter(tmp_path)
    result = pack_adapter(adapter_dir, tmp_path / "submission.zip", tiny_architecture())
    assert result.converted and result.report.ok, result.report.findings
    with zipfile.ZipFile(tmp_path / "submission.zip") as archive:
        assert sorted(archive.namelist()) == ["adapter_config.json", "adapter_model.safetensors"]
        config = json.loads(archive.read("adapter_config.json"))
    assert config["base_model_name_or_path"] == "tiny-nemotron-h" and "target_parameters" not in config
    assert result.report.modules_by_kind["experts.up_proj"] == 2 * 4
    # The same zip is not an adapter for the real model: every shape is wrong.
    real = check_submission(tmp_path / "submission.zip")
    assert not real.ok and any("shape" in f.message for f in real.errors)


# --- failure cases, each against the real architecture ---------------------------------------------------------


def real_adapter(
    rank=2, modules=("backbone.layers.5.mixer.q_proj", "backbone.layers.1.mixer.experts.7.up_proj")
):
    arch = competition_architecture()
    tensors = {}
    for module in modules:
        out_features, in_features = arch.lookup(module).shape or (8, 8)
        tensors[f"base_model.model.{module}.lora_A.weight"] = torch.randn(
            rank, in_features, dtype=torch.bfloat16
        )
        tensors[f"base_model.model.{module}.lora_B.weight"] = torch.randn(
            out_features, rank, dtype=torch.bfloat16
        )
    config = {
        "peft_type": "LORA",
        "r": rank,
        "lora_alpha": 16,
        "target_modules": r".*\.(q_proj|up_proj)",
        "base_model_name_or_path": "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
    }
    return Adapter(config, tensors)


def write_zip(
    tmp_path, adapter: Adapter, names=("adapter_config.json", "adapter_model.safetensors"), extra=()
):
    save_file(adapter.tensors, tmp_path / "w.safetensors")
    path = tmp_path / "submission.zip"
    with zipfile.ZipFile(path, "w") as archive:
        if names[0]:
            archive.writestr(names[0], json.dumps(adapter.config))
        archive.write(tmp_path / "w.safetensors", names[1])
        for name, data in extra:
            archive.writestr(name, data)
    return path


def only_errors(path):
    return [str(f) for f in check_submission(path).errors]


def test_a_well_formed_real_submission_passes(tmp_path):
    report = check_submission(write_zip(tmp_path, real_adapter()))
    assert report.ok, report.findings
    assert report.rank == 2 and report.tensors == 4


def test_an_untrained_adapter_is_flagged(tmp_path):
    adapter = real_adapter()
    for key in adapter.tensors:
        if ".lora_B." in key:
            adapter.tensors[key].zero_()
    report = check_submission(write_zip(tmp_path, adapter))
    assert report.ok and any("every lora_B is zero" in f.message for f in report.findings)


def test_nested_folder_fails(tmp_path):
    path = write_zip(
        tmp_path, real_adapter(), names=("out/adapter_config.json", "out/adapter_model.safetensors")
    )
    errors = only_errors(path)
    assert any("zip root" in e and "out/adapter_config.json" in e for e in errors)


def test_zip_inside_zip_fails(tmp_path):
    inner = write_zip(tmp_path, real_adapter()).read_bytes()
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("submission.zip", inner)
    errors = [str(f) for f in check_submission(path).errors]
    assert any("zip inside the zip" in e for e in errors)


def test_rank_64_fails(tmp_path):
    errors = only_errors(write_zip(tmp_path, real_adapter(rank=64)))
    assert any("r=64 exceeds the grader's max_lora_rank=32" in e for e in errors)


def test_unknown_module_fails(tmp_path):
    adapter = real_adapter(modules=("backbone.layers.5.mixer.q_proj", "backbone.layers.5.mixer.gate_proj"))
    errors = only_errors(write_zip(tmp_path, adapter))
    assert any("backbone.layers.5.mixer.gate_proj" in e and "no 'gate_proj'" in e for e in errors)
    conv = real_adapter(modules=("backbone.layers.0.mixer.conv1d",))
    assert any("conv1d" in e for e in only_errors(write_zip(tmp_path, conv)))


def test_shape_mismatch_fails(tmp_path):
    adapter = real_adapter()
    key = "base_model.model.backbone.layers.5.mixer.q_proj.lora_B.weight"
    adapter.tensors[key] = torch.zeros(256, 2, dtype=torch.bfloat16)  # k_proj's width, not q_proj's
    errors = only_errors(write_zip(tmp_path, adapter))
    assert any("q_proj.lora_B.weight" in e and "expected [4096, 2]" in e for e in errors)


def test_missing_config_fails(tmp_path):
    errors = only_errors(write_zip(tmp_path, real_adapter(), names=(None, "adapter_model.safetensors")))
    assert any("adapter_config.json: missing at the zip root" in e for e in errors)


def test_native_layout_and_truncated_weights_fail(tmp_path):
    adapter = real_adapter(modules=("model.layers.5.mixer.q_proj",))
    assert any("native transformers layout" in e for e in only_errors(write_zip(tmp_path, adapter)))
    path = write_zip(tmp_path, real_adapter())
    data = zipfile.ZipFile(path).read("adapter_model.safetensors")
    cut = tmp_path / "cut.zip"
    with zipfile.ZipFile(cut, "w") as archive:
        archive.writestr("adapter_config.json", json.dumps(real_adapter().config))
        archive.writestr("adapter_model.safetensors", data[: len(data) // 2])
    assert any("outside the file" in e for e in only_errors(cut))


def test_cli_check_exit_codes(tmp_path):
    runner = CliRunner()
    good = write_zip(tmp_path, real_adapter())
    assert runner.invoke(app, ["submit", "check", str(good)]).exit_code == 0
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = write_zip(bad_dir, real_adapter(rank=64))
    result = runner.invoke(app, ["submit", "check", str(bad)])
    assert result.exit_code == 1


def test_pack_refuses_an_adapter_that_would_not_load(tmp_path):
    adapter_dir = tmp_path / "adapter"
    adapter_dir.mkdir()
    adapter = real_adapter(rank=64)
    (adapter_dir / "adapter_config.json").write_text(json.dumps(adapter.config))
    save_file(adapter.tensors, adapter_dir / "adapter_model.safetensors")
    with pytest.raises(PackError) as caught:
        pack_adapter(adapter_dir, tmp_path / "submission.zip")
    assert caught.value.report is not None and not caught.value.report.ok
    assert not (tmp_path / "submission.zip").exists()
