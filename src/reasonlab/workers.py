"""Process pools whose workers die with their parent, however the parent dies.

A ``ProcessPoolExecutor`` worker whose parent was killed (SIGKILL, or SIGTERM, which Python does not turn
into an exception) blocks forever on its call queue, holding its memory. Every pool in reasonlab is made
by :func:`worker_pool`, whose initializer asks Linux to SIGKILL the worker when its parent exits
(``PR_SET_PDEATHSIG``) and, elsewhere, starts a thread that exits the worker once it is orphaned.
Linux sends that signal when the *thread* that started the worker ends, so use a pool from the thread
that made it (a ``with`` block, as every caller here does).

The same work fans out over a Ray cluster instead (:func:`ray_session`, :func:`ordered_on_ray`): the same
chunk functions, results consumed in the same order, so the output does not depend on the executor.
``address`` is Ray's: ``None``/``"local"`` starts a cluster on this machine (or reuses the one this
process already joined), ``"auto"`` joins the cluster this machine belongs to, ``"ray://host:10001"``
a remote one.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

Result = TypeVar("Result")
LOCAL = "local"

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


@contextmanager
def collection_paused():
    """Pause the cyclic garbage collector while a block builds many long-lived objects without cycles
    (a solver's tables): each collection it would trigger traverses everything built so far, in vain."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` processes that do not outlive this process."""
    return ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),))


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None):
    """A connection to a Ray cluster for the duration of the block (one this process already has is
    reused, and left open)."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError('fan-out over Ray needs ray: pip install -e ".[scale]"') from exc
    if ray.is_initialized():
        yield ray
        return
    ray.init(
        address=None if address in (None, LOCAL) else address,
        num_cpus=num_cpus if address in (None, LOCAL) else None,
        include_dashboard=False,
        log_to_driver=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def ordered_on_ray(
    function: Callable[[Any], Result], chunks: Iterable[Any], *, address: str | None = None
) -> Iterator[Result]:
    """``function(chunk)`` for each chunk as Ray tasks, results yielded in the chunks' order. ``chunks``
    may be endless: tasks run at most two per cluster CPU ahead of the consumer, and those still pending
    are cancelled when it stops."""
    with ray_session(address) as ray:
        task = ray.remote(function)
        ahead = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        chunks = iter(chunks)
        pending = [task.remote(chunk) for chunk in islice(chunks, ahead)]
        try:
            while pending:
                result = ray.get(pending.pop(0))
                pending.extend(task.remote(chunk) for chunk in islice(chunks, 1))
                yield result
        finally:
            for ref in pending:
                ray.cancel(ref)
