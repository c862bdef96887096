"""Scoring: the grader's extraction and verification (pure Python, no torch)."""

from reasonlab.scoring.metric import NOT_FOUND, extract, score, verify

__all__ = ["NOT_FOUND", "extract", "score", "verify"]
