"""Run `python -m reviewq` with timestamps for attributing slow key presses (a debug run).

    REVIEWQ_TRACE=/tmp/trace.jsonl python -P benchmarks/trace_tui.py [reviewq arguments]

`bench_tui_terminal.py --trace FILE` starts the app this way. Every event is one JSON line at
exit, times from `time.monotonic()` (the same clock the bench reads in its own process):

- `key`: the input thread decoded bytes (the key arrived); `page`: the page-down action ran
  (start, end); `write`: a frame went to the terminal (the end of a key's work);
- `gc`: a collection (start, end, generation, collected);
- `job`: work in other threads that may hold the interpreter (rationale, critique, its files,
  highlight chunks), with the thread's name; the review screen's open path too (its compose,
  mount, the diff's load, parse and layout, `_diff_loaded`, `_diff_shown`, worker starts).

`REVIEWQ_TRACE_PROFILE=FILE` also writes a cProfile (pstats) of the UI thread from the first
open's action to the first frame write holding a hunk header (cProfile slows it ~2x).
"""

from __future__ import annotations

import atexit
import functools
import gc
import json
import os
import runpy
import sys
import threading
import time

OUT = os.environ.get("REVIEWQ_TRACE", "")
EVENTS: list[dict] = []
now = time.monotonic


def _gc(phase: str, info: dict, _open: dict = {}) -> None:  # noqa: B006 - one per process
    if phase == "start":
        _open["t"] = now()
    else:
        start = _open.pop("t", now())
        EVENTS.append(
            {
                "ev": "gc",
                "t0": start,
                "t1": now(),
                "gen": info["generation"],
                "n": info["collected"],
            }
        )


PROFILE = os.environ.get("REVIEWQ_PROFILE", "")
_PROFILER: list = []


def _start_profile() -> None:
    """`REVIEWQ_PROFILE=FILE`: the UI thread under cProfile from the first page down to the
    exit (pstats written to FILE)."""
    if PROFILE and not _PROFILER:
        import cProfile

        profiler = cProfile.Profile()
        _PROFILER.append(profiler)
        profiler.enable()


