"""Extension points: typed protocols checked at registration, entry-point plugins, and the example plugin
package installed into a fresh virtualenv and used through the ordinary CLI (plugins list, synth,
augment, solve, eval, train grpo)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reasonlab.inference.factory import BackendConfig
from reasonlab.plugins import PluginError, Registry
from reasonlab.puzzles.families import (
    FAMILY_NAMES,
    Family,
    Generator,
    Preparable,
    SolvedGenerator,
    Traceable,
    get_family,
)
from reasonlab.puzzles.trace_style import Tracer

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "reasonlab-plugin-example"

BROKEN_FAMILY = '''
class HalfFamily:
    """Parses but never solves: breaks the Family protocol."""
    name = "half"
    def matches(self, prompt): return prompt.startswith("Half:")
    def parse(self, prompt): return prompt
    def subtype(self, instance): return None

FAMILY = HalfFamily()

class Tracer:
    family, style, step_kinds = "bit", "stepwise", ()
    def trace(self, instance): return None
    def replay(self, instance, text): return ""

MISNAMED_TRACER = Tracer()
'''


def fake_distribution(root: Path, name: str, entry_points: str, module: str) -> Path:
    """An installed distribution as importlib.metadata finds it on sys.path: a module and a dist-info."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name.replace('-', '_')}.py").write_text(module)
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return root


def test_family_abilities_are_protocols():
    families = {name: get_family(name) for name in FAMILY_NAMES}
    assert all(isinstance(f, Family) and isinstance(f, Generator) for f in families.values())
    assert all(isinstance(f, Traceable) for f in families.values())
    solved = {name for name, f in families.items() if isinstance(f, SolvedGenerator)}
    assert solved == {"bit", "equation"}  # the generators that hand over their own rule
    assert {name for name, f in families.items() if isinstance(f, Preparable)} == {"bit", "equation"}
    assert not isinstance(object(), Family)


def test_a_broken_plugin_is_refused_naming_it(tmp_path, monkeypatch):
    root = fake_distribution(
        tmp_path / "site",
        "broken-plugin",
        "[reasonlab.families]\nhalf = broken_plugin:FAMILY\nbit = broken_plugin:FAMILY\n"
        "[reasonlab.trace_styles]\nhalf.stepwise = broken_plugin:MISNAMED_TRACER\n",
        BROKEN_FAMILY,
    )
    monkeypatch.syspath_prepend(str(root))
    families = Registry("families", Family, {"bit": "reasonlab.puzzles.families.bit:FAMILY"})
    with pytest.raises(PluginError, match=r"'bit' from plugin broken-plugin 0\.1 .* clashes .* built-in"):
        families.names()

    families = Registry("families", Family, {})
    assert families.registration("half").source == "plugin broken-plugin 0.1"
    with pytest.raises(PluginError) as refused:
        families.get("half")
    assert str(refused.value) == (
        "families entry 'half' from plugin broken-plugin 0.1 (broken_plugin:FAMILY) "
        "does not satisfy the Family protocol: missing solve"
    )
    from reasonlab.puzzles.trace_style import _tracer_matches

    tracers = Registry("trace_styles", Tracer, {}, check=_tracer_matches)
    with pytest.raises(PluginError, match=r"'half.stepwise' from plugin broken-plugin 0\.1 .*bit\.stepwise"):
        tracers.get("half.stepwise")


def test_the_cli_names_a_broken_plugin(tmp_path):
    root = fake_distribution(
        tmp_path / "site",
        "broken-plugin",
        "[reasonlab.families]\nhalf = broken_plugin:FAMILY\n",
        BROKEN_FAMILY,
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(root)])}
    listed = _run([sys.executable, "-m", "reasonlab", "plugins", "list"], env, check=False)
    assert listed.returncode == 1
    assert "'half' from plugin broken-plugin 0.1" in listed.stderr and "missing solve" in listed.stderr
    synth = [sys.executable, "-m", "reasonlab", "synth", "--n", "2", "--mix", "half=1"]
    refused = _run([*synth, "--out", str(tmp_path / "x.csv")], env, check=False)
    assert refused.returncode == 2 and "plugin broken-plugin 0.1" in refused.stderr


TASK_MODULE = """
from reasonlab.tracks import EvalRequest, Scored

class Echo:
    name, track = "echo", "logic"
    def requests(self, limit=None, fewshot=None):
        return [EvalRequest("echo/0", "echo", "logic", [{"role": "user", "content": "Say 7."}], "7")][:limit]
    def extract(self, request, completion): return completion.strip()
    def score(self, request, completion):
        answer = self.extract(request, completion)
        return Scored(answer, float(answer == request.gold))

class Unscored:
    name, track = "unscored", "logic"
    def requests(self, limit=None, fewshot=None): return []
    def extract(self, request, completion): return completion

ECHO, UNSCORED = Echo(), Unscored()
"""


