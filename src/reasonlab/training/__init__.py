"""Training: LoRA target presets, SFT and GRPO on TRL, rewards, hyperparameter search."""
