"""Scoring beyond the grader's own rule (which is ``reasonlab.grader``): prediction files, per-family scores,
statistics, the code sandbox, math-verify, pass@k. Pure Python, no torch."""
