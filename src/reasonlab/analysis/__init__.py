"""Analysis: inference performance (bench), architecture costs (inspect), MoE routing (experts)."""
