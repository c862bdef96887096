"""Mathematical equivalence of two answers with math-verify, safe from any thread.

math-verify bounds parsing and verification with ``signal.alarm``, which only works on the main thread
and disturbs any other alarm of the process. Here its timeouts are switched off and comparisons run in
long-lived worker processes instead (one per concurrent caller); a comparison that outlives our limit
kills its worker (a fresh one replaces it on the next call) and counts as "not equal".
"""

from __future__ import annotations

import atexit
import json
import queue
import select
import subprocess
import sys
import threading
from pathlib import Path

WORKER = Path(__file__).with_name("_math_worker.py")
DEFAULT_TIMEOUT = 10.0


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.process.stdout
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError(f"the math-verify worker did not start: is math-verify installed? ({WORKER})")

    def ask(self, gold: str, answer: str, timeout: float) -> bool | None:
        """The verdict, or None when the worker did not answer in time (or died)."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps([gold, answer]) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        return json.loads(line) if line else None

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class _WorkerPool:
    def __init__(self) -> None:
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            worker = _Worker()
            with self._lock:
                self._all.add(worker)
            return worker

    def ask(self, gold: str, answer: str, timeout: float) -> bool:
        worker = self._take()
        try:
            verdict = worker.ask(gold, answer, timeout)
        except OSError:
            verdict = None
        if verdict is None:
            worker.close()
            with self._lock:
                self._all.discard(worker)
            return False
        self._idle.put(worker)
        return verdict

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, set()
        for worker in workers:
            worker.close()


_pool = _WorkerPool()
atexit.register(_pool.close)


def math_equivalent(gold: str, answer: str, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """True when math-verify finds ``answer`` equal to ``gold`` within ``timeout`` seconds.

    The first call of each worker also pays for importing math-verify and sympy (about a second).
    """
    return _pool.ask(gold, answer, timeout)
