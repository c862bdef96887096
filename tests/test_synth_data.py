"""SFT records, token budgets, deterministic parallel generation, and the synth/traces commands."""

from __future__ import annotations

import csv
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.grader import extract, verify
from reasonlab.prompting import render_chat, user_prompt
from reasonlab.puzzles.io import read_puzzles
from reasonlab.runs.config import ConfigError, load_config
from reasonlab.synth.check import Rejection, check_budget, trace_puzzle
from reasonlab.synth.config import SynthConfig, knob_overrides, mix_overrides
from reasonlab.synth.dataset import length_table, select
from reasonlab.synth.generate import Mixture, generate_one, iter_traced
from reasonlab.synth.records import read_records, sft_record, write_records
from reasonlab.synth.tokens import (
    TEKKEN,
    TokenBudget,
    is_byte_bounded,
    load_counter,
    token_budget,
    train_byte_bpe,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def mixture():
    return Mixture.resolve({"gravity": 1, "unit": 1, "cipher": 1, "numeral": 1})


@pytest.fixture(scope="module")
def traced_rows(mixture):
    return [trace_puzzle(generate_one(3, i, mixture)[1]) for i in range(40)]


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory, traced_rows):
    """A byte-level BPE trained in seconds on prompts and traces, saved like any HF tokenizer.json."""
    texts = [user_prompt(t.puzzle.prompt) for t in traced_rows] + [t.trace for t in traced_rows]
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    train_byte_bpe(texts, vocab_size=400).tokenizer.save(str(path))
    return path


def test_record_is_the_grader_prompt_and_a_think_block_with_the_boxed_answer(traced_rows):
    traced = traced_rows[0]
    record = sft_record(traced)
    user, assistant = record["messages"]
    assert (user["role"], assistant["role"]) == ("user", "assistant")
    assert user["content"] == user_prompt(traced.puzzle.prompt)
    assert assistant["content"].startswith("<think>\n" + traced.trace + "\n</think>\n")
    assert verify(record["answer"], extract(assistant["content"]))
    rendered = render_chat(record["messages"], add_generation_prompt=False)
    assert rendered.count("<think>") == 1 and rendered.count("</think>") == 1
    assert "<think>\n" + traced.trace + "\n</think>\n" in rendered


def test_jsonl_and_parquet_hold_the_same_records_and_datasets_reads_messages(tmp_path, traced_rows):
    records = [sft_record(t) for t in traced_rows if t.trace]
    for name in ("r.jsonl", "r.parquet"):
        write_records(records, tmp_path / name)
        assert read_records(tmp_path / name) == records
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "r.parquet"), split="train")
    assert loaded[0]["messages"] == records[0]["messages"]


def _turn_tokens(traced_rows, tokenizer_file) -> list[int]:
    counted = check_budget(traced_rows, TokenBudget(str(tokenizer_file), budget=10**9))
    assert all(t.assistant_tokens > 0 for t in counted if t.trace)
    return sorted(t.prompt_tokens + t.assistant_tokens for t in counted if t.trace)


