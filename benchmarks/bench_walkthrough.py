"""The pair walkthrough on a 50,000-line diff: ordering it, and stepping from hunk to hunk.

- `walkthrough()` (pure: classify every file and hunk, sort stably) on the same generated diff as
  `bench_diff_view.py` (Python files, hunks of ~40 rows), with a third of its files renamed to
  tests, stubs and lockfiles so every rule is exercised;
- one step as the pair screen takes it: the one-hunk `DiffModel`, then `DiffView.load` to the
  composed frame, headless at 160x50, for random steps (median and p95).

Run: .venv/bin/python benchmarks/bench_walkthrough.py [--lines 50000] [--steps 60]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.app import App, ComposeResult  # noqa: E402

from benchmarks.bench_diff_view import frame, make_diff, ms  # noqa: E402
from reviewq.core.model import Diff  # noqa: E402
from reviewq.core.walkthrough import walkthrough  # noqa: E402
from reviewq.sources.diffs import parse_unified_diff  # noqa: E402
from reviewq.tui.diff.model import DiffModel  # noqa: E402
from reviewq.tui.pair.panes import PairDiffView  # noqa: E402
from reviewq.tui.themes import DEFAULT_THEME, diff_variable_defaults, load_themes  # noqa: E402

RENAMES = ("tests/test_{n}.py", "service/types_{n}.pyi", "web/{n}/package-lock.json")


def mixed(diff: Diff) -> Diff:
    """Every third file becomes a test, a stub or a lockfile (in turn)."""
    files = []
    for i, fd in enumerate(diff.files):
        if i % 3 == 0:
            fd = replace(fd, path=RENAMES[(i // 3) % len(RENAMES)].format(n=i))
        files.append(fd)
    return Diff(files)


class Bench(App):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return diff_variable_defaults(self.current_theme.to_color_system().generate())

    def compose(self) -> ComposeResult:
        yield PairDiffView()

    def on_mount(self) -> None:
        for theme in load_themes(None).themes:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME


async def stepping(diff: Diff, steps: int) -> tuple[list[float], list[float]]:
    order = walkthrough(diff)
    rng = random.Random(11)
    picks = [rng.randrange(len(order)) for _ in range(steps)]
    build: list[float] = []
    shown: list[float] = []
    app = Bench()
    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(PairDiffView)
        await pilot.pause()
        for index in picks:
            step = order[index]
            fd = diff.files[step.file]
            hunks = [fd.hunks[step.hunk]] if step.hunk is not None else []
            start = time.perf_counter()
            model = DiffModel(Diff([replace(fd, hunks=hunks)]))
            built = time.perf_counter()
            view.load(model)
            await frame(pilot)
            done = time.perf_counter()
            build.append(built - start)
            shown.append(done - start)
    return build, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=120)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    diff = mixed(parse_unified_diff(make_diff(args.lines, args.files)))
    hunks = diff.hunk_count
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        order = walkthrough(diff)
        times.append(time.perf_counter() - start)
    kinds: dict[str, int] = {}
    for step in order:
        kinds[step.kind] = kinds.get(step.kind, 0) + 1
    median = statistics.median(times)
    print(f"diff: {args.lines:,} lines, {len(diff.files)} files, {hunks:,} hunks")
    print(
        f"walkthrough(): median {median * 1000:.1f} ms over {args.rounds} rounds "
        f"({median / hunks * 1e6:.1f} µs per hunk); kinds {kinds}"
    )
    build, shown = asyncio.run(stepping(diff, args.steps))
    print(f"step, one-hunk model built: {ms(build)}")
    print(f"step, to the drawn frame:   {ms(shown)}")


if __name__ == "__main__":
    main()
