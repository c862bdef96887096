"""Reinforcement learning with TRL's GRPOTrainer: puzzles as prompts, weighted reward callables."""

from __future__ import annotations

from pathlib import Path

from reasonlab.training.base import (
    TrainResult,
    common_training_args,
    prepare_training,
    train_and_save,
)
from reasonlab.training.config import GRPOConfig
from reasonlab.training.data import load_prompt_dataset, split_eval
from reasonlab.training.live_lora import adapts_lm_head
from reasonlab.training.rewards import build_rewards
from reasonlab.training.targets import TargetError


def run_grpo(config: GRPOConfig, run_dir: Path, resume: bool = False, callbacks=()) -> TrainResult:
    from trl import GRPOConfig as TrlGRPOConfig
    from trl import GRPOTrainer

    run_dir = Path(run_dir)
    rewards, weights = build_rewards(config.train.rewards)  # before the model: a bad dotted path fails fast
    checkpoint, model, tokenizer = prepare_training(config, run_dir, resume)
    if adapts_lm_head(model):
        raise TargetError(
            "lora.targets includes lm_head, but TRL's GRPOTrainer computes log-probabilities from "
            "lm_head.weight directly, so the lm_head LoRA would never train; leave lm_head out for GRPO "
            "(SFT trains it)"
        )
    dataset = load_prompt_dataset(config.data.train, config.data.max_rows)
    train_set, eval_set = split_eval(
        dataset,
        config.data.eval,
        config.data.eval_fraction,
        config.seed,
        load_prompt_dataset,
        config.data.max_rows,
    )
    t = config.train
    # GRPO's batch is counted in completions: batch_size prompts' worth of num_generations each.
    args = TrlGRPOConfig(
        **common_training_args(config, run_dir, model, eval_set is not None),
        num_generations=t.num_generations,
        max_completion_length=t.max_completion_length,
        temperature=t.temperature,
        beta=t.beta,
        use_vllm=t.use_vllm,
        reward_weights=weights,
        log_completions=False,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=rewards,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        callbacks=list(callbacks),
    )
    return train_and_save(trainer, config, run_dir, checkpoint, tokenizer)
