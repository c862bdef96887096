"""Run untrusted Python programs (model-written code and its tests) in a separate, confined process.

Every program gets its own process (never ``exec`` in the harness), its own private temporary
directory as cwd, a minimal environment (no variables of the harness, so no secrets), limits on CPU
time, address space, processes and file size, and a wall-time limit after which its whole process group
is killed. Network and file system confinement depend on the privileges the harness has:

- ``isolation == "namespaces"`` (root or CAP_SYS_ADMIN, the usual case in containers and CI): a new
  network namespace with no interface up, a mount namespace where only the work directory is writable,
  a PID namespace whose death takes every descendant with it, and the program runs as ``nobody``.
- ``isolation == "hooks"``: resource limits plus Python audit hooks that refuse sockets, writes outside
  the work directory and signals to other processes. These stop Python code, not native code loaded
  with ``ctypes``; use a privileged container when the programs are truly hostile.

Stdout and stderr go to files bounded by RLIMIT_FSIZE, so huge output costs neither memory nor time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

CHILD = Path(__file__).with_name("_sandbox_child.py")
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
NOBODY = 65534

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
MEMORY_LIMIT = "memory_limit"
OUTPUT_LIMIT = "output_limit"
KILLED = "killed"


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # wall seconds; the CPU limit is derived from it
    memory_mb: int = 1024
    max_processes: int = 16
    file_size_mb: int = 16
    output_chars: int = 2000  # of stdout and of stderr kept in the verdict

    @property
    def cpu_seconds(self) -> int:
        return max(1, int(self.timeout + 0.999))


@dataclass(frozen=True)
class Verdict:
    status: str
    exit_code: int | None
    seconds: float
    stdout: str
    stderr: str
    isolation: str

    @property
    def passed(self) -> bool:
        return self.status == OK

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def _namespaces_possible() -> bool:
    return sys.platform == "linux" and os.geteuid() == 0


def _tail(path: Path, limit: int) -> str:
    """The last ``limit`` characters of a (possibly huge) output file, marked when cut."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 4 * limit))
        text = handle.read().decode("utf-8", errors="replace")
    if size > 4 * limit or len(text) > limit:
        return f"[... {size} bytes, truncated ...]\n" + text[-limit:]
    return text


def _classify(returncode: int, timed_out: bool, stderr: str, output_full: bool) -> str:
    if timed_out or returncode == -signal.SIGXCPU:
        return TIMEOUT
    # Python ignores SIGXFSZ, so a write past RLIMIT_FSIZE usually surfaces as an OSError instead.
    if returncode == -signal.SIGXFSZ or (returncode != 0 and output_full):
        return OUTPUT_LIMIT
    if returncode < 0:
        return KILLED
    if returncode == 0:
        return OK
    return MEMORY_LIMIT if "MemoryError" in stderr else ERROR


def _minimal_environment(workdir: Path) -> dict[str, str]:
    return {
        "PATH": SANDBOX_PATH,
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run_program(source: str, limits: Limits = Limits(), *, isolation: str = "auto") -> Verdict:
    """Run ``source`` as a Python program in a fresh sandbox and report how it ended.

    ``isolation="auto"`` uses namespaces where permitted; ``"hooks"`` forces the weaker fallback.
    """
    if isolation not in ("auto", "hooks"):
        raise ValueError(f"isolation must be 'auto' or 'hooks', not {isolation!r}")
    use_namespaces = isolation == "auto" and _namespaces_possible()
    root = Path(tempfile.mkdtemp(prefix="reasonlab-sandbox-"))
    try:
        workdir = root / "work"
        workdir.mkdir()
        (workdir / "main.py").write_text(source, encoding="utf-8")
        if os.geteuid() == 0:
            # The program runs as nobody: it may enter the root and own its work directory, nothing else.
            root.chmod(0o711)
            os.chown(workdir, NOBODY, NOBODY)
        config = {
            "workdir": str(workdir),
            "program": "main.py",
            "namespaces": int(use_namespaces),
            "cpu_seconds": limits.cpu_seconds,
            "memory_mb": limits.memory_mb,
            "file_size_mb": limits.file_size_mb,
            "max_processes": limits.max_processes,
            "site_packages": os.pathsep.join(site.getsitepackages()),
        }
        stdout_path, stderr_path = root / "stdout", root / "stderr"
        start = time.perf_counter()
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(
                # -S skips the site module's .pth processing (a third of start-up); the child adds the
                # interpreter's site-packages itself.
                [
                    sys.executable,
                    "-I",
                    "-S",
                    str(CHILD),
                    *(f"{key}={value}" for key, value in config.items()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=workdir,
                env=_minimal_environment(workdir),
                start_new_session=True,
                close_fds=True,
            )
            timed_out = False
            try:
                process.wait(timeout=limits.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(process.pid)
                process.wait()
        seconds = time.perf_counter() - start
        stderr = _tail(stderr_path, limits.output_chars)
        output_full = max(stdout_path.stat().st_size, stderr_path.stat().st_size) >= limits.file_size_mb << 20
        return Verdict(
            status=_classify(process.returncode, timed_out, stderr, output_full),
            exit_code=process.returncode,
            seconds=round(seconds, 4),
            stdout=_tail(stdout_path, limits.output_chars),
            stderr=stderr,
            isolation=_isolation_reached(root),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _isolation_reached(root: Path) -> str:
    """What the child set up, as it recorded before running the program ("unknown" if it died first)."""
    try:
        return (root / "isolation").read_text().strip()
    except OSError:
        return "unknown"


def _kill_group(pgid: int) -> None:
    """SIGKILL the sandbox's session: in namespace mode that also ends its PID namespace."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_programs(
    sources: Iterable[str],
    limits: Limits = Limits(),
    workers: int | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[Verdict]:
    """Run many programs, ``workers`` sandboxes at a time (default: one per core), in input order."""

    def run_one(source: str) -> Verdict:
        verdict = run_program(source, limits)
        if on_done:
            on_done()
        return verdict

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(pool.map(run_one, sources))
