"""Tracers, one module per family and style (see :mod:`reasonlab.puzzles.trace_style`)."""
