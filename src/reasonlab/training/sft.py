"""Supervised fine-tuning with TRL's SFTTrainer: LoRA (or every weight of a tiny model), loss on the
assistant turn only, checkpoints in the run directory, resumable."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from reasonlab.training.config import SFTConfig
from reasonlab.training.data import load_sft_dataset, split_eval
from reasonlab.training.modeling import has_mamba_layers, load_model, lora_config, save_adapter_or_model
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


def use_packing(config: SFTConfig, model) -> bool:
    if config.train.packing != "auto":
        return config.train.packing == "on"
    flash = "flash" in str(getattr(model.config, "_attn_implementation", ""))
    return flash and not has_mamba_layers(model)


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
    tokenizer, and the LoRA to train (a new PEFT config, or an existing adapter made trainable)."""
    from peft import PeftModel
    from transformers import set_seed

    checkpoint = last_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise TrainingError(f"--resume: no checkpoint under {run_dir / CHECKPOINTS}")
    set_seed(config.seed)
    quiet_library_progress(config.tracking)
    model, tokenizer, _ = load_model(config.model, seed=config.seed)
    peft_config = None
    if config.lora.init_from:
        model = PeftModel.from_pretrained(model, config.lora.init_from, is_trainable=True)
    else:
        peft_config = lora_config(config.lora, model)
    return checkpoint, model, tokenizer, peft_config


def run_sft(config: SFTConfig, run_dir: Path, resume: bool = False, callbacks=()) -> TrainResult:
    """Train as ``config`` says, writing checkpoints, the adapter/model and metrics under ``run_dir``."""
    from trl import SFTConfig as TrlSFTConfig
    from trl import SFTTrainer

    run_dir = Path(run_dir)
    checkpoint, model, tokenizer, peft_config = prepare_training(config, run_dir, resume)
    dataset = load_sft_dataset(
        config.data.train, config.data.max_rows, config.data.family_weights, config.seed
    )
    train_set, eval_set = split_eval(
        dataset,
        config.data.eval,
        config.data.eval_fraction,
        config.seed,
        load_sft_dataset,
        config.data.max_rows,
    )
    args = TrlSFTConfig(
        **common_training_args(config, run_dir, model, eval_set is not None),
        max_length=config.train.max_length,
        packing=use_packing(config, model),
        packing_strategy="bfd",
        completion_only_loss=config.train.completion_only_loss,
        dataset_num_proc=None,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=list(callbacks),
    )
    return train_and_save(trainer, config, run_dir, checkpoint, tokenizer, evaluate=eval_set is not None)


def train_and_save(
    trainer, config, run_dir: Path, checkpoint, tokenizer, *, evaluate: bool = False
) -> TrainResult:
    """Run a TRL trainer with our monitoring, save what it trained (adapter or model) and its metrics."""
    attach_monitoring(trainer, config.tracking)
    output = trainer.train(resume_from_checkpoint=checkpoint)
    metrics = dict(output.metrics)
    if evaluate:
        metrics.update(trainer.evaluate())
    is_adapter = hasattr(trainer.model, "peft_config")
    saved = save_adapter_or_model(trainer.model, tokenizer, run_dir / (ADAPTER if is_adapter else MODEL))
    write_metrics(run_dir, metrics, trainer.state.log_history)
    return TrainResult(saved, is_adapter, metrics, trainer.state.log_history)


def write_metrics(run_dir: Path, metrics: dict, log_history: list[dict]) -> None:
    (run_dir / "train_metrics.json").write_text(json.dumps({"final": metrics, "log": log_history}, indent=2))
