"""Data-mix guards: token shares per family, the oversampling limit, a stratified split whose validation
prompts synthesis keeps out."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.prompting import grader_messages
from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.io import read_puzzles

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_split_is_stratified_seeded_and_synthesis_avoids_validation(tmp_path):
    invoke("synth", "--n", "90", "--seed", "5", "--out", str(tmp_path / "all.csv"), "--workers", "1")
    puzzles = read_puzzles(tmp_path / "all.csv").puzzles
    invoke("split", str(tmp_path / "all.csv"), "--out-dir", str(tmp_path / "a"), "--val-fraction", "0.2")
    invoke("split", str(tmp_path / "all.csv"), "--out-dir", str(tmp_path / "b"), "--val-fraction", "0.2")
    train, val = (read_puzzles(tmp_path / "a" / f"{part}.csv").puzzles for part in ("train", "val"))
    assert (tmp_path / "a" / "val.csv").read_bytes() == (tmp_path / "b" / "val.csv").read_bytes()
    assert {p.id for p in train}.isdisjoint(p.id for p in val)
    assert len(train) + len(val) == len(puzzles)
    strata = Counter(classify(p.prompt).label for p in puzzles)
    held = Counter(classify(p.prompt).label for p in val)
    for label, rows in strata.items():
        assert held[label] == round(0.2 * rows), label

    result = invoke(
        "synth",
        "--n",
        "90",
        "--seed",
        "5",
        "--out",
        str(tmp_path / "again.csv"),
        "--workers",
        "1",
        "--avoid",
        str(tmp_path / "a" / "val.csv"),
    )
    again = read_puzzles(tmp_path / "again.csv").puzzles
    assert len(again) == 90 and "avoided prompts" in result.output
    assert {p.prompt for p in again}.isdisjoint(p.prompt for p in val)


def test_synth_prints_each_familys_share(tmp_path):
    result = invoke(
        "synth",
        "--n",
        "30",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "r.jsonl"),
        "--workers",
        "1",
        "--tokenizer",
        "none",
        "--mix",
        "numeral=1,unit=1",
    )
    line = next(line for line in result.output.splitlines() if line.startswith("share of"))
    shares = dict(part.rsplit(" ", 1) for part in line.split(": ", 1)[1].split(", "))
    assert set(shares) == {"numeral", "unit"}
    assert sum(float(v.rstrip("%")) for v in shares.values()) == pytest.approx(100, abs=0.2)


def records_file(tmp_path, counts: dict[str, int]):
    path = tmp_path / "mixed.jsonl"
    with path.open("w") as handle:
        for family, n in counts.items():
            for i in range(n):
                reply = f"<think>\n{family} {'step ' * (i % 3 + 1)}\n</think>\n\\boxed{{{i}}}"
                messages = grader_messages(f"{family} {i}") + [{"role": "assistant", "content": reply}]
                handle.write(json.dumps({"family": family, "messages": messages}) + "\n")
    return path


def test_oversampling_above_three_times_is_refused_unless_forced(tmp_path):
    pytest.importorskip("datasets")
    from reasonlab.training.data import DataError, load_sft_dataset

    path = records_file(tmp_path, {"bit": 30, "numeral": 10})
    load_sft_dataset([str(path)], family_weights={"bit": 1, "numeral": 3})  # numeral 3.0x: allowed
    with pytest.raises(DataError, match=r"numeral 3\.3x"):
        load_sft_dataset([str(path)], family_weights={"bit": 1, "numeral": 5})
    forced = load_sft_dataset([str(path)], family_weights={"bit": 1, "numeral": 5}, force_oversampling=True)
    assert Counter(forced["family"]) == {"numeral": 33, "bit": 7}


def test_completion_token_shares_count_the_assistant_turns(tmp_path, tiny_tokenizer):
    pytest.importorskip("datasets")
    from reasonlab.training.data import completion_token_shares, load_sft_dataset

    dataset = load_sft_dataset([str(records_file(tmp_path, {"bit": 6, "numeral": 2}))])
    tokens = Counter()
    for row in dataset:
        tokens[row["family"]] += len(
            tiny_tokenizer(row["completion"][-1]["content"], add_special_tokens=False).input_ids
        )
    shares = completion_token_shares(dataset, tiny_tokenizer)
    assert shares == pytest.approx({f: t / sum(tokens.values()) for f, t in tokens.items()})