def _timed(owner, name: str, label: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = now()
        cpu = time.thread_time()
        if label == "page":
            _start_profile()
        try:
            return original(*args, **kwargs)
        finally:
            EVENTS.append(
                {
                    "ev": "job" if label != "page" else "page",
                    "what": label,
                    "t0": start,
                    "t1": now(),
                    "cpu": cpu,
                    "thread": threading.current_thread().name,
                }
            )

    setattr(owner, name, wrapper)


def _instrument() -> None:
    from textual import _xterm_parser
    from textual.drivers import _writer_thread

    feed = _xterm_parser.XTermParser.feed

    def traced_feed(self, data):
        if data:
            EVENTS.append({"ev": "key", "t0": now(), "data": data[:8], "pcpu": time.process_time()})
        return feed(self, data)

    _xterm_parser.XTermParser.feed = traced_feed
    write = _writer_thread.WriterThread.write
    profile_out = os.environ.get("REVIEWQ_TRACE_PROFILE", "")
    profiling: list = []

    def traced_write(self, text):
        if profiling and "@@ " in text:  # the first frame with the diff: the open's profile ends
            profiler = profiling.pop()
            profiler.disable()
            profiler.dump_stats(profile_out)
        if len(text) > 200:
            EVENTS.append(
                {
                    "ev": "write",
                    "t0": now(),
                    "n": len(text),
                    "hunk": "@@ " in text,
                    "cpu": time.thread_time(),
                    "pcpu": time.process_time(),
                }
            )
        return write(self, text)

    _writer_thread.WriterThread.write = traced_write

    from reviewq.core import rationale
    from reviewq.tui import services
    from reviewq.tui.diff import view

    if profile_out:  # cProfile of the UI thread from the open's action to its first diff frame
        import cProfile

        from reviewq.tui.screens import queue

        open_item = queue.QueueScreen.action_open_item

        def profiled_open(self):
            if not profiling and not os.path.exists(profile_out):
                profiler = cProfile.Profile()
                profiling.append(profiler)
                profiler.enable()
            return open_item(self)

        queue.QueueScreen.action_open_item = profiled_open

    _timed(view.DiffView, "action_page_down", "page")
    _timed(view, "highlight_chunk", "highlight")
    _timed(services.Services, "rationale", "rationale")
    _timed(services.Services, "critique", "critique")
    _timed(services.Services, "offload", "offload")
    _timed(rationale, "_file_structure", "rationale-file")
    _timed(rationale, "build_rationale", "build_rationale")
    from reviewq.tui import worker_process
    from reviewq.tui.diff import model as diff_model
    from reviewq.tui.screens import review

    _timed(services.Services, "load_diff", "load_diff")
    _timed(services.Services, "viewed_paths", "viewed_paths")
    _timed(services.Services, "start_worker_process", "start_worker_process")
    _timed(diff_model.DiffModel, "__init__", "DiffModel")
    _timed(diff_model.DiffModel, "layout", "layout")
    _timed(review.ReviewScreen, "compose", "compose")
    _timed(review.ReviewScreen, "on_mount", "on_mount")
    _timed(review.ReviewScreen, "_diff_loaded", "_diff_loaded")
    _timed(review.ReviewScreen, "_diff_shown", "_diff_shown")
    _timed(review.KeysFooter, "_rebuild", "footer")
    _timed(view.DiffView, "load", "view.load")
    for name in ("_new", "prestart", "run"):
        if hasattr(worker_process.WorkerProcesses, name):
            _timed(worker_process.WorkerProcesses, name, f"pool.{name}")
    try:
        from reviewq.workflow import critiquing

        _timed(critiquing, "critique_input", "critique_input")
        _timed(critiquing, "file_texts", "file_texts")
    except ImportError:
        pass


def _dump() -> None:
    if _PROFILER:
        _PROFILER[0].disable()
        _PROFILER[0].dump_stats(PROFILE)
    if os.environ.get("REVIEWQ_TRACE_GARBAGE"):
        from collections import Counter

        kinds = Counter(type(o).__module__ + "." + type(o).__qualname__ for o in gc.garbage)
        EVENTS.append({"ev": "garbage", "t0": now(), "kinds": kinds.most_common(40)})
    with open(OUT, "w") as out:
        for event in EVENTS:
            out.write(json.dumps(event) + "\n")


if __name__ == "__main__":
    if OUT:
        gc.callbacks.append(_gc)
        if os.environ.get("REVIEWQ_TRACE_GARBAGE"):  # what the collections free, by type
            gc.set_debug(gc.DEBUG_SAVEALL)
        _instrument()
        atexit.register(_dump)
    sys.argv = ["reviewq", *sys.argv[1:]]
    runpy.run_module("reviewq", run_name="__main__", alter_sys=True)


def report(trace, sends: list[tuple[float, float]], slow: float = 0.06) -> None:
    """Print, for each page down, its time and what overlapped it; the slow ones in detail."""
    if not os.path.exists(trace):
        print(f"trace: {trace} was not written (the app did not exit?)")
        return
    with open(trace) as lines:
        events = [json.loads(line) for line in lines]
    print(f"trace: {len(events)} events; presses slower than {slow * 1000:.0f} ms:")
    cpu_ms: list[float] = []
    for sent, took in sends:
        end = sent + took
        keys = [e for e in events if e["ev"] == "key" and sent <= e["t0"] <= end]
        pages = [e for e in events if e["ev"] == "page" and sent <= e["t0"] <= end]
        writes = [e for e in events if e["ev"] == "write" and sent <= e["t0"] <= end]
        over = [
            e
            for e in events
            if e["ev"] in ("gc", "job") and e["t0"] < end and e["t1"] > sent - 0.005
        ]
        if pages and writes and "cpu" in writes[0]:
            cpu_ms.append((writes[0]["cpu"] - pages[0]["cpu"]) * 1000)
        if took < slow:
            continue

        def ms(t: float, sent: float = sent) -> str:
            return f"{(t - sent) * 1000:+6.1f}"

        parts = [f"  press at {sent:.3f}: {took * 1000:6.1f} ms"]
        if keys:
            parts.append(f"key read {ms(keys[0]['t0'])}")
        if pages:
            parts.append(f"action {ms(pages[0]['t0'])}..{ms(pages[0]['t1'])}")
        if writes:
            parts.append(f"first write {ms(writes[0]['t0'])} ({len(writes)} writes)")
        print("; ".join(parts))
        for e in over:
            label = (
                f"gc gen{e['gen']} collected {e['n']}"
                if e["ev"] == "gc"
                else f"{e['what']} [{e['thread']}]"
            )
            print(f"      {label:40s} {ms(e['t0'])} .. {ms(e['t1'])} ms")
    if cpu_ms:
        cpu_ms.sort()
        print(
            f"UI thread CPU, page-down action -> frame handed to the writer: median "
            f"{cpu_ms[len(cpu_ms) // 2]:.1f} ms, max {cpu_ms[-1]:.1f} ms (n={len(cpu_ms)})"
        )


def report_open(trace, opens: list[tuple[float, float]]) -> None:
    """For each open (Enter sent, seconds to the diff on screen): the events inside it and the
    frame writes."""
    if not os.path.exists(trace):
        print(f"trace: {trace} was not written (the app did not exit?)")
        return
    with open(trace) as lines:
        events = [json.loads(line) for line in lines]
    for sent, took in opens:
        end = sent + took

        def ms(t: float, sent: float = sent) -> str:
            return f"{(t - sent) * 1000:+7.1f}"

        print(f"open at {sent:.3f}: {took * 1000:.1f} ms (Enter sent -> diff seen by the bench)")
        enter = next((e for e in events if e["ev"] == "key" and e["t0"] >= sent), None)
        shown = next(
            (e for e in events if e["ev"] == "write" and e.get("hunk") and e["t0"] >= sent), None
        )
        if enter is not None and shown is not None and "pcpu" in enter:
            print(
                f"  Enter read -> first frame with a hunk header written: "
                f"{(shown['t0'] - enter['t0']) * 1000:.1f} ms wall, "
                f"{(shown['pcpu'] - enter['pcpu']) * 1000:.1f} ms of the process's CPU"
            )
        for e in events:
            if (
                e.get("what") == "render_line"
                or e["t0"] > end + 0.3
                or e.get("t1", e["t0"]) < sent - 0.005
            ):
                continue
            if e["ev"] == "key":
                print(f"  key {e['data']!r:14s} {ms(e['t0'])}")
            elif e["ev"] == "write":
                hunk = " (a hunk header)" if e.get("hunk") else ""
                print(f"  write {e['n']:>8d} chars {ms(e['t0'])}{hunk}")
            elif e["ev"] == "gc":
                print(f"  gc gen{e['gen']} {ms(e['t0'])} .. {ms(e['t1'])}")
            else:
                label = f"{e['what']} [{e['thread']}]"
                print(f"  {label:44s} {ms(e['t0'])} .. {ms(e['t1'])}")
