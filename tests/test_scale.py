"""Fan-out over a real local Ray cluster (2 CPUs) gives the local run's outputs, in the same order: solve's
predictions, synth's files byte for byte, eval's completions."""

from __future__ import annotations

import csv

import pytest

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return [(r["id"], r["answer"], r["family"], r["status"]) for r in csv.DictReader(handle)]


def test_solve_on_ray_gives_the_local_predictions(cluster, tmp_path):
    from typer.testing import CliRunner

    from reasonlab.cli.main import app
    from reasonlab.cli.puzzles import sample_csv

    runner = CliRunner()
    local = runner.invoke(
        app, ["solve", str(sample_csv()), "--out", str(tmp_path / "local.csv"), "--workers", "1"]
    )
    assert local.exit_code == 0, local.output
    fanned = runner.invoke(
        app, ["solve", str(sample_csv()), "--out", str(tmp_path / "ray.csv"), "--ray", "local"]
    )
    assert fanned.exit_code == 0, fanned.output
    assert "Ray local" in fanned.output
    rows = _rows(tmp_path / "ray.csv")
    assert rows == _rows(tmp_path / "local.csv") and len(rows) > 10
    assert {family for _, _, family, _ in rows} >= {"bit", "cipher", "equation", "gravity", "numeral", "unit"}


def test_ray_tasks_ran_in_other_processes(cluster):
    import os

    from reasonlab.workers import ray_session

    def pid() -> int:
        return os.getpid()

    with ray_session() as session:
        pids = session.get([session.remote(pid).remote() for _ in range(4)])
    assert os.getpid() not in pids


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_synth_on_ray_writes_the_local_bytes(cluster, tmp_path, suffix):
    from typer.testing import CliRunner

    from reasonlab.cli.main import app
    from reasonlab.cli.puzzles import sample_csv

    runner = CliRunner()
    # 450 rows: three chunks of 200, so the order of chunks coming back from Ray matters
    common = ["synth", "--n", "450", "--seed", "7", "--tokenizer", "none", "--avoid", str(sample_csv())]
    common += ["--mix", "gravity=1,unit=1,cipher=1,numeral=1"]
    local = runner.invoke(app, [*common, "--out", str(tmp_path / f"local{suffix}"), "--workers", "1"])
    assert local.exit_code == 0, local.output
    fanned = runner.invoke(app, [*common, "--out", str(tmp_path / f"ray{suffix}"), "--ray", "local"])
    assert fanned.exit_code == 0, fanned.output
    assert "Ray local" in fanned.output
    written = (tmp_path / f"ray{suffix}").read_bytes()
    assert written == (tmp_path / f"local{suffix}").read_bytes() and written.count(b"\n") >= 450


def _completions(run_dir) -> list[tuple]:
    import json

    lines = (run_dir / "completions.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    return sorted((r["id"], r["completion"], r["answer"], r["completion_tokens"]) for r in rows if "id" in r)


def test_eval_on_ray_gives_the_local_completions(cluster, tmp_path):
    from reasonlab.runs.evaluate import load_eval_config, run_eval

    # the solver backend over the built-in sample rows (96 rows: six tasks of 16, two replicas)
    settings = ["data.path=sample", "backend.kind=solver", "generation.max_tokens=7680", "report=false"]
    local = run_eval(load_eval_config(None, settings), tmp_path / "local")
    fanned = run_eval(load_eval_config(None, [*settings, "backend.ray=local"]), tmp_path / "ray")
    assert fanned.metrics["overall"]["accuracy"] == local.metrics["overall"]["accuracy"] > 0.5
    completions = _completions(tmp_path / "ray")
    assert (
        completions == _completions(tmp_path / "local")
        and len(completions) == fanned.metrics["overall"]["rows"]
    )
