"""The append-only completion store: one JSON line per completion, keyed by row id and config hash.

Each record is written and flushed the moment its completion arrives, so a run killed at any point
(even ``kill -9``) keeps everything it finished. Reopening the store repairs a torn last line (a write
cut short by the kill), and ``pending`` tells which rows still need work, so a resumed run neither
loses nor repeats a row. Lines written under another config hash are kept but ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reasonlab.jsonl import read_jsonl


def stored_records(path: Path, config_hash: str) -> dict[str, dict[str, Any]]:
    """The records of ``config_hash`` in a store file by row id, read without changing the file (a run
    may still be writing it): a last line without its newline is left out. The first record of a row is
    the one kept (a later duplicate cannot arise from the store, but a hand-merged file might hold one)."""
    records: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for _, record in read_jsonl(path, complete_only=True):
            if record.get("config_hash") == config_hash:
                records.setdefault(str(record["id"]), record)
    return records


class CompletionStore:
    def __init__(self, path: str | Path, config_hash: str):
        self.path = Path(path)
        self.config_hash = config_hash
        self._repair_torn_tail()
        self.records = stored_records(self.path, config_hash)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")

    def _repair_torn_tail(self) -> None:
        """Cut a last line that has no newline: it is a record whose write was interrupted."""
        if not self.path.is_file():
            return
        with self.path.open("rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)

    def pending(self, ids: Iterable[str]) -> list[str]:
        return [i for i in ids if i not in self.records]

    def append(self, record: dict[str, Any]) -> None:
        row_id = str(record["id"])
        if row_id in self.records:
            return
        record = {**record, "id": row_id, "config_hash": self.config_hash}
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.records[row_id] = record

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    def __enter__(self) -> CompletionStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
