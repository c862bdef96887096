"""The run directory: one folder per run, the same layout for every command.

RUN_DIR/
  config.yaml        the resolved config (after overrides)
  run.json           command, config hash, seed, start time
  environment.json   packages, device (once the model is loaded), git commit
  ...                the command's own outputs (completions.jsonl, metrics.json, adapter/, ...)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonlab.runs.config import Config, ConfigError, config_hash, dump_yaml, load_config
from reasonlab.runs.environment import capture_environment, device

CONFIG_FILE = "config.yaml"
RUN_FILE = "run.json"
ENVIRONMENT_FILE = "environment.json"


class RunDirError(ValueError):
    pass


def default_run_dir(command: str, root: str | Path = "runs") -> Path:
    """``runs/<command>-<UTC time>``, unique within the second by a numeric suffix."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = Path(root) / f"{command}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


@dataclass(frozen=True)
class RunDir:
    path: Path
    config_hash: str

    def file(self, name: str) -> Path:
        return self.path / name

    def record_device(self) -> None:
        """Write the accelerator into environment.json once the run's model is loaded (torch imported)."""
        seen = device()
        path = self.file(ENVIRONMENT_FILE)
        if seen is None or not path.is_file():
            return
        environment = json.loads(path.read_text(encoding="utf-8"))
        if environment.get("device") != seen:
            write_json_atomic(path, {**environment, "device": seen})


def open_run_dir(
    path: str | Path,
    command: str,
    config: Config,
    *,
    seed: int | None = None,
    identity: Callable[[Config], Mapping[str, Any] | Config] | None = None,
) -> RunDir:
    """Create (or reopen, to resume) a run directory and record config, seed and environment.

    ``identity`` gives the settings of a config that define the run's results (default: the whole config);
    reopening with a different identity is refused, since a run directory holds one experiment. Settings
    outside it (how many rows, batch sizes, report options) may change between sessions.
    """
    path = Path(path)
    identity_of = identity or (lambda settings: settings)
    digest = config_hash(identity_of(config))
    run_file = path / RUN_FILE
    if run_file.is_file():
        previous = json.loads(run_file.read_text(encoding="utf-8"))
        if previous.get("config_hash") != digest:
            if not _recorded_settings_match(path, config, identity_of, digest):
                raise RunDirError(
                    f"{path} holds a run with another config (hash {previous.get('config_hash')}, now "
                    f"{digest}); choose a new --out or restore the same settings to resume"
                )
            # The same settings, hashed before an option was added: the run keeps the hash that its
            # stored rows carry, so that they still count.
            digest = previous["config_hash"]
        previous["resumed"] = previous.get("resumed", 0) + 1
        write_json_atomic(run_file, previous)
    else:
        path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            run_file,
            {
                "command": command,
                "config_hash": digest,
                "seed": seed,
                "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        )
    (path / CONFIG_FILE).write_text(dump_yaml(config), encoding="utf-8")
    write_json_atomic(path / ENVIRONMENT_FILE, capture_environment())
    return RunDir(path, digest)


def _recorded_settings_match(
    path: Path, config: Config, identity_of: Callable[[Config], Mapping[str, Any] | Config], digest: str
) -> bool:
    """Whether the run's recorded config, read by today's schema, has ``config``'s identity: a hash
    recorded before an option was added (at its default) then differs although no setting did."""
    try:
        recorded = load_config(type(config), path / CONFIG_FILE)
    except (ConfigError, OSError):
        return False
    return config_hash(identity_of(recorded)) == digest
