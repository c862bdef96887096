"""LoRA targets that train: a live Mamba ``out_proj`` on transformers' NemotronH, an lm_head adapter under
TRL's SFT, and a check after the first optimiser step that every adapted module got a gradient.

Mamba ``out_proj``. PEFT refuses to wrap it on Mamba models because the fused training kernel
(``mamba_split_conv1d_scan_combined``) is handed ``out_proj.weight`` and applies it itself, so a LoRA wrapper
around the module would never run. The kernel also has an unfused branch: given no out-projection weight it
returns the gated, normalised scan output and leaves the projection to the caller. :func:`make_out_proj_live`
routes every mixer whose ``out_proj`` carries a LoRA through that branch (and the torch path, which calls the
module anyway) and then calls the wrapped ``out_proj`` as a module, so its LoRA is in the graph on every path.

The alive check turns a silently frozen target (a wrapper the forward never calls, a weight read directly by a
fused kernel) into a clear error at step one instead of a wasted run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import torch
from torch import nn

from reasonlab.training.targets import TargetError


class DeadTargetError(TargetError):
    """A LoRA module received no gradient in the first optimiser step."""


class _PreProjection(nn.Module):
    """Stands in for ``out_proj`` while the mixer runs: the fused kernel sees no out-projection weight (its
    unfused branch), the torch path's final projection is the identity; the real module is applied after."""

    weight = None
    bias = None

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return hidden_states


_PRE_PROJECTION = _PreProjection()


def _is_lora_layer(module: nn.Module) -> bool:
    from peft.tuners.lora import LoraLayer

    return isinstance(module, LoraLayer)


def _mamba_mixers(model: nn.Module) -> Iterator[nn.Module]:
    for module in model.modules():
        if hasattr(module, "A_log") and hasattr(module, "out_proj"):
            yield module


def make_out_proj_live(model: nn.Module) -> int:
    """Make every Mamba mixer whose ``out_proj`` is LoRA-wrapped call it as a module on every path (training
    kernel included). Returns how many mixers were changed; calling it twice changes nothing more."""
    changed = 0
    for mixer in _mamba_mixers(model):
        if not _is_lora_layer(mixer.out_proj) or getattr(mixer.forward, "live_out_proj", False):
            continue
        original = mixer.forward

        def forward(*args, _mixer=mixer, _original=original, **kwargs):
            out_proj = _mixer._modules["out_proj"]
            _mixer._modules["out_proj"] = _PRE_PROJECTION
            try:
                pre_projection = _original(*args, **kwargs)
            finally:
                _mixer._modules["out_proj"] = out_proj
            return out_proj(pre_projection)

        forward.live_out_proj = True
        mixer.forward = forward
        changed += 1
    return changed


@contextlib.contextmanager
def allow_mamba_out_proj():
    """Let PEFT wrap a Mamba ``out_proj`` (its other refusals, such as ``conv1d``, stay). Only safe together
    with :func:`make_out_proj_live`, which :func:`wrap_lora` and :func:`load_lora` apply."""
    from peft.tuners.tuners_utils import BaseTuner

    refuse = BaseTuner._check_target_module_compatiblity

    def check(self, peft_config, model, target_name):
        if target_name != "out_proj":
            refuse(self, peft_config, model, target_name)

    with mock.patch.object(BaseTuner, "_check_target_module_compatiblity", check):
        yield


def wrap_lora(model: nn.Module, peft_config, **kwargs):
    """``peft.get_peft_model`` with a live Mamba ``out_proj`` where the config targets it."""
    from peft import get_peft_model

    with allow_mamba_out_proj():
        wrapped = get_peft_model(model, peft_config, **kwargs)
    make_out_proj_live(wrapped)
    return wrapped


def load_lora(model: nn.Module, adapter: str | Path, is_trainable: bool = False):
    """``PeftModel.from_pretrained`` with a live Mamba ``out_proj`` where the adapter has one."""
    from peft import PeftModel

    with allow_mamba_out_proj():
        wrapped = PeftModel.from_pretrained(model, str(adapter), is_trainable=is_trainable)
    make_out_proj_live(wrapped)
    return wrapped


def adapts_lm_head(model: nn.Module) -> bool:
    get_output = getattr(model, "get_output_embeddings", None)
    return get_output is not None and _is_lora_layer(get_output())


def lora_gradient_norms(model: nn.Module) -> dict[str, float | None]:
    """Gradient norm per LoRA module (its A and B together, every adapter parameter of it); None where no
    parameter of the module received a gradient. Call between backward and the optimiser step."""
    squares: dict[str, float | None] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        marker = next((m for m in (".lora_A.", ".lora_B.") if m in name), None)
        if marker is None:
            continue
        module = name.split(marker)[0]
        squares.setdefault(module, None)
        if param.grad is not None:
            squares[module] = (squares[module] or 0.0) + float(param.grad.detach().float().pow(2).sum())
    return {module: None if s is None else s**0.5 for module, s in squares.items()}


def dead_modules(norms: dict[str, float | None]) -> list[str]:
    """Modules none of whose LoRA parameters received a gradient: the backward never reached them. (A zero
    gradient is not death: a GRPO step whose rewards all tie has one for every module.)"""
    return [module for module, norm in norms.items() if norm is None]


def check_alive(norms: dict[str, float | None]) -> None:
    dead = dead_modules(norms)
    if dead:
        shown = ", ".join(dead[:8]) + (f" and {len(dead) - 8} more" if len(dead) > 8 else "")
        raise DeadTargetError(
            f"{len(dead)} of {len(norms)} LoRA modules got no gradient in the first optimiser step, so they "
            f"would never train: {shown}. The forward does not call them as modules (a fused kernel or loss "
            "reads their weight directly); drop them from lora.targets or route the forward through them"
        )


def alive_check_callback(log_to=None):
    """A TrainerCallback that, before the first optimiser step, records every LoRA module's gradient norm
    (``log_to`` gets the dict) and stops training with :class:`DeadTargetError` if any module is dead."""
    from transformers import TrainerCallback

    class AliveCheck(TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
            if state.global_step != 0 or model is None:
                return
            norms = lora_gradient_norms(model)
            if log_to is not None:
                log_to(norms)
            check_alive(norms)

    return AliveCheck()
