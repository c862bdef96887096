"""reasonlab: a reproducible laboratory for improving the reasoning of open models."""

__version__ = "0.1.0"
