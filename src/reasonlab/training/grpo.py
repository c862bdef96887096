"""Reinforcement learning with TRL's GRPOTrainer: puzzles as prompts, weighted reward callables."""

from __future__ import annotations

from pathlib import Path

from reasonlab.training.config import GRPOConfig
from reasonlab.training.data import load_prompt_dataset, split_eval
from reasonlab.training.modeling import load_model, lora_config
from reasonlab.training.rewards import build_rewards
from reasonlab.training.sft import (
    TrainingError,
    TrainResult,
    common_training_args,
    last_checkpoint,
    train_and_save,
)
from reasonlab.training.tracking import quiet_library_progress


def run_grpo(config: GRPOConfig, run_dir: Path, resume: bool = False, callbacks=()) -> TrainResult:
    from peft import PeftModel
    from transformers import set_seed
    from trl import GRPOConfig as TrlGRPOConfig
    from trl import GRPOTrainer

    run_dir = Path(run_dir)
    checkpoint = last_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise TrainingError(f"--resume: no checkpoint under {run_dir / 'checkpoints'}")
    set_seed(config.seed)
    quiet_library_progress(config.tracking)
    rewards, weights = build_rewards(config.train.rewards)
    model, tokenizer, _ = load_model(config.model, seed=config.seed)
    peft_config = None
    if config.lora.init_from:
        model = PeftModel.from_pretrained(model, config.lora.init_from, is_trainable=True)
    else:
        peft_config = lora_config(config.lora, model)
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
        peft_config=peft_config,
        callbacks=list(callbacks),
    )
    return train_and_save(trainer, config, run_dir, checkpoint, tokenizer)
