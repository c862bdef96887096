"""JSON Lines reading with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_jsonl(path: Path, *, complete_only: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line; ``ValueError`` names the file and line of bad JSON.
    ``complete_only`` leaves out a last line without its newline (a write under way or cut short)."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if complete_only and not line.endswith("\n"):
                break
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not JSON ({exc.msg})") from exc
