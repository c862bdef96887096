"""Configs with overrides, stable hashes, run directories that refuse to mix experiments."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from reasonlab.runs.config import ConfigError, config_hash, load_config, parse_overrides
from reasonlab.runs.rundir import RunDirError, open_run_dir


class Inner(BaseModel):
    max_tokens: int = 16
    temperature: float = 0.0


class Example(BaseModel):
    name: str = "x"
    flags: list[str] = []
    inner: Inner = Inner()


def test_overrides_are_typed_and_nested():
    assert parse_overrides(["inner.max_tokens=64", "name=abc", "flags=[a, b]", "x.y.z=null"]) == {
        "inner": {"max_tokens": 64},
        "name": "abc",
        "flags": ["a", "b"],
        "x": {"y": {"z": None}},
    }
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["oops"])


def test_yaml_then_overrides_then_validation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: from-file\ninner:\n  temperature: 0.5\n", encoding="utf-8")
    config = load_config(Example, path, ["inner.max_tokens=8"])
    assert (config.name, config.inner.temperature, config.inner.max_tokens) == ("from-file", 0.5, 8)
    with pytest.raises(ConfigError, match=r"inner\.max_tokens"):
        load_config(Example, path, ["inner.max_tokens=lots"])


def test_bad_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: a\ninner: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml, line \d"):
        load_config(Example, path)


def test_hash_depends_on_settings_not_on_order_or_excluded_keys():
    a = Example(name="a", inner=Inner(max_tokens=3))
    assert config_hash(a) == config_hash(Example.model_validate({"inner": {"max_tokens": 3}, "name": "a"}))
    assert config_hash(a) != config_hash(Example(name="b", inner=Inner(max_tokens=3)))
    assert config_hash(a, exclude=("name",)) == config_hash(
        Example(name="b", inner=Inner(max_tokens=3)), exclude=("name",)
    )


def test_run_dir_records_and_refuses_another_config(tmp_path):
    run = open_run_dir(tmp_path / "run", "eval", Example(), seed=7)
    record = json.loads((run.path / "run.json").read_text())
    assert record["seed"] == 7 and record["config_hash"] == run.config_hash
    assert "packages" in json.loads((run.path / "environment.json").read_text())
    assert "name: x" in (run.path / "config.yaml").read_text()
    again = open_run_dir(tmp_path / "run", "eval", Example(), seed=7)
    assert again.config_hash == run.config_hash
    assert json.loads((run.path / "run.json").read_text())["resumed"] == 1
    with pytest.raises(RunDirError, match="another config"):
        open_run_dir(tmp_path / "run", "eval", Example(name="other"))


class Grown(Example):
    """``Example`` after a release added an option, at a default that changes nothing."""

    verbose: bool = False


def test_a_run_recorded_before_an_option_was_added_resumes_and_a_changed_setting_still_does_not(tmp_path):
    older = open_run_dir(tmp_path / "run", "eval", Example(name="a"))
    # Today's schema hashes the new option too, so the recorded hash no longer matches...
    assert config_hash(Grown(name="a")) != older.config_hash
    # ...but the recorded settings, read by today's schema, are the same ones: the run resumes, under the
    # hash its stored rows carry.
    for resumed_count in (1, 2):
        resumed = open_run_dir(tmp_path / "run", "eval", Grown(name="a"))
        record = json.loads((resumed.path / "run.json").read_text())
        assert record["config_hash"] == resumed.config_hash == older.config_hash
        assert record["resumed"] == resumed_count
    for changed in (Grown(name="b"), Grown(name="a", verbose=True)):
        with pytest.raises(RunDirError, match="another config"):
            open_run_dir(tmp_path / "run", "eval", changed)


def test_identity_leaves_out_what_may_change_between_sessions(tmp_path):
    def identity(config: Example) -> dict:
        return {"name": config.name}

    run = open_run_dir(tmp_path / "run", "eval", Example(flags=["a"]), identity=identity)
    assert open_run_dir(tmp_path / "run", "eval", Example(flags=["b"]), identity=identity).path == run.path
    with pytest.raises(RunDirError, match="another config"):
        open_run_dir(tmp_path / "run", "eval", Example(name="y"), identity=identity)
