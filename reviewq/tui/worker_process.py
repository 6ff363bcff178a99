"""Long pure computations of the review screen, in worker processes of their own.

The rationale and the static critique of a large change read every changed file (`ast.parse`
of whole modules, the detectors' scans over every row). In a thread of the TUI's process they
hold the interpreter for tens of milliseconds at a time, and a page down pressed meanwhile waits
for them. Here each job runs in a spawned process (niced: the reviewer's process comes first on
a busy machine), its arguments and result pickled across a pipe; the caller's thread sleeps in
`poll`, holding nothing.

A job that cannot finish does not hang the screen: a process that dies, a job over its time
limit, or the caller giving up (`CANCELLED`: the screen closed) ends that process (`kill`, then
`join`) and raises `WorkerFailed` with the reason. An exception the job itself raises comes back
as itself, as it would have here. Idle processes are kept for the next job; `close` ends them all.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

#: How long one job may run before its process is ended (seconds). The static critique of a
#: 56,000-line change takes a few seconds on a quiet machine.
JOB_TIMEOUT = 180.0
#: How often a waiting caller looks at its process, its time limit and `CANCELLED` (seconds).
POLL_SECONDS = 0.05
#: Added to the worker's nice value: on a busy machine the reviewer's keys come first.
NICE = 10
#: Idle processes kept for the next jobs.
KEEP_IDLE = 2

#: In the caller's thread: says whether the job is no longer wanted (the screen that asked for
#: it closed); the job's process is then ended and `WorkerCancelled` raised.
CANCELLED: ContextVar[Callable[[], bool] | None] = ContextVar("reviewq_job_cancelled", default=None)


class WorkerFailed(Exception):
    """The worker process could not give an answer (it died, or ran out of time)."""


class WorkerCancelled(WorkerFailed):
    """The caller no longer wanted the answer: the process was ended."""


class WorkerUnavailable(Exception):
    """No worker process could be started (the job may then run in the caller's process)."""


def _serve(conn: Any) -> None:  # the worker process's main
    try:
        os.nice(NICE)
    except OSError:
        pass
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn, args = job
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:  # the caller raises it as if the job had run there
            reply = ("error", exc)
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result or exception
            conn.send(("error", WorkerFailed(f"the worker's answer could not be sent: {exc}")))


class _Worker:
    def __init__(self, context: Any) -> None:
        parent, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child,), daemon=True, name="reviewq-worker"
        )
        self.process.start()
        child.close()
        self.conn = parent

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self) -> None:
        """End the process now (a job it runs is abandoned) and reap it."""
        try:
            self.conn.close()
        except OSError:
            pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class WorkerProcesses:
    """Worker processes for `run`, started on the first job and kept idle for the next."""

    def __init__(self, *, timeout: float = JOB_TIMEOUT, method: str = "spawn") -> None:
        self.timeout = timeout
        self._context = multiprocessing.get_context(method)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False

    def start(self) -> None:
        """Get ready for jobs without starting a worker (the first job starts one): the
        resource tracker every spawned process reports to is started now, with this process's
        stderr, which a Textual app replaces while it runs. Raises `WorkerUnavailable` if it
        cannot be."""
        if self._context.get_start_method() != "spawn":
            return
        from multiprocessing import resource_tracker

        try:
            resource_tracker.ensure_running()
        except Exception as exc:
            raise WorkerUnavailable(f"no worker process could be started: {exc}") from exc

    def prestart(self) -> None:
        """One idle process ready for the next job."""
        with self._lock:
            if not self._idle and not self._closed:
                self._idle.append(self._new())

    def _new(self) -> _Worker:
        try:
            return _Worker(self._context)
        except Exception as exc:
            raise WorkerUnavailable(f"no worker process could be started: {exc}") from exc

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise WorkerCancelled("the worker processes were closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    break
                worker.stop()
            else:
                worker = self._new()
            self._busy.add(worker)
            return worker

    def _done(self, worker: _Worker, keep: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            if keep and not self._closed and len(self._idle) < KEEP_IDLE:
                self._idle.append(worker)
                return
        worker.stop()

    def pids(self) -> list[int]:
        """The processes alive now (idle and busy)."""
        with self._lock:
            workers = [*self._idle, *self._busy]
        return [w.pid for w in workers if w.pid is not None and w.process.is_alive()]

    def run(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """`fn(*args)` in a worker process: `fn` a module-level function, arguments and result
        picklable. Raises what `fn` raised, or `WorkerFailed` (`WorkerCancelled`) with why."""
        limit = self.timeout if timeout is None else timeout
        cancelled = CANCELLED.get()
        worker = self._take()
        keep = False
        try:
            try:
                worker.conn.send((fn, args))
            except (OSError, EOFError) as exc:
                raise self._died(worker, exc) from exc
            deadline = time.monotonic() + limit
            while True:
                try:
                    if worker.conn.poll(POLL_SECONDS):
                        break
                except (OSError, EOFError, ValueError) as exc:  # closed under us (`close`)
                    if self._closed:
                        raise WorkerCancelled("the worker processes were closed") from exc
                    raise self._died(worker, exc) from exc
                if self._closed or (cancelled is not None and cancelled()):
                    raise WorkerCancelled("the job was no longer wanted (its screen closed)")
                if not worker.process.is_alive():
                    raise self._died(worker, None)
                if time.monotonic() > deadline:
                    raise WorkerFailed(f"the worker process took longer than {limit:g} s")
            try:
                status, value = worker.conn.recv()
            except (OSError, EOFError, ValueError) as exc:
                if self._closed:
                    raise WorkerCancelled("the worker processes were closed") from exc
                raise self._died(worker, exc) from exc
            keep = True
        finally:
            self._done(worker, keep)
        if status == "error":
            raise value
        return value

    @staticmethod
    def _died(worker: _Worker, exc: BaseException | None) -> WorkerFailed:
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        how = f"exit code {code}" if code is not None else f"{exc or 'no answer'}"
        return WorkerFailed(f"the worker process stopped ({how})")

    def close(self) -> None:
        """End every process, idle or running a job (a waiting caller gets `WorkerCancelled`)."""
        with self._lock:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle.clear()
        for worker in workers:
            worker.stop()
