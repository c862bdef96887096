"""Hostile use of the commands: outputs onto inputs, killed runs, odd CSVs, duplicate ids, brackets in
error text, truncated completions, disjoint comparisons, machine-specific paths."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.cli.puzzles import sample_csv
from reasonlab.outputs import OutputPathError, atomic_output, check_outputs
from reasonlab.puzzles.io import PuzzleFileError, read_puzzles, write_solutions
from reasonlab.puzzles.solve import solve_many
from reasonlab.scoring.predictions import DuplicatePredictionWarning, read_predictions
from reasonlab.synth.records import write_puzzles_csv, write_records

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
runner = CliRunner()


def _text(result) -> str:
    """The command's output with Rich's line wrapping undone."""
    return result.output.replace("\n", "")


def _first_rows(tmp_path: Path, n: int = 3) -> Path:
    """A copy of the first ``n`` sample rows (a small labelled input)."""
    puzzles = read_puzzles(sample_csv()).puzzles[:n]
    path = tmp_path / "in.csv"
    write_puzzles_csv(puzzles, path)
    return path


# --- outputs onto inputs, unwritable outputs: refused before any work, naming the path ---------------


@pytest.mark.parametrize("side", [False, True])
def test_solve_refuses_to_overwrite_its_input_or_write_its_side_file_onto_it(tmp_path, side):
    source = _first_rows(tmp_path)
    if side:  # with an invalid row, `--out in.out` sets it aside in in.invalid.csv: make that the input
        source = source.rename(tmp_path / "in.invalid.csv")
        with source.open("a", encoding="utf-8") as fh:
            fh.write("bad,,\n")
    before = source.read_bytes()
    out = tmp_path / "in.out" if side else source
    args = ["solve", str(source), "--out", str(out), "--workers", "1"] + (["--skip-invalid"] if side else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "also an input" in result.output and str(source) in _text(result)
    assert source.read_bytes() == before


def test_score_refuses_json_onto_gold_and_synth_refuses_out_onto_avoid(tmp_path):
    gold = _first_rows(tmp_path)
    before = gold.read_bytes()
    preds = tmp_path / "p.csv"
    preds.write_text("id,answer\n", encoding="utf-8")
    result = runner.invoke(app, ["score", str(gold), str(preds), "--json", str(gold)])
    assert result.exit_code == 2 and "also an input" in result.output
    result = runner.invoke(
        app, ["synth", "--n", "1", "--out", str(gold), "--avoid", str(gold), "--workers", "1"]
    )
    assert result.exit_code == 2 and "also an input" in result.output
    assert gold.read_bytes() == before


def test_traces_refuses_a_rejected_side_file_onto_its_input(tmp_path):
    source = _first_rows(tmp_path)
    source = source.rename(tmp_path / "t.rejected.csv")
    before = source.read_bytes()
    result = runner.invoke(app, ["traces", str(source), "--out", str(tmp_path / "t.jsonl"), "--workers", "1"])
    assert result.exit_code == 2 and "also an input" in result.output, result.output
    assert source.read_bytes() == before


def test_pack_refuses_to_write_onto_the_adapters_own_weights(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    weights = adapter / "adapter_model.safetensors"
    weights.write_bytes(b"weights")
    result = runner.invoke(app, ["submit", "pack", str(adapter), "--out", str(weights)])
    assert result.exit_code == 2 and "also an input" in result.output, result.output
    assert weights.read_bytes() == b"weights"


def test_the_same_file_under_another_name_is_an_input_too(tmp_path):
    source = _first_rows(tmp_path)
    (tmp_path / "link.csv").symlink_to(source)
    with pytest.raises(OutputPathError, match="also an input"):
        check_outputs([tmp_path / "sub" / ".." / "link.csv"], [source])


@pytest.mark.parametrize("where", ["inside_a_file", "a_directory"])
def test_unwritable_outputs_are_refused_at_the_start_with_their_path(tmp_path, monkeypatch, where):
    source = _first_rows(tmp_path)
    out = source / "out.csv" if where == "inside_a_file" else tmp_path
    import reasonlab.cli.puzzles as commands

    def must_not_run(*args, **kwargs):
        raise AssertionError("the solvers ran before the output path was checked")

    monkeypatch.setattr(commands, "solve_many", must_not_run)
    result = runner.invoke(app, ["solve", str(source), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert str(out) in _text(result) and "Traceback" not in result.output


# --- writes are atomic: an interrupted writer leaves no output that looks complete ----------------


class Interrupted(Exception):
    pass


def _rows_then_interrupt(rows):
    yield from rows
    raise Interrupted


def test_interrupted_writers_leave_no_output_and_no_stray_file(tmp_path):
    solved = list(solve_many(read_puzzles(sample_csv()).puzzles[:3], workers=1))
    puzzles = read_puzzles(sample_csv()).puzzles[:3]
    for path, write in [
        (tmp_path / "solutions.csv", lambda p: write_solutions(_rows_then_interrupt(solved), p)),
        (tmp_path / "puzzles.csv", lambda p: write_puzzles_csv(_rows_then_interrupt(puzzles), p)),
        # the second record cannot be serialised: the writer fails half-way through the file
        (tmp_path / "records.jsonl", lambda p: write_records([{"id": "a"}, {"id": object()}], p)),
    ]:
        with pytest.raises((Interrupted, TypeError)):
            write(path)
        assert not path.exists(), path
    assert list(tmp_path.iterdir()) == []  # no partial file left either (the writer raised, not died)


def test_a_killed_writer_leaves_only_a_hidden_partial_file(tmp_path):
    out = tmp_path / "data.jsonl"
    script = textwrap.dedent(f"""
        import os, signal
        from reasonlab.outputs import atomic_output
        with atomic_output({str(out)!r}) as fh:
            fh.write('{{"id": "1"}}\\n')
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(SRC)})
    assert not out.exists()
    assert [p.name.startswith(".data.jsonl.partial-") for p in tmp_path.iterdir()] == [True]


