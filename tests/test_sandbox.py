"""Hostile programs run in real sandboxed processes: each must be contained and reported."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from reasonlab.scoring.sandbox import ERROR, MEMORY_LIMIT, OK, OUTPUT_LIMIT, TIMEOUT, Limits, run_program

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox uses Linux resource limits")

FAST = Limits(timeout=3.0, memory_mb=256, file_size_mb=4)


@pytest.fixture(params=["auto", "hooks"])
def isolation(request):
    """Each hostile program runs under the strongest isolation available and under the fallback."""
    return request.param


def test_a_correct_program_passes_and_its_output_is_kept():
    verdict = run_program("import collections, re\nprint(sum(range(10)))")
    assert verdict.status == OK and verdict.passed and verdict.exit_code == 0
    assert verdict.stdout == "45\n"


def test_a_failing_assert_is_an_error_with_its_traceback():
    verdict = run_program("assert 1 + 1 == 3, 'arithmetic'")
    assert verdict.status == ERROR and not verdict.passed
    assert "AssertionError: arithmetic" in verdict.stderr


def test_sys_exit_codes_are_reported():
    assert run_program("import sys; sys.exit(3)").exit_code == 3
    assert run_program("exit(0)").passed


def test_infinite_loop_is_killed_at_the_wall_time_limit(isolation):
    verdict = run_program("while True:\n    pass", Limits(timeout=1.0), isolation=isolation)
    assert verdict.status == TIMEOUT
    assert verdict.seconds < 5


def test_a_sleeping_program_is_killed_too():
    verdict = run_program("import time\ntime.sleep(60)", Limits(timeout=1.0))
    assert verdict.status == TIMEOUT and verdict.seconds < 5


def _processes_of(uid: int) -> int:
    return sum(1 for pid in os.listdir("/proc") if pid.isdigit() and _owner(pid) == uid)


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def test_fork_bomb_is_bounded_and_leaves_no_process_behind(isolation):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    verdict = run_program(bomb, FAST, isolation=isolation)
    # bounded by RLIMIT_NPROC (the loop then spins until the wall time), or refused outright when the
    # fallback runs as root, where no process limit applies
    assert verdict.status == TIMEOUT or "starting processes is refused" in verdict.stderr
    if verdict.isolation == "namespaces":
        # every process of the bomb ran as nobody inside a PID namespace that dies with its first process
        deadline = time.monotonic() + 5
        while _processes_of(65534) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_of(65534) == 0


def test_memory_bomb_hits_the_memory_limit(isolation):
    verdict = run_program("block = bytearray(8 * 1024**3)", FAST, isolation=isolation)
    assert verdict.status == MEMORY_LIMIT
    assert "MemoryError" in verdict.stderr


def test_huge_output_hits_the_file_size_limit_and_is_truncated_in_the_verdict(isolation):
    verdict = run_program(
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", FAST, isolation=isolation
    )
    assert verdict.status == OUTPUT_LIMIT
    assert len(verdict.stdout) < FAST.output_chars + 100
    assert "truncated" in verdict.stdout


def test_writing_outside_its_directory_is_refused(tmp_path, isolation):
    tmp_path.chmod(0o777)  # writable by anyone: only the sandbox itself can stop the write
    target = tmp_path / "escaped.txt"
    program = f"open({str(target)!r}, 'w').write('x')\nopen('inside.txt', 'w').write('fine')"
    verdict = run_program(program, FAST, isolation=isolation)
    assert verdict.status == ERROR
    assert not target.exists()
    assert any(
        reason in verdict.stderr for reason in ("Read-only file system", "Permission denied", "refused")
    )


def test_the_private_directory_is_writable_and_removed_afterwards():
    verdict = run_program("import os\nopen('a.txt', 'w').write('hi')\nprint(os.getcwd())", FAST)
    assert verdict.passed
    assert not os.path.exists(verdict.stdout.strip())


def test_network_access_is_refused(isolation):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    port = server.getsockname()[1]
    program = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')"
    verdict = run_program(program, FAST, isolation=isolation)
    server.close()
    assert verdict.status == ERROR
    assert "connected" not in verdict.stdout
    assert not accepted


def test_environment_secrets_do_not_reach_the_program(isolation):
    # The secret is in the harness's environment from its start, so /proc/<harness>/environ holds it too.
    program = (
        "import os\nprint(sorted(os.environ))\n"
        "try:\n    print(open(f'/proc/{os.getppid()}/environ').read())\nexcept OSError as exc:\n    print(exc)"
    )
    harness = (
        "import sys\nfrom reasonlab.scoring.sandbox import Limits, run_program\n"
        f"print(run_program(sys.argv[1], Limits(timeout=3.0), isolation={isolation!r}).to_json())"
    )
    env = {**os.environ, "REASONLAB_TEST_SECRET": "hunter2", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", harness, program], capture_output=True, text=True, env=env)
    verdict = json.loads(done.stdout)
    assert verdict["status"] == OK and "PATH" in verdict["stdout"]
    assert "hunter2" not in verdict["stdout"] and "REASONLAB_TEST_SECRET" not in verdict["stdout"]


def test_other_processes_are_invisible_under_namespaces():
    verdict = run_program(
        "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))", FAST
    )
    if verdict.isolation != "namespaces":
        pytest.skip("namespaces are not permitted here")
    assert verdict.stdout.strip() == "[1]"


def test_the_isolation_reached_is_reported(isolation):
    verdict = run_program("print('hi')", FAST, isolation=isolation)
    expected = "namespaces" if isolation == "auto" and os.geteuid() == 0 else "hooks"
    assert verdict.passed and verdict.isolation == expected


def test_killing_its_parent_does_not_touch_the_harness(isolation):
    program = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)"
    verdict = run_program(program, FAST, isolation=isolation)
    assert verdict.status in (OK, ERROR)  # reported, and this test process is still alive to check it


def test_many_programs_in_parallel_keep_their_order():
    from reasonlab.scoring.sandbox import run_programs

    verdicts = run_programs([f"print({i})" for i in range(6)], workers=3)
    assert [v.stdout.strip() for v in verdicts] == [str(i) for i in range(6)]


def test_cli_sandbox_run_prints_one_json_line_and_fails_on_a_broken_limit(tmp_path):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("print('hello')")
    bad.write_text("while True:\n    pass")
    base = [sys.executable, "-m", "reasonlab", "sandbox", "run"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    ok = subprocess.run([*base, str(good)], capture_output=True, text=True, env=env)
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["stdout"] == "hello\n"
    timed_out = subprocess.run([*base, str(bad), "--timeout", "1"], capture_output=True, text=True, env=env)
    assert timed_out.returncode == 1
    verdict = json.loads(timed_out.stdout.strip().splitlines()[-1])
    assert verdict["status"] == TIMEOUT and set(verdict) >= {
        "status",
        "exit_code",
        "seconds",
        "stdout",
        "stderr",
    }
