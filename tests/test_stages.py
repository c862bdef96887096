"""Cached stages (reasonlab.runs.stages): skipped when complete under the same key, resumed in place after a
crash, started afresh when their settings or inputs changed or they are forced, downstream included."""

from __future__ import annotations

import pytest

from reasonlab.runs.stages import STAGE_FILE, Stage, StageStatus, downstream, read_marker, run_stages


def _chain(settings: dict[str, int], calls: list[str], crash: str | None = None) -> list[Stage]:
    """a -> b -> c, plus d reading a only; each writes a file counting its runs in its folder."""

    def runner(name: str):
        def run(folder, inputs):
            calls.append(name)
            runs = folder / "runs.txt"
            runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
            if name == crash:
                raise RuntimeError(f"{name} killed")
            return {"value": settings[name] + sum(result["value"] for result in inputs.values())}

        return run

    reads = {"a": (), "b": ("a",), "c": ("b",), "d": ("a",)}
    return [Stage(name, {"n": settings[name]}, runner(name), reads[name]) for name in "abcd"]


def _statuses(stages, run_dir, **options) -> dict[str, StageStatus]:
    seen: dict[str, StageStatus] = {}
    run_stages(
        stages, run_dir, on_stage=lambda stage, status: seen.__setitem__(stage.name, status), **options
    )
    return seen


def test_a_complete_stage_is_skipped_and_a_changed_one_reruns_with_what_reads_it(tmp_path):
    settings, calls = {"a": 1, "b": 2, "c": 3, "d": 4}, []
    results = run_stages(_chain(settings, calls), tmp_path)
    assert results == {"a": {"value": 1}, "b": {"value": 3}, "c": {"value": 6}, "d": {"value": 5}}
    assert _statuses(_chain(settings, calls), tmp_path) == dict.fromkeys("abcd", StageStatus.CACHED)
    assert calls == list("abcd")
    calls.clear()
    changed = _statuses(_chain({**settings, "b": 20}, calls), tmp_path)
    assert calls == ["b", "c"]
    assert changed == {"a": "cached", "b": "running", "c": "running", "d": "cached"}
    # A stage run again under new settings starts from an empty folder: nothing of the old run is left.
    assert (tmp_path / "b" / "runs.txt").read_text() == "x"
    assert read_marker(tmp_path / "c")["result"] == {"value": 24}


def test_a_crashed_stage_resumes_in_its_folder_after_the_last_complete_one(tmp_path):
    settings, calls = {"a": 1, "b": 2, "c": 3, "d": 4}, []
    with pytest.raises(RuntimeError, match="b killed"):
        run_stages(_chain(settings, calls, crash="b"), tmp_path)
    assert read_marker(tmp_path / "a")["complete"] and not read_marker(tmp_path / "b")["complete"]
    assert not (tmp_path / "c").exists()
    calls.clear()
    statuses = _statuses(_chain(settings, calls), tmp_path)
    assert statuses == {"a": "cached", "b": "resumed", "c": "running", "d": "running"}
    assert calls == ["b", "c", "d"]
    # Resumed, not restarted: the folder still holds what the crashed attempt wrote.
    assert (tmp_path / "b" / "runs.txt").read_text() == "xx"


def test_force_reruns_a_stage_and_everything_downstream(tmp_path):
    settings, calls = {"a": 1, "b": 2, "c": 3, "d": 4}, []
    stages = _chain(settings, calls)
    run_stages(stages, tmp_path)
    calls.clear()
    assert downstream(stages, ["b"]) == {"b", "c"}
    assert _statuses(stages, tmp_path, force=["b"]) == {
        "a": "cached",
        "b": "running",
        "c": "running",
        "d": "cached",
    }
    assert calls == ["b", "c"]
    with pytest.raises(ValueError, match="no stage e"):
        run_stages(stages, tmp_path, force=["e"])


def test_a_marker_is_written_whole(tmp_path):
    run_stages(_chain({"a": 1, "b": 2, "c": 3, "d": 4}, []), tmp_path)
    marker = read_marker(tmp_path / "c")
    assert marker["complete"] and marker["inputs"] == {"b": read_marker(tmp_path / "b")["key"]}
    assert not list(tmp_path.rglob(f"{STAGE_FILE}.tmp"))
