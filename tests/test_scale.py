"""Fan-out over a real local Ray cluster (2 CPUs) gives the local run's predictions, in the same order."""

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

    from reasonlab.runs.scale import ray_session

    def pid() -> int:
        return os.getpid()

    with ray_session() as session:
        pids = session.get([session.remote(pid).remote() for _ in range(4)])
    assert os.getpid() not in pids
