"""What SFT and GRPO share around their TRL trainer: resumable checkpoints (skipping one a kill cut short),
the seeded model with its LoRA applied, the common TrainingArguments, monitoring, the alive check, and
saving what was trained with its metrics."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from reasonlab.training.live_lora import alive_check_callback, load_lora, wrap_lora
from reasonlab.training.modeling import load_model, lora_config, save_adapter_or_model
from reasonlab.training.tracking import attach_monitoring, configure_reporting, quiet_library_progress

CHECKPOINTS, ADAPTER, MODEL = "checkpoints", "adapter", "model"
TRAINER_STATE = "trainer_state.json"
logger = logging.getLogger(__name__)


class TrainingError(RuntimeError):
    pass


@dataclass(frozen=True)
class TrainResult:
    output: Path  # the saved adapter (LoRA) or model (full training)
    is_adapter: bool
    metrics: dict
    log_history: list[dict]


def _is_complete(checkpoint: Path) -> bool:
    """The Trainer writes ``trainer_state.json`` last: a checkpoint without a readable one was cut short
    by a kill while it was being saved."""
    try:
        json.loads((checkpoint / TRAINER_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def last_checkpoint(run_dir: Path) -> str | None:
    """The newest complete checkpoint under ``run_dir``. Incomplete newer ones are renamed
    ``checkpoint-N.incomplete`` (kept for inspection, no longer seen by the Trainer), with a warning."""
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    directory = run_dir / CHECKPOINTS
    if not directory.is_dir():
        return None
    numbered = re.compile(rf"{PREFIX_CHECKPOINT_DIR}-(\d+)")
    steps = {
        int(match.group(1)): path
        for path in directory.iterdir()
        if path.is_dir() and (match := numbered.fullmatch(path.name))
    }
    for step in sorted(steps, reverse=True):
        checkpoint = steps[step]
        if _is_complete(checkpoint):
            return str(checkpoint)
        aside = checkpoint.with_name(f"{checkpoint.name}.incomplete")
        while aside.exists():
            aside = aside.with_name(aside.name + "-again")
        checkpoint.rename(aside)
        logger.warning(
            "%s is incomplete (no readable %s: the run was killed while saving it); resuming from the "
            "last complete checkpoint instead and keeping it as %s",
            checkpoint,
            TRAINER_STATE,
            aside.name,
        )
    return None


def common_training_args(config, run_dir: Path, model, has_eval: bool) -> dict:
    """The TrainingArguments shared by SFT and GRPO: schedule, checkpoints, precision, reporting."""
    t = config.train
    on_gpu = torch.cuda.is_available()
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "tensorboard")
    return dict(
        output_dir=str(run_dir / CHECKPOINTS),
        run_name=run_dir.name,
        seed=config.seed,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        warmup_steps=t.warmup_ratio,  # a float below 1 is a fraction of the steps
        lr_scheduler_type=t.lr_scheduler,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        activation_checkpointing=t.gradient_checkpointing,
        logging_steps=t.logging_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=t.eval_steps or t.save_steps,
        bf16=model.dtype == torch.bfloat16,
        fp16=model.dtype == torch.float16,
        use_cpu=not on_gpu,
        report_to=configure_reporting(config.tracking, config.output_root),
        disable_tqdm=config.tracking.rich_progress,
    )


def prepare_training(config, run_dir: Path, resume: bool):
    """What SFT and GRPO share before their trainer: the checkpoint to resume, a seeded model and
    tokenizer, with the LoRA to train already applied (new, or an existing adapter made trainable). We wrap
    the model ourselves rather than hand TRL a ``peft_config``, so a Mamba ``out_proj`` LoRA is made live."""
    from transformers import set_seed

    checkpoint = last_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise TrainingError(f"--resume: no checkpoint under {run_dir / CHECKPOINTS}")
    set_seed(config.seed)
    quiet_library_progress(config.tracking)
    model, tokenizer, _ = load_model(config.model, seed=config.seed)
    if config.lora.init_from:
        model = load_lora(model, config.lora.init_from, is_trainable=True)
    elif (peft_config := lora_config(config.lora, model)) is not None:
        # As TRL does under ZeRO-3: adapters in the base dtype, or its gather fails on mixed dtypes.
        zero3 = os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3"
        model = wrap_lora(model, peft_config, autocast_adapter_dtype=not zero3)
    return checkpoint, model, tokenizer


def train_and_save(
    trainer, config, run_dir: Path, checkpoint, tokenizer, *, evaluate: bool = False
) -> TrainResult:
    """Run a TRL trainer with our monitoring and the alive check (a LoRA module without gradient at the first
    step stops the run), save what it trained (adapter or model) and its metrics."""
    attach_monitoring(trainer, config.tracking)
    lora_grad_norms: dict[str, float | None] = {}
    if hasattr(trainer.model, "peft_config"):
        trainer.add_callback(alive_check_callback(lora_grad_norms.update))
    output = trainer.train(resume_from_checkpoint=checkpoint)
    metrics = dict(output.metrics)
    if evaluate:
        metrics.update(trainer.evaluate())
    is_adapter = hasattr(trainer.model, "peft_config")
    saved = save_adapter_or_model(trainer.model, tokenizer, run_dir / (ADAPTER if is_adapter else MODEL))
    write_metrics(run_dir, metrics, trainer.state.log_history, lora_grad_norms)
    return TrainResult(saved, is_adapter, metrics, trainer.state.log_history)


def write_metrics(
    run_dir: Path, metrics: dict, log_history: list[dict], lora_grad_norms: dict | None = None
) -> None:
    """``train_metrics.json``: final metrics, the log, and each LoRA module's gradient norm at step one."""
    record = {"final": metrics, "log": log_history, "first_step_lora_grad_norms": lora_grad_norms or {}}
    (run_dir / "train_metrics.json").write_text(json.dumps(record, indent=2))
