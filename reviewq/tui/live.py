"""Live refresh for a screen: poll from a thread worker, update on the UI thread.

A screen attaches one `LiveRefresh` with a `poll` callable (run in a worker: it may block on
git) and an `on_update` callback (run on the UI thread with whatever `poll` returned, unless it
returned None). With `QueueSource.poll` every `interval` seconds a worker asks whether refs,
notes, the inbox or the log moved (milliseconds) and, only then, recomputes the queue
incrementally. The UI thread never waits on git. A poll still running when the next tick comes
is not doubled up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode
from textual.timer import Timer

DEFAULT_INTERVAL = 2.0


class LiveRefresh:
    def __init__(
        self,
        node: DOMNode,
        poll: Callable[[], Any],
        on_update: Callable[[Any], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.node = node
        self.poll = poll
        self.on_update = on_update
        self.on_error = on_error
        self.interval = interval
        self.polls = 0
        self.refreshes = 0
        self._timer: Timer | None = None
        self._busy = False

    def start(self, *, now: bool = True) -> None:
        """Start polling; with `now`, poll at once (the first poll loads the queue)."""
        if self._timer is None:
            self._timer = self.node.set_interval(self.interval, self.poll_soon)
        if now:
            self.poll_soon()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def pause(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def resume(self) -> None:
        if self._timer is not None:
            self._timer.resume()

    def poll_soon(self) -> None:
        if self._busy:
            return
        self._busy = True
        self.node.run_worker(
            self._poll, thread=True, group="live-refresh", exclusive=False, exit_on_error=False
        )

    def _poll(self) -> None:
        app = self.node.app
        try:
            self.polls += 1
            update = self.poll()
        except Exception as exc:  # a broken ref or file: report, keep polling
            if self.on_error is not None:
                app.call_from_thread(self.on_error, exc)
            return
        finally:
            self._busy = False
        if update is not None:
            self.refreshes += 1
            app.call_from_thread(self.on_update, update)