def test_atomic_output_replaces_an_existing_file_only_at_the_end(tmp_path):
    out = tmp_path / "o.txt"
    out.write_text("old")
    with atomic_output(tmp_path / "new.txt") as fh:
        fh.write("new")
    with atomic_output(out) as fh:
        fh.write("new")
        assert out.read_text() == "old"
    assert out.read_text() == "new"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert (tmp_path / "new.txt").stat().st_mode == plain.stat().st_mode  # the usual mode, not private


def test_training_refuses_a_truncated_parquet_file(tmp_path):
    pytest.importorskip("pyarrow")
    from reasonlab.training.data import DataError, read_rows

    path = tmp_path / "sft.parquet"
    write_records(
        [{"id": str(i), "family": "bit", "subtype": None, "answer": "1", "messages": []} for i in range(50)],
        path,
    )
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match="sft.parquet"):
        read_rows(path)


# --- worker pools die with their parent --------------------------------------------------------

_STALLED_POOL = """
import multiprocessing, sys, threading, time
import reasonlab.puzzles.solve as solve_module
import reasonlab.synth.check as check_module
import reasonlab.synth.generate as generate_module
from reasonlab.puzzles.types import Puzzle

def stall(*args):
    time.sleep(120)

def report_workers():
    while len(multiprocessing.active_children()) < 2:
        time.sleep(0.05)
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)

threading.Thread(target=report_workers, daemon=True).start()
puzzles = [Puzzle(str(i), "In Alice's Wonderland, numbers are secretly converted into a different numeral system. Some examples are given below:\\n1 -> I\\nNow, write the number 2 in the Wonderland numeral system.", "II") for i in range(64)]
entry = sys.argv[1]
if entry == "solve":
    solve_module._solve_chunk = stall
    list(solve_module.solve_many(puzzles, workers=2, chunk_size=1))
elif entry == "trace":
    check_module._trace_chunk = stall
    list(check_module.trace_many(puzzles, workers=2, chunk_size=1))
else:
    generate_module._traced_chunk = stall
    mixture = generate_module.Mixture.resolve(None)
    next(generate_module.iter_traced(0, mixture, workers=2))
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("entry", ["solve", "trace", "synth"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_pool_workers_die_with_their_parent(tmp_path, entry, signum):
    parent = subprocess.Popen(
        [sys.executable, "-c", _STALLED_POOL, entry],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) >= 2
        parent.send_signal(signum)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in workers if _alive(pid)]
    finally:
        parent.kill()
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], f"workers outlived a {signal.Signals(signum).name}ed parent"


# --- CSV: CRLF inside prompts, fields over 128 KiB ---------------------------------------------


def test_crlf_line_endings_inside_prompts_are_normalised(tmp_path):
    puzzles = read_puzzles(sample_csv()).puzzles
    path = tmp_path / "crlf.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["id", "prompt", "answer"])
        for p in puzzles:
            writer.writerow([p.id, p.prompt.replace("\n", "\r\n"), p.answer])
    crlf = read_puzzles(path).puzzles
    assert [p.prompt for p in crlf] == [p.prompt for p in puzzles]
    plain = [r.solution.answer for r in solve_many(puzzles, workers=1)]
    assert [r.solution.answer for r in solve_many(crlf, workers=1)] == plain


@pytest.mark.parametrize("size", [200_000, 20_000_000])
def test_a_huge_field_works_or_is_a_clear_row_error(tmp_path, size):
    prompt = read_puzzles(sample_csv()).puzzles[0].prompt
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "prompt", "answer"])
        writer.writerow(["a", prompt, "1"])
        writer.writerow(["b", prompt + " " * size, "1"])
    if size < 1_000_000:  # longer than csv's default 128 KiB limit, shorter than a model's context
        assert len(read_puzzles(path).puzzles[1].prompt) > size
    else:
        line = prompt.count("\n") + 3  # where record b starts
        with pytest.raises(PuzzleFileError, match=rf"big\.csv, line {line}: .*field larger than field limit"):
            read_puzzles(path)
        result = runner.invoke(app, ["solve", str(path), "--out", str(tmp_path / "o.csv")])
        assert result.exit_code == 2 and f"line {line}" in result.output and "Traceback" not in result.output


# --- duplicate ids in prediction files: one rule, a warning ------------------------------------


def test_duplicate_prediction_ids_keep_the_first_record_in_csv_and_jsonl_alike(tmp_path):
    as_csv = tmp_path / "p.csv"
    as_csv.write_text("id,answer\na,1\nb,2\na,3\n", encoding="utf-8")
    as_jsonl = tmp_path / "p.jsonl"
    as_jsonl.write_text(
        "".join(json.dumps({"id": i, "answer": a}) + "\n" for i, a in [("a", "1"), ("b", "2"), ("a", "3")]),
        encoding="utf-8",
    )
    for path in (as_csv, as_jsonl):
        with pytest.warns(DuplicatePredictionWarning, match=r"1 later record.*: a"):
            assert read_predictions(path) == {"a": "1", "b": "2"}


# --- error text is literal ---------------------------------------------------------------------


def test_error_text_keeps_its_brackets(tmp_path):
    missing = tmp_path / "[bold]runs[/bold]" / "data[1].csv"
    result = runner.invoke(app, ["solve", str(missing), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "[bold]runs[/bold]/data[1].csv" in _text(result)
    out = tmp_path / "[red]preds[/red].csv"
    result = runner.invoke(app, ["solve", str(_first_rows(tmp_path)), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0 and "[red]preds[/red].csv" in _text(result)


# --- truncated completions are never correct ---------------------------------------------------


def test_truncated_completions_are_never_correct():
    from reasonlab.inference.base import FINISH_LENGTH, GenerationSettings, Request
    from reasonlab.inference.solver import SolverBackend, solver_completion
    from reasonlab.scoring.rows import StoredCompletion
    from reasonlab.tracks.evaluation import score_completion
    from reasonlab.tracks.wonderland import wonderland_task

    puzzle = read_puzzles(sample_csv()).puzzles[0]
    full = solver_completion(puzzle.prompt)
    request = Request(
        id=puzzle.id, messages=[{"role": "user", "content": puzzle.prompt}], puzzle=puzzle.prompt
    )
    (completion,) = SolverBackend().generate([request], GenerationSettings(max_tokens=5))
    assert completion.finish_reason == FINISH_LENGTH and completion.completion_tokens == 5
    assert full.startswith(completion.text) and "\\boxed" not in completion.text
    task = wonderland_task(sample_csv())
    (asked,) = [r for r in task.requests() if r.id == puzzle.id]
    record = {"id": puzzle.id, "completion": full, "finish_reason": FINISH_LENGTH, "completion_tokens": 9000}
    row = score_completion(task, asked, StoredCompletion.from_record(record))
    assert not row.correct and row.score == 1.0  # the task's scorer accepts the answer; the cut does not
    finished = StoredCompletion.from_record({**record, "finish_reason": "stop"})
    assert score_completion(task, asked, finished).correct  # the same text, finished, is correct


# --- compare refuses runs with no common rows --------------------------------------------------


def test_compare_refuses_runs_with_no_common_rows(tmp_path):
    from reasonlab.runs.evaluate import load_eval_config, run_eval

    for name, family in (("a", "numeral"), ("b", "gravity")):
        config = load_eval_config(None, ["backend.kind=solver", f"data.families=[{family}]", "data.limit=2"])
        run_eval(config, tmp_path / name)
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code != 0
    assert "no common rows" in _text(result)


# --- no machine-specific paths -----------------------------------------------------------------

_MACHINE_PATH = re.compile(r"(?<![\w.$}])/(?:work|root|home/\w+|Users/\w+|mnt|opt/\w+)/")


def test_no_machine_specific_paths_in_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    hits = []
    for name in tracked:
        path = REPO / name
        if path.suffix not in {".py", ".yaml", ".yml", ".toml", ".md", ".sh", ".cfg", ".txt", ""}:
            continue
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if _MACHINE_PATH.search(line) and "_MACHINE_PATH" not in line:
                hits.append(f"{name}:{number}: {line.strip()}")
    assert hits == []


def test_a_csv_cut_mid_prompt_is_refused_not_read_short(tmp_path):
    whole = _first_rows(tmp_path).read_text(encoding="utf-8")
    cut = tmp_path / "cut.csv"
    cut.write_text(
        whole[: whole.index("\n", whole.index('"') + 1)], encoding="utf-8"
    )  # inside the 1st prompt
    with pytest.raises(PuzzleFileError, match="unexpected end of data"):
        read_puzzles(cut)
