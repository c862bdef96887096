"""Training data: SFT records (chat messages) and GRPO prompts (puzzles with gold answers) as datasets.

SFT records are what ``reasonlab synth`` writes: JSONL or Parquet rows with a ``messages`` column (the
grader's user turn, then the assistant turn ``<think>\\n...\\n</think>\\n...\\boxed{answer}``). They become
TRL's conversational prompt-completion format, so the loss falls on the assistant turn only.
"""

from __future__ import annotations

import json
from pathlib import Path

from reasonlab.prompting import grader_messages

# Repeating a family's records more than this many times overfits it (one team fell to 0.73 at 14x; 3x
# priority overfit, 2x helped), so data.family_weights asking for more is refused unless forced.
MAX_OVERSAMPLING = 3.0
FAMILY = "family"


class DataError(ValueError):
    pass


def read_rows(path: str | Path) -> list[dict]:
    """Rows of a JSONL, JSON-array or Parquet file; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path}: not a complete Parquet file ({exc}); was its writer killed?") from None
    if path.suffix == ".csv":
        from reasonlab.puzzles.io import read_puzzles

        return [{"id": p.id, "prompt": p.prompt, "answer": p.answer} for p in read_puzzles(path).puzzles]
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                cut = "" if line.endswith("\n") else "; the file ends mid-record, was its writer killed?"
                raise DataError(f"{path}, line {number}: not JSON ({exc.msg}){cut}") from None
    return rows


def to_prompt_completion(row: dict, where: str) -> dict:
    """One SFT record -> {prompt: [turns before the last], completion: [last assistant turn]}."""
    if "prompt" in row and "completion" in row:
        return {"prompt": row["prompt"], "completion": row["completion"]}
    messages = row.get("messages")
    if not isinstance(messages, list) or len(messages) < 2:
        raise DataError(f"{where}: needs a 'messages' list (user turn, assistant turn) or prompt/completion")
    for message in messages:
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise DataError(f"{where}: every message needs 'role' and 'content'")
    if messages[-1]["role"] != "assistant":
        raise DataError(f"{where}: the last message must be the assistant's, got {messages[-1]['role']!r}")
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    return {"prompt": plain[:-1], "completion": plain[-1:]}


def load_sft_dataset(
    paths: list[str],
    max_rows: int | None = None,
    family_weights: dict[str, float] | None = None,
    seed: int = 0,
    force_oversampling: bool = False,
):
    """Prompt-completion rows with their ``family`` column (drop it before handing the set to a trainer)."""
    from datasets import Dataset

    records, families = [], []
    for path in paths:
        for number, row in enumerate(read_rows(path), 1):
            family = row.get(FAMILY)
            records.append({**to_prompt_completion(row, f"{path}, record {number}"), FAMILY: str(family)})
            families.append(family)
    if not records:
        raise DataError(f"no SFT records in {', '.join(paths)}")
    if family_weights:
        records = reweight(records, families, family_weights, seed, force_oversampling)
    return Dataset.from_list(records[:max_rows] if max_rows else records)


def completion_token_shares(
    dataset, tokenizer, sample_per_family: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Each family's share of the completion (assistant-turn) tokens: its rows times the mean token count
    of up to ``sample_per_family`` of them."""
    import random
    import statistics

    from reasonlab.synth.dataset import token_shares

    by_family: dict[str, list[int]] = {}
    for index, family in enumerate(dataset[FAMILY]):
        by_family.setdefault(family, []).append(index)
    rng = random.Random(seed)
    tokens = {}
    for family, indices in by_family.items():
        sample = rng.sample(indices, min(sample_per_family, len(indices)))
        texts = [dataset[i]["completion"][-1]["content"] for i in sample]
        counts = [len(ids) for ids in tokenizer(texts, add_special_tokens=False).input_ids]
        tokens[family] = len(indices) * statistics.fmean(counts)
    return token_shares(tokens)


def reweight(
    records: list[dict],
    families: list[str | None],
    weights: dict[str, float],
    seed: int,
    force_oversampling: bool = False,
) -> list[dict]:
    """Resample to the families' relative ``weights``, same total size (with replacement where a family is
    short, refusing to repeat a family more than MAX_OVERSAMPLING times unless forced)."""
    import random

    by_family: dict[str, list[dict]] = {}
    for record, family in zip(records, families, strict=True):
        by_family.setdefault(str(family), []).append(record)
    missing = sorted(f for f, w in weights.items() if w > 0 and f not in by_family)
    if missing:
        raise DataError(f"data.family_weights names families with no records: {', '.join(missing)}")
    total_weight = sum(w for w in weights.values() if w > 0)
    if total_weight <= 0:
        raise DataError("data.family_weights: at least one weight must be positive")
    wanted = {f: round(len(records) * w / total_weight) for f, w in weights.items() if w > 0}
    oversampled = {
        f: n / len(by_family[f]) for f, n in wanted.items() if n > MAX_OVERSAMPLING * len(by_family[f])
    }
    if oversampled and not force_oversampling:
        shown = ", ".join(f"{f} {factor:.1f}x" for f, factor in sorted(oversampled.items()))
        raise DataError(
            f"data.family_weights repeats families more than {MAX_OVERSAMPLING:g}x ({shown}): heavy oversampling "
            "overfits a family (one team fell to 0.73 at 14x). Generate more records of it, lower its weight, "
            "or set data.force_oversampling: true"
        )
    rng = random.Random(seed)
    mixed = []
    for family, count in sorted(wanted.items()):
        pool = by_family[family]
        mixed.extend(rng.sample(pool, count) if count <= len(pool) else rng.choices(pool, k=count))
    rng.shuffle(mixed)
    return mixed


def load_prompt_dataset(paths: list[str], max_rows: int | None = None):
    """Puzzles with gold answers -> {prompt: the grader's messages, answer, id} for GRPO."""
    from datasets import Dataset

    records = []
    for path in paths:
        for number, row in enumerate(read_rows(path), 1):
            where = f"{path}, record {number}"
            if row.get("answer") in (None, ""):
                raise DataError(f"{where}: no 'answer' (GRPO rewards need the gold answer)")
            if isinstance(row.get("prompt"), str):
                prompt = grader_messages(row["prompt"])
            elif isinstance(row.get("messages"), list):
                prompt = [m for m in row["messages"] if m["role"] != "assistant"]
            else:
                raise DataError(f"{where}: needs a puzzle 'prompt' text or 'messages'")
            records.append({"prompt": prompt, "answer": str(row["answer"]), "id": str(row.get("id", number))})
    if not records:
        raise DataError(f"no puzzles in {', '.join(paths)}")
    return Dataset.from_list(records[:max_rows] if max_rows else records)


def split_eval(dataset, eval_paths: list[str], eval_fraction: float, seed: int, loader, max_rows=None):
    """(train, eval or None): eval files if given, else a seeded fraction held out from train."""
    if eval_paths:
        return dataset, loader(eval_paths, max_rows)
    if eval_fraction > 0 and len(dataset) > 1:
        parts = dataset.train_test_split(test_size=eval_fraction, seed=seed)
        return parts["train"], parts["test"]
    return dataset, None