def test_over_budget_traces_are_excluded_not_truncated(tokenizer_file, traced_rows):
    lengths = _turn_tokens(traced_rows, tokenizer_file)
    budget = lengths[len(lengths) // 2]
    chosen = select(check_budget(traced_rows, TokenBudget(str(tokenizer_file), budget=budget)))
    assert chosen.kept and chosen.rejected
    assert all(t.prompt_tokens + t.assistant_tokens <= budget for t in chosen.kept)
    assert {reason for _, reason in chosen.rejected} == {Rejection.OVER_BUDGET}
    assert all(f"> {budget}" in t.detail for t, _ in chosen.rejected_rows)
    assert all(
        t.trace == next(u.trace for u in traced_rows if u.puzzle.id == t.puzzle.id)
        for t in chosen.kept + [t for t, _ in chosen.rejected_rows]
    )
    table = length_table(chosen)
    assert sum(row.rows for row in table) == len(chosen.kept)
    assert all(row.median <= row.p95 <= row.max for row in table)


def test_rows_whose_bytes_prove_the_fit_are_not_encoded_but_the_verdicts_match_full_counts(
    tokenizer_file, traced_rows
):
    lengths = _turn_tokens(traced_rows, tokenizer_file)
    rows = [t for t in traced_rows if t.trace]
    byte_lengths = sorted(
        len(user_prompt(t.puzzle.prompt).encode()) + len(sft_record(t)["messages"][1]["content"].encode())
        for t in rows
    )
    # Budgets where some rows are over, some fit by their bytes alone, and some need a count to tell.
    for budget in (lengths[len(lengths) // 2], byte_lengths[len(byte_lengths) // 2], lengths[-1]):
        every = select(check_budget(rows, TokenBudget(str(tokenizer_file), budget=budget)))
        bounded = select(
            check_budget(rows, TokenBudget(str(tokenizer_file), budget=budget, stats_every=10**9))
        )
        assert [t.puzzle.id for t in bounded.kept] == [t.puzzle.id for t in every.kept]
        assert bounded.rejected == every.rejected
        assert all(t.tokenizer for t in bounded.kept)
    uncounted = [t for t in bounded.kept if t.assistant_tokens is None]
    # At the last budget, rows shorter in bytes than the longest in tokens were never encoded.
    assert uncounted and len(uncounted) < len(bounded.kept)


def test_a_budget_spec_is_loaded_once_up_front_and_a_bad_one_is_named(tmp_path, tokenizer_file):
    assert token_budget("none", 100) is None
    assert token_budget(str(tokenizer_file), 100, 4) == TokenBudget(str(tokenizer_file), 100, 4)
    with pytest.raises(ValueError, match="cannot load tokenizer .*nowhere"):
        token_budget(str(tmp_path / "nowhere"), 100)
    told: list[str] = []
    auto = token_budget("auto", 100, on_missing=told.append)
    try:  # 'auto' is tekken where mistral-common is installed, and no budget (said why) where it is not
        load_counter(TEKKEN)
    except RuntimeError:
        assert auto is None and told
    else:
        assert auto == TokenBudget(TEKKEN, 100) and not told


def test_the_statistics_sample_is_a_fixed_share_of_ids():
    limit = TokenBudget("any", stats_every=8)
    ids = [f"{i:08x}" for i in range(4000)]
    share = sum(map(limit.sampled, ids)) / len(ids)
    assert 0.10 < share < 0.15
    assert all(TokenBudget("any").sampled(i) for i in ids[:50])


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=80))
def test_a_byte_bounded_tokenizer_never_takes_more_tokens_than_bytes(byte_counter, text):
    assert byte_counter.byte_bounded
    assert byte_counter.count([text])[0] <= len(text.encode())


@pytest.fixture(scope="module")
def byte_counter(tokenizer_file):
    return load_counter(tokenizer_file)


def test_only_byte_level_bpe_without_added_text_is_byte_bounded():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    def tokenizer(model, pre, normalizer=None):
        built = Tokenizer(model)
        built.pre_tokenizer = pre
        if normalizer:
            built.normalizer = normalizer
        return built

    assert is_byte_bounded(tokenizer(models.BPE(), pre_tokenizers.ByteLevel(add_prefix_space=False)))
    assert is_byte_bounded(
        tokenizer(
            models.BPE(),
            pre_tokenizers.Sequence(
                [pre_tokenizers.Digits(), pre_tokenizers.ByteLevel(add_prefix_space=False)]
            ),
        )
    )
    assert not is_byte_bounded(tokenizer(models.BPE(), pre_tokenizers.ByteLevel(add_prefix_space=True)))
    assert not is_byte_bounded(tokenizer(models.BPE(), pre_tokenizers.Metaspace()))
    assert not is_byte_bounded(
        tokenizer(models.BPE(), pre_tokenizers.ByteLevel(add_prefix_space=False), normalizers.NFKC())
    )
    assert not is_byte_bounded(
        tokenizer(models.WordLevel({"a": 0}, unk_token="a"), pre_tokenizers.Whitespace())
    )


def test_duplicates_and_avoided_prompts_are_skipped(traced_rows):
    stream = traced_rows[:10] + traced_rows[:5]
    chosen = select(stream, avoid_prompts={traced_rows[0].puzzle.prompt})
    assert (chosen.duplicates, chosen.avoided, len(chosen.kept)) == (4, 2, 9)


def test_same_seed_same_rows_whatever_the_worker_count(mixture):
    def first(workers):
        stream = iter_traced(11, mixture, workers=workers, chunk_size=25)
        return [(t.puzzle, t.trace) for t, _ in zip(stream, range(120), strict=False)]

    one = first(1)
    assert one == first(2)
    assert one != [
        (t.puzzle, t.trace) for t, _ in zip(iter_traced(12, mixture, workers=1), range(120), strict=False)
    ]


def test_mixture_weights_shape_the_families_and_missing_generators_are_reported():
    mixture = Mixture.resolve({"gravity": 3, "numeral": 1, "bit": 0})
    drawn = [mixture.draw(random.Random(i)) for i in range(2000)]
    assert set(drawn) == {"gravity", "numeral"}
    assert 0.7 < drawn.count("gravity") / len(drawn) < 0.8
    assert set(Mixture.resolve().without_generator) <= {"bit", "equation"}
    assert synth_config(mix_overrides("gravity=3, numeral=1")).mix == {"gravity": 3, "numeral": 1}
    with pytest.raises(ConfigError, match="mix.gravity"):
        synth_config(mix_overrides("gravity=x"))
    with pytest.raises(ConfigError, match="planets"):
        synth_config(mix_overrides("planets=1"))


def synth_config(overrides: list[str]) -> SynthConfig:
    return load_config(SynthConfig, None, ["n=1", "out=x.csv", *overrides])


def test_synth_command_writes_competition_csv_and_identical_sft_files(tmp_path, tokenizer_file):
    csv_out, jsonl_out, parquet_out = tmp_path / "s.csv", tmp_path / "s.jsonl", tmp_path / "s.parquet"
    common = [
        "--n",
        "30",
        "--seed",
        "5",
        "--mix",
        "gravity=1,cipher=1,numeral=1,unit=1",
        "--avoid",
        str(csv_out),
    ]
    result = runner.invoke(app, ["synth", *common[:-2], "--out", str(csv_out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    puzzles = read_puzzles(csv_out).puzzles
    assert len(puzzles) == 30 and all(len(p.id) == 8 for p in puzzles)
    with csv_out.open(newline="") as fh:
        assert next(csv.reader(fh)) == ["id", "prompt", "answer"]
    tokenizer = ["--tokenizer", str(tokenizer_file)]
    assert (
        runner.invoke(
            app, ["synth", *common[:-2], *tokenizer, "--out", str(jsonl_out), "--workers", "1"]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        app, ["synth", *common[:-2], *tokenizer, "--out", str(parquet_out), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    assert read_records(jsonl_out) == read_records(parquet_out)
    assert len(read_records(jsonl_out)) == 30
    # with the first file's prompts avoided, none of them comes back
    avoided = tmp_path / "a.jsonl"
    assert (
        runner.invoke(
            app, ["synth", *common, "--tokenizer", "none", "--out", str(avoided), "--workers", "1"]
        ).exit_code
        == 0
    )
    assert not {p.prompt for p in puzzles} & {user_prompt_text(r) for r in read_records(avoided)}


def test_synth_command_keeps_only_rows_within_the_budget(tmp_path, tokenizer_file, traced_rows):
    lengths = _turn_tokens(traced_rows, tokenizer_file)
    budget = lengths[len(lengths) // 2]
    out = tmp_path / "b.jsonl"
    args = ["synth", "--n", "20", "--seed", "9", "--mix", "gravity=1,cipher=1,numeral=1,unit=1"]
    args += ["--tokenizer", str(tokenizer_file), "--budget", str(budget), "--out", str(out), "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # the tables wrap to the terminal's width
    assert "over the token budget" in output and "about 1 row in 8 counted" in output
    counter = load_counter(tokenizer_file)
    records = read_records(out)
    assert len(records) == 20
    for record in records:
        user, assistant = (m["content"] for m in record["messages"])
        assert sum(counter.count([user, assistant])) <= budget


def user_prompt_text(record) -> str:
    return record["messages"][0]["content"].rsplit("\n", 1)[0]


def test_synth_command_rejects_a_bad_mixture_or_suffix(tmp_path):
    assert (
        runner.invoke(
            app, ["synth", "--n", "3", "--mix", "gravity=-1", "--out", str(tmp_path / "x.csv")]
        ).exit_code
        == 2
    )
    assert runner.invoke(app, ["synth", "--n", "3", "--out", str(tmp_path / "x.txt")]).exit_code == 2


def test_traces_command_keeps_solved_rows_and_lists_the_rest(tmp_path, traced_rows):
    source = tmp_path / "real.csv"
    rows = [t.puzzle for t in traced_rows[:8]]
    wrong = rows[0].__class__(rows[0].id, rows[0].prompt, "not the answer")
    with source.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "prompt", "answer"])
        for p in [wrong, *rows[1:]]:
            writer.writerow([p.id, p.prompt, p.answer])
    out = tmp_path / "real.jsonl"
    result = runner.invoke(
        app, ["traces", str(source), "--out", str(out), "--workers", "1", "--tokenizer", "none"]
    )
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_records(out)] == [p.id for p in rows[1:]]
    with (tmp_path / "real.rejected.csv").open(newline="") as fh:
        rejected = list(csv.DictReader(fh))
    assert [(r["id"], r["reason"]) for r in rejected] == [(wrong.id, "wrong_answer")]
    assert json.loads(out.read_text().splitlines()[0])["messages"][0]["role"] == "user"


def test_knobs_reach_the_generator_and_unknown_knobs_are_refused():
    knobs = synth_config(knob_overrides(["numeral.n_examples=7", "unit.factor=1.5"])).knobs
    assert knobs == {"numeral": {"n_examples": 7}, "unit": {"factor": 1.5}}
    _, puzzle = generate_one(0, 0, Mixture.resolve({"numeral": 1}), knobs)
    assert puzzle.prompt.count(" -> ") == 7
    with pytest.raises(ConfigError, match="its knobs"):
        synth_config(knob_overrides(["gravity.colour=1"]))
    with pytest.raises(ConfigError, match="knobs.gravity.n_examples"):
        synth_config(knob_overrides(["gravity.n_examples=many"]))
