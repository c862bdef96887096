"""Inference: one small interface (requests in, completions out) and the backends behind it."""

from reasonlab.inference.base import Backend, Completion, GenerationSettings, Request

__all__ = ["Backend", "Completion", "GenerationSettings", "Request"]
