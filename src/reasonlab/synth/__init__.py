"""Synthetic puzzles, verified reasoning traces and SFT datasets.

- :mod:`~reasonlab.synth.check`: solve a puzzle, trace it, and prove the trace (replay + grader extraction);
- :mod:`~reasonlab.synth.generate`: seeded, parallel, deterministic generation over a family mixture;
- :mod:`~reasonlab.synth.tokens`: token counts under a named tokenizer and the grader's budget;
- :mod:`~reasonlab.synth.records`: chat-format SFT records and their JSONL / Parquet / CSV writers.

Only ``tokens`` needs ``tokenizers``/``transformers``; the rest is pure Python like :mod:`reasonlab.puzzles`.
"""