def test_plugin_tasks_are_checked_against_the_task_protocol(tmp_path, monkeypatch):
    from reasonlab.tracks import TASKS, EvalTask

    # The process-wide registry reads the entry points once: ask it before the fake plugin is on the path,
    # so the plugin's entries never leak into later tests of this session.
    assert isinstance(TASKS.get("gsm8k"), EvalTask)
    entries = "[reasonlab.tasks]\necho = task_plugin:ECHO\nunscored = task_plugin:UNSCORED\n"
    monkeypatch.syspath_prepend(str(fake_distribution(tmp_path, "task-plugin", entries, TASK_MODULE)))
    tasks = Registry("tasks", EvalTask, {})
    echo = tasks.get("echo")
    (request,) = echo.requests()
    assert echo.score(request, " 7 ").correct and not echo.score(request, "8").correct
    with pytest.raises(PluginError, match="'unscored' from plugin task-plugin 0.1 .* missing score"):
        tasks.get("unscored")
    assert "echo" not in TASKS


def test_backend_kinds_are_registered_names():
    assert BackendConfig(kind="solver").kind == "solver"
    with pytest.raises(ValueError, match="unknown backend 'echo'; known: hf, vllm, openai, solver"):
        BackendConfig(kind="echo")


def _run(command: list[str], env: dict[str, str], cwd: Path | None = None, check: bool = True):
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh virtualenv (system site packages: torch and friends) with only the example plugin
    installed into it, and reasonlab from this checkout's sources."""
    pytest.importorskip("setuptools")
    pytest.importorskip("pip")
    root = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(EXAMPLE, root / "source")  # the build writes beside the sources
    # --without-pip: the virtualenv's own seeded setuptools would shadow the system's wheel-building one.
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root / "venv")], {})
    python = root / "venv" / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    install = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(source)]
    _run(install, env)
    return python, env


def test_example_plugin_through_the_cli(plugin_python, tmp_path):
    python, env = plugin_python
    reasonlab = [str(python), "-m", "reasonlab"]

    listed = [
        json.loads(line) for line in _run([*reasonlab, "plugins", "list", "--json"], env).stdout.splitlines()
    ]
    by_name = {(row["kind"], row["name"]): row for row in listed}
    assert all(row["problem"] is None for row in listed)
    plugin = "plugin reasonlab-plugin-example 0.1.0"
    for key in [
        ("families", "abacus"),
        ("trace_styles", "abacus.stepwise"),
        ("backends", "dormouse"),
        ("rewards", "digit_match"),
        ("augmentations", "abacus-reorder"),
    ]:
        assert by_name[key]["source"] == plugin, key
    assert by_name[("families", "bit")]["source"] == by_name[("backends", "hf")]["source"] == "built-in"
    assert ("tasks", "gsm8k") in by_name and ("rewards", "correctness") in by_name

    records, puzzles = tmp_path / "abacus.jsonl", tmp_path / "abacus.csv"
    for out in (records, puzzles):
        synth = ["synth", "--n", "8", "--mix", "abacus=1", "--tokenizer", "none", "--workers", "1"]
        _run([*reasonlab, *synth, "--out", str(out)], env)
    rows = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(rows) == 8 and {row["family"] for row in rows} == {"abacus"}
    for row in rows:  # each record's trace was replayed by the plugin's tracer before it was kept
        assistant = row["messages"][-1]["content"]
        assert assistant.count("(mod 10)") == len(row["answer"]) + 1
        assert f"\\boxed{{{row['answer']}}}" in assistant

    gold = {row["id"]: row["answer"] for row in csv.DictReader(puzzles.open())}
    augmented = tmp_path / "augmented.csv"
    _run([*reasonlab, "augment", str(puzzles), "--with", "abacus-reorder", "--out", str(augmented)], env)
    originals = {row["id"]: row for row in csv.DictReader(puzzles.open())}
    variants = [row for row in csv.DictReader(augmented.open()) if row["id"] not in originals]
    assert variants and all(row["id"].endswith("-abacus-reorder") for row in variants)
    for variant in variants:  # the same examples in another order, the same answer
        original = originals[variant["id"].removesuffix("-abacus-reorder")]
        assert variant["prompt"] != original["prompt"] and variant["answer"] == original["answer"]
        assert sorted(variant["prompt"].splitlines()) == sorted(original["prompt"].splitlines())
    _run([*reasonlab, "solve", str(puzzles), "--out", str(tmp_path / "preds.csv")], env)
    predicted = {row["id"]: row["answer"] for row in csv.DictReader((tmp_path / "preds.csv").open())}
    assert predicted == gold

    run = tmp_path / "eval"
    overrides = [f"data.path={puzzles}", "backend.kind=dormouse", "generation.max_tokens=512"]
    _run([*reasonlab, "eval", *overrides, "--out", str(run)], env)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["overall"]["rows"] == 8 and metrics["overall"]["accuracy"] == 1.0
    assert set(metrics["by_family"]) == {"abacus"}

    config = tmp_path / "grpo.yaml"
    config.write_text(
        f"data: {{train: [{puzzles}]}}\nlora: {{r: 4, alpha: 8, targets: attention}}\n"
        "tracking: {mlflow: false, tensorboard: false, rich_progress: false}\n"
        "train: {max_steps: 1, batch_size: 4, num_generations: 4, max_completion_length: 8,"
        " logging_steps: 1, rewards: [{name: digit_match, options: {exact_bonus: 1.0}}]}\n"
    )
    _run([*reasonlab, "train", "grpo", str(config), "--out", str(tmp_path / "grpo")], env)
    log = json.loads((tmp_path / "grpo" / "train_metrics.json").read_text())["log"]
    assert "rewards/digit_match_reward/mean" in log[0]
    assert (tmp_path / "grpo" / "adapter" / "adapter_config.json").is_file()
