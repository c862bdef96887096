"""Supervised fine-tuning with TRL's SFTTrainer: LoRA (or every weight of a tiny model), loss on the
assistant turn only, checkpoints in the run directory, resumable."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import torch
from trl import SFTTrainer as SFTTrainerBase

from reasonlab.synth.dataset import describe_shares
from reasonlab.training.config import SFTConfig
from reasonlab.training.data import FAMILY, completion_token_shares, load_sft_dataset, split_eval
from reasonlab.training.live_lora import adapts_lm_head, alive_check_callback, load_lora, wrap_lora
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


class LmHeadLoraSFTTrainer(SFTTrainerBase):
    """TRL's SFTTrainer, with the loss computed through the PEFT-wrapped ``lm_head`` so its LoRA trains.

    TRL 1.16 computes SFT log-probabilities with a fused, chunked head that multiplies the hidden states by
    ``lm_head.weight`` (the frozen base weight), and refuses an lm_head adapter for that reason. Here the loss is
    the model's plain forward (base head + LoRA update, full logits) and a token-mean cross-entropy on the
    completion tokens, the same quantity as TRL's. The cost is the full ``(tokens, vocab)`` logits and their
    log-softmax in memory, which the fused head avoids (``benchmarks/bench_lm_head_memory.py`` measures it).
    """

    def __init__(self, *args, **kwargs):
        from trl.trainer import sft_trainer

        class NotATunerLayer:  # makes TRL's "lm_head adapter is never trained" refusal pass: this one is
            pass

        with mock.patch.object(sft_trainer, "BaseTunerLayer", NotATunerLayer):
            super().__init__(*args, **kwargs)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        mode = "train" if self.model.training else "eval"
        labels = inputs["labels"]
        forward_inputs = {k: v for k, v in inputs.items() if k != "labels"}
        outputs = model(**forward_inputs, use_cache=False)
        logits = outputs.logits[:, :-1].float()
        targets = labels[:, 1:].to(logits.device)
        mask = targets != -100
        per_token = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), targets.clamp(min=0), reduction="none"
        ).masked_fill(~mask, 0.0)
        num_tokens = mask.sum() if num_items_in_batch is None else num_items_in_batch
        loss = per_token.sum() / torch.as_tensor(num_tokens).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes  # as TRL does: DDP averages the gradients
        with torch.no_grad():
            valid = self.accelerator.gather_for_metrics(mask.sum()).sum()
            correct = self.accelerator.gather_for_metrics(((logits.argmax(-1) == targets) & mask).sum()).sum()
            accuracy = (correct / valid).item() if valid > 0 else 0.0
        self._metrics[mode]["mean_token_accuracy"].append(accuracy)
        return (loss, outputs) if return_outputs else loss


def run_sft(
    config: SFTConfig,
    run_dir: Path,
    resume: bool = False,
    callbacks=(),
    on_mixture: Callable[[str], None] = lambda line: None,
) -> TrainResult:
    """Train as ``config`` says, writing checkpoints, the adapter/model and metrics under ``run_dir``;
    ``on_mixture`` gets a line with each family's share of the training tokens before training starts."""
    from trl import SFTConfig as TrlSFTConfig

    run_dir = Path(run_dir)
    checkpoint, model, tokenizer = prepare_training(config, run_dir, resume)
    dataset = load_sft_dataset(
        config.data.train,
        config.data.max_rows,
        config.data.family_weights,
        config.seed,
        config.data.force_oversampling,
    )
    shares = completion_token_shares(dataset, tokenizer, seed=config.seed)
    on_mixture(describe_shares(shares, "completion tokens"))
    train_set, eval_set = split_eval(
        dataset,
        config.data.eval,
        config.data.eval_fraction,
        config.seed,
        load_sft_dataset,
        config.data.max_rows,
    )
    train_set = train_set.remove_columns(FAMILY)
    eval_set = eval_set.remove_columns(FAMILY) if eval_set is not None else None
    args = TrlSFTConfig(
        **common_training_args(config, run_dir, model, eval_set is not None),
        max_length=config.train.max_length,
        packing=use_packing(config, model),
        packing_strategy="bfd",
        completion_only_loss=config.train.completion_only_loss,
        dataset_num_proc=None,
    )
    trainer_class = LmHeadLoraSFTTrainer if adapts_lm_head(model) else SFTTrainerBase
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        callbacks=list(callbacks),
    )
    return train_and_save(trainer, config, run_dir, checkpoint, tokenizer, evaluate=eval_set is not None)


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
