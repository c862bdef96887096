"""Output files every command writes the same way: checked before any work, complete or absent after.

- :func:`check_outputs` refuses, before a command starts its work, an output that is one of its inputs
  (or the same file under another name), a path inside a file, an existing directory, or a directory the
  user cannot write to, naming the path. Without it a typo such as ``solve data.csv --out data.csv``
  destroyed the input, and an unwritable path failed with a traceback after all the work was done.
- :func:`atomic_output` / :func:`atomic_path` write to a hidden ``.NAME.partial-*`` file beside the
  output and rename it onto the output only when the writer finished. A killed run leaves a ``.partial``
  file, never an output that looks complete (``train`` would have read a half-written JSONL as data).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

PARTIAL_MARK = ".partial-"


class OutputPathError(ValueError):
    """An output path that must not (or cannot) be written; the message names it."""


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _writable_dir_problem(directory: Path) -> str | None:
    """Why files cannot be created in ``directory`` (created later if missing), or None."""
    existing = directory
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def check_outputs(outputs: Iterable[Path | None], inputs: Iterable[Path | None] = ()) -> None:
    """Raise :class:`OutputPathError` if any output would overwrite an input or cannot be written.

    ``outputs`` are every file the command will write (its side files included); ``inputs`` every file
    it reads. ``None`` entries (options not given) are skipped.
    """
    inputs = [Path(p) for p in inputs if p is not None]
    for output in (Path(p) for p in outputs if p is not None):
        for source in inputs:
            if _same_file(output, source):
                raise OutputPathError(f"{output} is also an input ({source}); choose another output path")
        if output.is_dir():
            raise OutputPathError(f"{output} is a directory; the output must be a file path")
        problem = _writable_dir_problem(output.parent)
        if problem:
            raise OutputPathError(f"cannot write {output}: {problem}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` when the block succeeds and
    removed when it raises (for writers that take a path, such as Parquet or zip)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named, not created (mkstemp would make it private): the writer creates it with the usual mode.
    partial = path.with_name(f".{path.name}{PARTIAL_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def atomic_output(path: str | Path, mode: str = "w", **open_options) -> Iterator[IO]:
    """``open(path, mode)`` that leaves ``path`` untouched until the block finishes without error."""
    with atomic_path(path) as partial, partial.open(mode, **open_options) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
