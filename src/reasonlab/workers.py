"""Process pools whose workers die with their parent, however the parent dies.

A ``ProcessPoolExecutor`` worker whose parent was killed (SIGKILL, or SIGTERM, which Python does not turn
into an exception) blocks forever on its call queue, holding its memory. Every pool in reasonlab is made
by :func:`worker_pool`, whose initializer asks Linux to SIGKILL the worker when its parent exits
(``PR_SET_PDEATHSIG``) and, elsewhere, starts a thread that exits the worker once it is orphaned.
Linux sends that signal when the *thread* that started the worker ends, so use a pool from the thread
that made it (a ``with`` block, as every caller here does).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_ORPHAN_POLL_S = 0.5


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL_S)
    os._exit(1)


def die_with_parent(parent: int) -> None:
    """Worker initializer: end this process as soon as ``parent`` (the pool's owner) is gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            # The parent may have died between fork and prctl, before the request could take effect.
            if os.getppid() != parent:
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` processes that do not outlive this process."""
    return ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),))
