"""Weight quantization for the hf backend: for screening many settings fast, never for final scores
(the grader runs the model in BF16).

Which library quantizes depends on the device, chosen by measurement on each (``benchmarks/bench_inference.py``):

- CPU, int8: torch's dynamic INT8 (``nn.Linear`` weights int8, activations quantized per batch), whose
  fbgemm kernels ran several times faster than fp32 here, while torchao's eager INT8 configs did not;
- CPU, int4: torchao's int4 weight-only config: a quarter of the memory, but slower than fp32 on CPU;
- GPU: torchao's INT8/INT4 weight-only configs, or bitsandbytes (applied at load time) where torchao is absent.

Only ``nn.Linear`` layers are quantized. Nemotron-H's routed experts are fused 3-D parameters, not
Linear layers, so they stay in full precision.
"""

from __future__ import annotations

import importlib.util
import io
import warnings
from typing import Any

QUANTIZATION_METHODS = ("none", "int8", "int4")


class QuantizationError(ValueError):
    pass


def _has(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def load_time_quantization(method: str, device: str) -> dict[str, Any]:
    """``from_pretrained`` arguments for methods applied while loading (bitsandbytes on a GPU without
    torchao); empty for everything quantized after loading."""
    if method == "none" or not device.startswith("cuda") or _has("torchao"):
        return {}
    if not _has("bitsandbytes"):
        raise QuantizationError(
            f"backend.quantization={method} on {device} needs torchao or bitsandbytes: pip install torchao"
        )
    from transformers import BitsAndBytesConfig

    return {
        "quantization_config": BitsAndBytesConfig(
            load_in_8bit=method == "int8", load_in_4bit=method == "int4"
        )
    }


def quantize_model(model, method: str, device: str) -> str:
    """Quantize ``model``'s Linear layers in place; returns what ran, in words, for the run's record."""
    if method not in QUANTIZATION_METHODS:
        raise QuantizationError(
            f"backend.quantization={method!r}: choose one of {', '.join(QUANTIZATION_METHODS)}"
        )
    if method == "none":
        return "none"
    if getattr(model, "is_loaded_in_8bit", False) or getattr(model, "is_loaded_in_4bit", False):
        return f"bitsandbytes {method} (at load time)"
    import torch

    if device == "cpu" and method == "int8":
        with warnings.catch_warnings():  # torch announces a move of its eager quantization to torchao
            warnings.simplefilter("ignore")
            torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        return "torch dynamic int8 (CPU, fbgemm): Linear weights int8, activations quantized per batch"
    if not _has("torchao"):
        raise QuantizationError(
            f"backend.quantization={method} on {device} needs torchao: pip install torchao"
        )
    from torchao.quantization import (
        Int4WeightOnlyConfig,
        Int8WeightOnlyConfig,
        IntxWeightOnlyConfig,
        quantize_,
    )

    if device == "cpu":  # int4 on CPU
        quantize_(model, IntxWeightOnlyConfig(weight_dtype=torch.int4))
        return "torchao int4 weight-only (CPU): Linear weights int4 in groups of 32"
    config = Int8WeightOnlyConfig() if method == "int8" else Int4WeightOnlyConfig(group_size=128)
    quantize_(model, config)
    return f"torchao {method} weight-only ({device})"


def weight_bytes(model) -> int:
    """Bytes of the model's weights as serialized (quantized layers at their packed size)."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()
