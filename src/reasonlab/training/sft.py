"""Supervised fine-tuning with TRL's SFTTrainer: LoRA (or every weight of a tiny model), loss on the
assistant turn only, checkpoints in the run directory, resumable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from unittest import mock

import torch
from trl import SFTTrainer as SFTTrainerBase

from reasonlab.synth.dataset import describe_shares
from reasonlab.training.base import TrainResult, common_training_args, prepare_training, train_and_save
from reasonlab.training.config import SFTConfig
from reasonlab.training.data import FAMILY, completion_token_shares, load_sft_dataset, split_eval
from reasonlab.training.live_lora import adapts_lm_head
from reasonlab.training.modeling import has_mamba_layers


def use_packing(config: SFTConfig, model) -> bool:
    if config.train.packing != "auto":
        return config.train.packing == "on"
    flash = "flash" in str(getattr(model.config, "_attn_implementation", ""))
    return flash and not has_mamba_layers(model)


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
