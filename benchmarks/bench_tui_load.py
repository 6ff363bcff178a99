"""The TUI at load: 10,000 pending items and a 1,000,000-record provenance log.

    python benchmarks/bench_tui_load.py [--pending 10000] [--records 1000000] [--keys 40]
                                        [--rebuild] [--runs 2]

Builds (once, cached in benchmarks/.work/, by tests/load_fixture.py) a repository with
`--pending` pending AI-authored commits, 2,000 AI-authored commits already approved, 2,000 human
commits, and a chained log of `--records` verdicts. Then, headless at 160x50 with the app's real
services:

- what the queue screen's load does, phase by phase (scan, verdicts and policy, the reviewer's
  progress from the log), cold (no caches: the first run on a machine) and warm;
- the queue screen's open time: from starting the app to the table filled with every item
  (`--runs` times: the first run builds the caches, later runs use them);
- key latency at that size, each to the drawn frame: cursor down, page down, typing a filter
  (each key until the box shows it; the last until the table is filtered), clearing it, opening
  an item (until its diff is on screen) and going back;
- memory: peak RSS of the process, and what the loaded queue holds (tracemalloc).

Figures from a shared 2-core machine vary run to run: read medians, and compare before/after
runs made at the same load (the load average is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import shutil
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.load_fixture import NOW, build  # noqa: E402

SIZE = (160, 50)


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
        f"max {values[-1] * 1000:7.1f} ms   (n={len(values)})"
    )


def clear_caches(repo: Path) -> None:
    """Everything reviewq may rebuild: the TinyDB cache and the column caches."""
    state = repo / ".git" / "reviewq"
    for name in ("cache.json", "verdict-columns.npz", "commit-sizes.npz"):
        (state / name).unlink(missing_ok=True)


def phases(repo: Path, label: str) -> None:
    """The queue load's parts, timed apart (what the queue screen's worker runs)."""
    from reviewq.context import Context
    from reviewq.tui.services import Services
    from reviewq.workflow.scan import scan_history

    ctx = Context.open(repo)
    services = Services(ctx, now=lambda: NOW)
    try:
        t0 = time.perf_counter()
        scan = scan_history(ctx)
        t1 = time.perf_counter()
        items = services.load_queue()
        t2 = time.perf_counter()
        reviewed, mine = services.my_progress()
        t3 = time.perf_counter()
    finally:
        ctx.close()
    print(
        f"  [{label}] scan {t1 - t0:6.2f} s ({len(scan.changes):,} AI-authored"
        f"{', cached' if scan.from_cache else ''})   queue (scan + verdicts + policy) "
        f"{t2 - t1:6.2f} s ({len(items):,} pending)   progress {t3 - t2:6.2f} s "
        f"({reviewed} today, {len(mine):,} of mine)"
    )


async def frame(pilot) -> None:
    """Until the screen has processed its messages and the compositor has drawn the frame."""
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()


def send_key(app, key: str) -> None:
    """A key press as the terminal driver delivers it. (Pilot.press also waits for the CPU to
    go idle, at least 40 ms per key, which would be measured instead of the app.)"""
    from textual import events
    from textual.keys import _character_to_key

    name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
    event = events.Key(name, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


async def timed_key(pilot, key: str, done, limit: float = 120.0) -> float:
    """From the key press until `done()` holds (the app has handled the key and whatever it
    set off: a filter's Input.Changed arrives a message later) and the frame is drawn."""
    t = time.perf_counter()
    send_key(pilot.app, key)
    while True:
        await pilot._wait_for_screen()
        if done():
            break
        if time.perf_counter() - t > limit:
            raise RuntimeError(f"key {key!r} not handled in {limit} s")
        await asyncio.sleep(0)
    await frame(pilot)
    return time.perf_counter() - t


async def run_app(repo: Path, expected: int, keys: int, measure_keys: bool) -> dict:
    from reviewq.context import Context
    from reviewq.tui.app import ReviewqApp
    from reviewq.tui.screens.queue import QueueScreen, item_matches
    from reviewq.tui.screens.review import ReviewScreen
    from reviewq.tui.services import Services
    from reviewq.tui.widgets.lists import QueueTable

    ctx = Context.open(repo)
    app = ReviewqApp(
        Services(ctx, now=lambda: NOW),
        remember=False,
        repo_label="load",
        clock=time.monotonic,
    )
    out: dict = {}
    started = time.perf_counter()
    try:
        async with app.run_test(size=SIZE) as pilot:
            out["app_start"] = time.perf_counter() - started
            screen = app.screen
            while not (isinstance(screen, QueueScreen) and screen.loaded):
                await asyncio.sleep(0.005)
                screen = app.screen
                if time.perf_counter() - started > 600:
                    raise RuntimeError("the queue did not load in 10 minutes")
            await frame(pilot)
            out["open"] = time.perf_counter() - started
            table = screen.query_one(QueueTable)
            out["rows"] = table.row_count
            if table.row_count != expected:
                print(f"  warning: {table.row_count:,} rows, expected {expected:,}")
            if not measure_keys:
                return out
            await app.workers.wait_for_complete()
            row = table.cursor_row
            out["down"] = []
            for _ in range(keys):
                out["down"].append(
                    await timed_key(pilot, "down", lambda r=row: table.cursor_row == r + 1)
                )
                row += 1
            out["pagedown"] = []
            for _ in range(keys // 2):
                out["pagedown"].append(
                    await timed_key(
                        pilot, "pagedown", lambda r=table.cursor_row: table.cursor_row > r
                    )
                )
            box = screen.query_one("#filter")
            out["open_filter"] = [await timed_key(pilot, "/", lambda: box.has_focus)]
            # Each key: until the filter box shows it (the table waits for a pause in the
            # typing when the queue is large). Then: from the last key to the filtered table.
            typed, out["filter_key"] = "", []
            words = "codex billing"
            for ch in words[:-1]:
                typed += ch
                out["filter_key"].append(await timed_key(pilot, ch, lambda t=typed: box.value == t))
            terms = words.lower().split()
            matching = sum(1 for item in screen.items if item_matches(item, terms))
            out["filter_applied"] = [
                await timed_key(
                    pilot,
                    words[-1],
                    lambda: screen.filter_text == words and table.row_count == matching,
                )
            ]
            out["filtered_rows"] = table.row_count
            out["clear_filter"] = [
                await timed_key(pilot, "escape", lambda: not screen.filter_text and table.has_focus)
            ]
            await timed_key(pilot, "home", lambda: table.cursor_row == 0)
            out["open_item"] = [
                await timed_key(
                    pilot,
                    "enter",
                    lambda: isinstance(app.screen, ReviewScreen) and app.screen.model is not None,
                )
            ]
            out["back"] = [await timed_key(pilot, "escape", lambda: app.screen is screen)]
    finally:
        ctx.close()
    return out


def queue_memory(repo: Path) -> float:
    """MiB the loaded queue items hold (tracemalloc around `load_queue`)."""
    from reviewq.context import Context
    from reviewq.tui.services import Services

    ctx = Context.open(repo)
    try:
        gc.collect()
        tracemalloc.start()
        items = Services(ctx, now=lambda: NOW).load_queue()
        gc.collect()
        current, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del items
    finally:
        ctx.close()
    return current / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--settled", type=int, default=2_000)
    parser.add_argument("--human", type=int, default=2_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=40, help="cursor-down presses timed")
    parser.add_argument("--runs", type=int, default=2, help="app opens (the first is cold)")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    fixture = build(args.pending, args.settled, args.human, args.records, rebuild=args.rebuild)
    os.environ.update(fixture.git_env)
    size_mb = fixture.log_path.stat().st_size / 2**20
    load = os.getloadavg()[0]
    print(
        f"repository: {args.pending:,} pending + {args.settled:,} approved AI-authored commits, "
        f"{args.human:,} human; log: {args.records:,} records ({size_mb:,.0f} MiB); "
        f"built in {fixture.build_seconds:.0f} s (cached)"
    )
    print(f"{os.cpu_count()} CPUs, load average {load:.1f}")

    # Work on a copy so the runs' caches never leak into the cached fixture.
    work = fixture.path.parent.parent / (fixture.path.parent.name + "-run")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(fixture.path.parent, work, symlinks=True)
    repo = work / "repo"

    print("\nqueue load, phase by phase (services, no UI):")
    clear_caches(repo)
    phases(repo, "cold")
    phases(repo, "warm")

    print("\nthe app, headless at 160x50:")
    clear_caches(repo)
    for run in range(args.runs):
        last = run == args.runs - 1
        result = asyncio.run(run_app(repo, args.pending, args.keys, measure_keys=last))
        kind = "cold caches" if run == 0 else "warm caches"
        print(
            f"  open #{run + 1} ({kind}): app up {result['app_start'] * 1000:6.0f} ms, "
            f"queue listed ({result['rows']:,} rows) {result['open']:6.2f} s"
        )
        if last:
            print(f"  cursor down          {ms(result['down'])}")
            print(f"  page down            {ms(result['pagedown'])}")
            print(f"  open the filter (/)  {ms(result['open_filter'])}")
            print(f"  filter keystroke     {ms(result['filter_key'])}   (until the box shows it)")
            print(
                f"  filter applied       {ms(result['filter_applied'])}   (last key to the "
                f"filtered table, {result['filtered_rows']:,} rows)"
            )
            print(f"  clear the filter     {ms(result['clear_filter'])}")
            print(f"  open an item (diff)  {ms(result['open_item'])}")
            print(f"  back to the queue    {ms(result['back'])}")
    mib = queue_memory(repo)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmemory: the loaded queue {mib:.0f} MiB (tracemalloc); process peak RSS {rss:.0f} MiB")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
