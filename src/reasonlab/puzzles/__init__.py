"""Wonderland puzzles: reading, classifying, parsing, solving (pure Python, no torch)."""

from reasonlab.puzzles.classify import Classification, classify
from reasonlab.puzzles.families import FAMILY_NAMES, family_names, get_family
from reasonlab.puzzles.io import InvalidRow, PuzzleFileError, read_puzzles
from reasonlab.puzzles.solve import solve_prompt
from reasonlab.puzzles.types import Puzzle, Solution, Status

__all__ = [
    "FAMILY_NAMES",
    "Classification",
    "InvalidRow",
    "Puzzle",
    "PuzzleFileError",
    "Solution",
    "Status",
    "classify",
    "family_names",
    "get_family",
    "read_puzzles",
    "solve_prompt",
]
