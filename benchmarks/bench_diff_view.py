"""The diff view on a 50,000-line diff, headless at 160x50: first paint, page jumps, memory.

Builds a unified diff of realistic Python (changed, added and removed lines in many hunks), then:

- parses it (`parse_unified_diff`) and builds the row model (`DiffModel` + layout), timed apart;
- first paint: from handing the parsed diff to the view to the first frame composed with its
  rows (the row model, the layout and the visible strips; highlighting arrives after);
- page jumps: `page down` repeated, and jumps to random rows, each timed to the composed frame
  (`frame`: until the compositor has drawn it; `pause`: Pilot's `pause()`, which also waits for
  the highlighting worker's CPU to go idle, as the reference measurements did);
- memory: tracemalloc of the parsed diff and of the row model, and the process's peak RSS.

Goals (issue 5): first paint <= 0.3 s, page jump <= 50 ms.

Run: .venv/bin/python benchmarks/bench_diff_view.py [--lines 50000] [--jumps 60] [--single-file]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.app import App, ComposeResult  # noqa: E402

from reviewq.sources.diffs import parse_unified_diff  # noqa: E402
from reviewq.tui.diff.model import LINE, DiffModel  # noqa: E402
from reviewq.tui.diff.view import DiffView  # noqa: E402
from reviewq.tui.themes import DEFAULT_THEME, diff_variable_defaults, load_themes  # noqa: E402

CODE = [
    "def handle_{n}(request, session, *, retries: int = 3) -> dict:",
    '    """Serve request {n}: validate, look up the order, answer JSON."""',
    "    order = session.get(Order, request.args.get('id', {n}))",
    "    if order is None or order.customer != request.user:",
    "        raise NotFound(f'order {{request.args}} not found')  # {n}",
    "    total = sum(item.price * item.quantity for item in order.items)",
    "    payload = {{'id': order.id, 'total': round(total, 2), 'n': {n}}}",
    "    for attempt in range(retries):",
    "        if cache.set(f'order:{{order.id}}', payload, ttl=60 * {n}):",
    "            break",
    "    return payload",
    "",
]


def make_diff(total_lines: int, files: int, seed: int = 5) -> bytes:
    """A diff of `files` Python files with about `total_lines` rows in all (hunks of ~40)."""
    rng = random.Random(seed)
    per_file = max(1, total_lines // files)
    out: list[str] = []
    counter = 0
    for f in range(files):
        path = f"service/module_{f:03d}.py"
        out.append(f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n")
        rows = 0
        old_line = new_line = 1
        while rows < per_file:
            body: list[str] = []
            old_n = new_n = 0
            size = min(per_file - rows, rng.randint(30, 50))
            for _ in range(size):
                counter += 1
                text = CODE[counter % len(CODE)].format(n=counter)
                roll = rng.random()
                if roll < 0.55:
                    body.append(f" {text}\n")
                    old_n += 1
                    new_n += 1
                elif roll < 0.75:
                    body.append(f"-{text}\n")
                    old_n += 1
                else:
                    body.append(f"+{text.replace('order', 'purchase')}\n")
                    new_n += 1
            out.append(f"@@ -{old_line},{old_n} +{new_line},{new_n} @@ def handle():\n")
            out.extend(body)
            old_line += old_n + 7
            new_line += new_n + 7
            rows += size + 1
    return "".join(out).encode()


class Bench(App):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return diff_variable_defaults(self.current_theme.to_color_system().generate())

    def compose(self) -> ComposeResult:
        yield DiffView()

    def on_mount(self) -> None:
        for theme in load_themes(None).themes:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME


async def frame(pilot) -> None:
    """Until the screen has processed its messages and the compositor has drawn the frame."""
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()


def visible_ready(view: DiffView) -> bool:
    top = round(view.scroll_y)
    rows = view.layout_rows.rows[top : top + view.page_height]
    return all(view._row_ready(row) for row in rows if row.kind == LINE)


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


async def run(data: bytes, jumps: int, split: bool) -> dict[str, object]:
    app = Bench()
    started = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app_ready = time.perf_counter() - started
        view = app.query_one(DiffView)
        view.split_choice = split

        t0 = time.perf_counter()
        diff = parse_unified_diff(data)
        parsed = time.perf_counter() - t0

        t1 = time.perf_counter()
        model = DiffModel(diff)
        model.collapsed.clear()  # benchmark every row, none folded
        view.load(model)
        await frame(pilot)
        first_paint = time.perf_counter() - t1
        first_rows = [view.render_line(y).text for y in range(3)]
        assert any(first_rows), "nothing was drawn"

        await app.workers.wait_for_complete()
        page_frame: list[float] = []
        for _ in range(jumps):
            t = time.perf_counter()
            view.action_page_down()
            await frame(pilot)
            page_frame.append(time.perf_counter() - t)

        rng = random.Random(7)
        total = len(view.layout_rows)
        random_frame: list[float] = []
        for _ in range(jumps):
            target = rng.randrange(total)
            t = time.perf_counter()
            view.move_cursor(target, where="center")
            await frame(pilot)
            random_frame.append(time.perf_counter() - t)

        random_pause: list[float] = []
        for _ in range(max(10, jumps // 3)):
            target = rng.randrange(total)
            t = time.perf_counter()
            view.move_cursor(target, where="center")
            await pilot.pause()
            random_pause.append(time.perf_counter() - t)

        # how long until the rows on screen are drawn highlighted after a jump
        highlight_wait: list[float] = []
        for _ in range(10):
            await app.workers.wait_for_complete()
            view.move_cursor(rng.randrange(total), where="center")
            t = time.perf_counter()
            await frame(pilot)
            while not visible_ready(view) and time.perf_counter() - t < 10:
                await asyncio.sleep(0.002)
                await frame(pilot)
            highlight_wait.append(time.perf_counter() - t)

        return {
            "rows": total,
            "diff_lines": sum(len(h.lines) for f in diff.files for h in f.hunks),
            "files": len(diff.files),
            "app_ready": app_ready,
            "parsed": parsed,
            "first_paint": first_paint,
            "page_frame": page_frame,
            "random_frame": random_frame,
            "random_pause": random_pause,
            "highlight_wait": highlight_wait,
        }


def memory(data: bytes) -> tuple[float, float]:
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    diff = parse_unified_diff(data)
    after_parse = tracemalloc.take_snapshot()
    model = DiffModel(diff)
    model.collapsed.clear()
    layouts = (model.layout(False), model.layout(True))
    after_model = tracemalloc.take_snapshot()
    tracemalloc.stop()

    def size(later, earlier) -> float:
        return sum(s.size_diff for s in later.compare_to(earlier, "filename")) / 2**20

    del layouts
    return size(after_parse, base), size(after_model, after_parse)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=40, help="files the lines are spread over")
    parser.add_argument("--single-file", action="store_true", help="all lines in one file")
    parser.add_argument("--jumps", type=int, default=60)
    args = parser.parse_args()
    files = 1 if args.single_file else args.files
    data = make_diff(args.lines, files)
    diff_mb, model_mb = memory(data)
    print(f"diff: {len(data) / 2**20:.1f} MiB of unified diff, {files} file(s)")
    for split in (False, True):
        result = asyncio.run(run(data, args.jumps, split))
        name = "side by side" if split else "unified"
        print(f"\n[{name}] {result['diff_lines']:,} diff lines -> {result['rows']:,} rows")
        print(f"  app start (Textual, headless)   {result['app_ready'] * 1000:7.1f} ms")
        print(f"  parse (unidiff)                 {result['parsed'] * 1000:7.1f} ms")
        print(
            f"  first paint (model + rows)      {result['first_paint'] * 1000:7.1f} ms"
            "   goal <= 300 ms"
        )
        print(f"  page down, to frame             {ms(result['page_frame'])}   goal <= 50 ms")
        print(f"  random jump, to frame           {ms(result['random_frame'])}")
        print(f"  random jump, Pilot.pause()      {ms(result['random_pause'])}")
        print(f"  jump until rows highlighted     {ms(result['highlight_wait'])}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmemory: parsed diff {diff_mb:.1f} MiB, row model + both layouts {model_mb:.1f} MiB")
    print(f"process peak RSS {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
