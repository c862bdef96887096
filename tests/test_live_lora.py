"""LoRA targets that train on the tiny Nemotron-H: lm_head through the SFT loss, a live Mamba out_proj on the
torch path and on the fused kernel's unfused branch, the alive check, and what the grader cannot load."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from safetensors.torch import load_file  # noqa: E402
from transformers import TrainerCallback  # noqa: E402
from transformers.models.nemotron_h import modeling_nemotron_h  # noqa: E402

from reasonlab.prompting import grader_messages  # noqa: E402
from reasonlab.submission.architecture import Architecture  # noqa: E402
from reasonlab.submission.pack import pack_adapter  # noqa: E402
from reasonlab.training.config import LoraSpec, SFTConfig  # noqa: E402
from reasonlab.training.live_lora import (  # noqa: E402
    DeadTargetError,
    check_alive,
    load_lora,
    lora_gradient_norms,
    make_out_proj_live,
    wrap_lora,
)
from reasonlab.training.modeling import load_model, lora_config  # noqa: E402
from reasonlab.training.targets import TargetError  # noqa: E402

QUIET = {"mlflow": False, "rich_progress": False}


@pytest.fixture(scope="module")
def sft_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "sft.jsonl"
    with path.open("w") as handle:
        for n in range(20):
            reply = f"<think>\nthe number is {n}\n</think>\n\\boxed{{{n}}}"
            messages = grader_messages(f"Write {n}.") + [{"role": "assistant", "content": reply}]
            handle.write(json.dumps({"messages": messages}) + "\n")
    return path


def config(tmp_path, sft_file, targets, steps=5) -> SFTConfig:
    return SFTConfig.model_validate(
        {
            "output_root": str(tmp_path),
            "data": {"train": [str(sft_file)]},
            "lora": {"r": 4, "alpha": 8, "targets": targets},
            "tracking": QUIET,
            "train": {"max_steps": steps, "batch_size": 4, "learning_rate": 1e-2, "logging_steps": 1}
            | {"max_length": 96, "save_steps": 100, "warmup_ratio": 0.0},
        }
    )


class InitialLora(TrainerCallback):
    """Copies every LoRA weight as training starts."""

    def __init__(self):
        self.weights = {}

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.weights = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}


def tiny_architecture(model) -> Architecture:
    return Architecture.from_config(model.config.to_dict(), name="tiny-nemotron-h")


def fake_fused_kernel(calls):
    """Stands in for mamba_ssm's combined kernel: like the real one, it applies the out-projection itself
    when given its weight, and leaves it to the caller otherwise."""

    def kernel(zxbcdt, *args, outproj_weight=None, outproj_bias=None, **kwargs):
        calls.append(outproj_weight)
        width = kwargs["rmsnorm_weight"].shape[0]  # the Mamba intermediate size
        pre_projection = torch.tanh(zxbcdt[..., :width])
        if outproj_weight is None:
            return pre_projection
        return torch.nn.functional.linear(pre_projection, outproj_weight, outproj_bias)

    return kernel


def test_lm_head_and_out_proj_train_pack_and_merge_like_peft(tmp_path, sft_file):
    from reasonlab.training.sft import run_sft

    initial = InitialLora()
    result = run_sft(config(tmp_path, sft_file, ["mamba", "lm_head"]), tmp_path / "run", callbacks=[initial])
    saved = load_file(result.output / "adapter_model.safetensors")
    for module in ("base_model.model.lm_head", "base_model.model.model.layers.0.mixer.out_proj"):
        for which in ("lora_A", "lora_B"):
            before = initial.weights[f"{module}.{which}.default.weight"]
            after = saved[f"{module}.{which}.weight"]
            assert not torch.equal(before, after), f"{module}.{which} did not change in 5 steps"
    norms = json.loads((tmp_path / "run" / "train_metrics.json").read_text())["first_step_lora_grad_norms"]
    assert norms["base_model.model.lm_head"] > 0
    assert norms["base_model.model.model.layers.0.mixer.out_proj"] > 0

    base, _, _ = load_model(result_model_spec())
    packed = pack_adapter(result.output, tmp_path / "submission.zip", tiny_architecture(base))
    assert packed.report.ok, packed.report.findings
    assert packed.report.modules_by_kind == {"in_proj": 1, "out_proj": 1, "lm_head": 1}

    import zipfile

    with zipfile.ZipFile(tmp_path / "submission.zip") as archive:
        archive.extractall(tmp_path / "zip")
    grader = load_file(tmp_path / "zip" / "adapter_model.safetensors")
    scaling = 8 / 4
    base_weights = {n: p.detach().clone() for n, p in base.named_parameters()}
    merged = dict(load_lora(base, result.output).merge_and_unload().named_parameters())
    for grader_module, native_weight in (
        ("lm_head", "lm_head.weight"),
        ("backbone.layers.0.mixer.out_proj", "model.layers.0.mixer.out_proj.weight"),
    ):
        key = f"base_model.model.{grader_module}"
        delta = scaling * grader[f"{key}.lora_B.weight"] @ grader[f"{key}.lora_A.weight"]
        torch.testing.assert_close(base_weights[native_weight] + delta, merged[native_weight].detach())


def result_model_spec():
    return SFTConfig.model_fields["model"].default


def test_out_proj_is_live_on_the_fused_kernel_path_and_dead_without(monkeypatch):
    calls = []
    monkeypatch.setattr(modeling_nemotron_h, "mamba2_split_conv1d_scan_combined", fake_fused_kernel(calls))
    spec = LoraSpec(r=4, alpha=8, targets=["mamba"])

    def out_proj_grad_norm(live: bool) -> float | None:
        model, tokenizer, _ = load_model(result_model_spec())
        wrapped = wrap_lora(model, lora_config(spec, model))
        if not live:  # undo it: the kernel then applies out_proj.weight itself, bypassing the LoRA
            mixer = wrapped.base_model.model.model.layers[0].mixer
            del mixer.forward
        wrapped.train()
        ids = tokenizer("the number is 12", return_tensors="pt").input_ids
        wrapped(input_ids=ids, labels=ids, use_cache=False).loss.backward()
        norms = lora_gradient_norms(wrapped)
        if live:
            check_alive(norms)
        else:
            with pytest.raises(DeadTargetError, match="out_proj"):
                check_alive(norms)
        return norms["base_model.model.model.layers.0.mixer.out_proj"]

    assert out_proj_grad_norm(live=True) > 0
    assert calls and all(weight is None for weight in calls)  # the unfused branch
    calls.clear()
    assert out_proj_grad_norm(live=False) is None
    assert calls and all(weight is not None for weight in calls)


def test_live_out_proj_keeps_the_torch_path_outputs():
    model, tokenizer, _ = load_model(result_model_spec())
    ids = tokenizer("the number is 12", return_tensors="pt").input_ids
    wrapped = wrap_lora(model, lora_config(LoraSpec(r=4, alpha=8, targets=["mamba"]), model))
    mixer = wrapped.base_model.model.model.layers[0].mixer
    with torch.no_grad():
        for name, param in wrapped.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.1)
        for training in (True, False):
            wrapped.train(training)
            live = wrapped(input_ids=ids).logits
            del mixer.forward  # the class's own forward calls out_proj as a module on the torch path
            plain = wrapped(input_ids=ids).logits
            assert make_out_proj_live(wrapped) == 1
            torch.testing.assert_close(live, plain)


def test_training_stops_on_a_dead_target(tmp_path, sft_file, monkeypatch):
    from reasonlab.training import live_lora
    from reasonlab.training.sft import run_sft

    monkeypatch.setattr(modeling_nemotron_h, "mamba2_split_conv1d_scan_combined", fake_fused_kernel([]))
    monkeypatch.setattr(live_lora, "make_out_proj_live", lambda model: 0)
    with pytest.raises(DeadTargetError, match=r"layers\.0\.mixer\.out_proj"):
        run_sft(config(tmp_path, sft_file, ["mamba"], steps=2), tmp_path / "dead")


def test_refuses_what_the_grader_cannot_load():
    model, _, _ = load_model(result_model_spec())
    with pytest.raises(ValueError, match="DoRA"):
        LoraSpec(use_dora=True)
    assert LoraSpec(use_dora=True, competition=False).use_dora
    with pytest.raises(TargetError, match="conv1d"):
        lora_config(LoraSpec(targets=["conv1d"]), model)
    with pytest.raises(TargetError, match="router"):
        lora_config(LoraSpec(targets=["gate"]), model)
    with pytest.raises(TargetError, match="no such module"):
        lora_config(LoraSpec(targets=["embeddings"]), model)
    with pytest.raises(ValueError, match="max_lora_rank"):
        LoraSpec(r=64)
    assert lora_config(LoraSpec(targets=["in_proj", "q_proj"]), model) is not None


def test_grpo_refuses_an_lm_head_lora_it_cannot_train(tmp_path):
    from reasonlab.training.config import GRPOConfig
    from reasonlab.training.grpo import run_grpo

    puzzles = tmp_path / "puzzles.jsonl"
    puzzles.write_text(json.dumps({"id": "1", "prompt": "Write 1.", "answer": "1"}) + "\n")
    config = GRPOConfig.model_validate(
        {
            "output_root": str(tmp_path),
            "data": {"train": [str(puzzles)]},
            "lora": {"r": 4, "alpha": 8, "targets": ["attention", "lm_head"]},
            "tracking": QUIET,
        }
    )
    with pytest.raises(TargetError, match="GRPOTrainer"):
        run_grpo(config, tmp_path / "grpo")
