"""UI-thread CPU of a page down in the 56,765-line change, in process (headless Textual).

    python benchmarks/bench_page_cpu.py [--quick] [--pages 40] [--lines 56000] [--profile FILE]
                                        [--widgets]

The same repository as `bench_tui_terminal.py` (its `build_repo`), the app headless at 160x50
(`App.run_test`): Enter on the change, wait for the diff, the rationale and the findings, then
`--pages` page downs, each after the screen has been still for 0.3 s. For each press it reads
the UI thread's CPU time (`time.thread_time`, not wall time: a loaded machine changes it far
less) from the key's arrival to the end of the first frame composed after the page-down
action, and again for the highlighted repaint that follows. Headless Textual composes every
frame as a terminal's would and skips only turning it into escape codes (a few ms).

`--widgets` prints which widgets were drawn per press (a page down should draw the diff and
what really changed); `--profile FILE` writes a cProfile of the UI thread over the presses.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # reviewq itself: the installed one or PYTHONPATH's

from bench_tui_terminal import build_repo  # noqa: E402

#: True while the presses run (for debugging hooks)
PAGING = [False]


def _env(work: Path) -> dict[str, str]:
    home = work / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Bench Reviewer\n\temail = b@example.com\n")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "LANG": "C.UTF-8",
    }


async def run(
    repo: Path, pages: int, profile: Path | None, widgets: bool, early: bool, split: bool
) -> dict:
    from textual.app import App
    from textual.widget import Widget

    from reviewq.context import Context
    from reviewq.tui.app import ReviewqApp
    from reviewq.tui.diff.view import DiffView
    from reviewq.tui.services import Services

    frames: list[float] = []  # UI-thread CPU at the end of each composed frame
    drawn: Counter[str] = Counter()
    display = App._display

    def timed_display(self, screen, renderable):
        try:
            return display(self, screen, renderable)
        finally:
            if renderable is not None:
                frames.append(time.thread_time())

    App._display = timed_display
    if widgets:
        render_lines = Widget.render_lines

        def counted(self, crop):
            drawn[type(self).__name__ + (f"#{self.id}" if self.id else "")] += 1
            return render_lines(self, crop)

        Widget.render_lines = counted

    spent: Counter[str] = Counter()
    frames_log: list[str] | None = [] if widgets else None
    if split:
        from textual._compositor import Compositor
        from textual.screen import Screen

        def accrue(owner, name: str, label: str) -> None:
            original = getattr(owner, name)
            depth = [0]

            def wrapper(*args, **kwargs):
                if depth[0]:
                    return original(*args, **kwargs)
                depth[0] += 1
                start = time.thread_time()
                try:
                    return original(*args, **kwargs)
                finally:
                    depth[0] -= 1
                    spent[label] += time.thread_time() - start

            if asyncio.iscoroutinefunction(original):

                async def awrapper(*args, **kwargs):
                    start = time.thread_time()
                    try:
                        return await original(*args, **kwargs)
                    finally:
                        spent[label] += time.thread_time() - start

                setattr(owner, name, awrapper)
            else:
                setattr(owner, name, wrapper)

        accrue(DiffView, "render_line", "diff rows (render_line)")
        accrue(DiffView, "render_lines", "diff view incl. Textual's line styling")
        accrue(Compositor, "render_update", "compositor frame")
        accrue(Screen, "_refresh_layout", "screen layout")
        accrue(App, "_check_bindings", "binding lookup and action")
        accrue(DiffView, "action_page_down", "page-down action")
        accrue(App, "_display", "frame to escape codes (skipped headless)")

    if frames_log is not None:
        from textual._compositor import Compositor

        render_update = Compositor.render_update

        def logged(self, *args, **kwargs):
            regions = sorted(tuple(r) for r in self._dirty_regions)
            start = time.thread_time()
            try:
                return render_update(self, *args, **kwargs)
            finally:
                frames_log.append(
                    f"    frame {(time.thread_time() - start) * 1000:5.1f} ms  "
                    f"{'full ' if args or kwargs.get('full') else ''}dirty {regions}"
                )

        Compositor.render_update = logged

    ctx = Context.open(repo)
    services = Services(ctx)
    app = ReviewqApp(services, remember=False)
    result: dict[str, list[float]] = {"press": [], "repaint": []}
    per_press: list[Counter[str]] = []
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            for _ in range(1200):
                await pilot.pause(0.05)
                if getattr(app.screen, "shown", None):
                    break
            await asyncio.sleep(1.0)
            await pilot.press("enter")
            for _ in range(1200):
                await pilot.pause(0.05)
                views = app.screen.query(DiffView)
                if views and views.first().model is not None:
                    break
            screen = app.screen
            # The rationale and the findings: wait for both (at most 120 s), unless --early.
            for _ in range(0 if early else 2400):
                if screen.critique is not None and screen.rationale_text is not None:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)
            profiler = cProfile.Profile() if profile else None
            spent.clear()
            PAGING[0] = True
            for _ in range(pages):
                drawn.clear()
                frames.clear()
                if frames_log is not None:
                    frames_log.append("  press")
                if profiler:
                    profiler.enable()
                start = time.thread_time()
                await pilot.press("pagedown")
                # The first frame after the press; then what the highlighting repaints.
                deadline = time.monotonic() + 5
                while not frames and time.monotonic() < deadline:
                    await asyncio.sleep(0.001)
                first = frames[0] if frames else time.thread_time()
                result["press"].append(first - start)
                after = time.thread_time()
                await asyncio.sleep(0.3)
                result["repaint"].append(time.thread_time() - after)
                if profiler:
                    profiler.disable()
                per_press.append(Counter(drawn))
            if profiler and profile:
                profiler.dump_stats(profile)
    finally:
        services.close()
        ctx.close()
    if split:
        print(f"UI CPU by part over the presses and their repaints, ms a press (n={pages}):")
        for label, seconds in spent.most_common():
            print(f"  {seconds * 1000 / pages:7.2f}  {label}")
    if frames_log:
        print("frames of the first presses (dirty regions: x, y, width, height):")
        print("\n".join(frames_log[frames_log.index("  press") :][:40]))
    if widgets:
        total: Counter[str] = Counter()
        for counts in per_press:
            total.update(counts)
        print("widgets drawn over the presses (render_lines calls, incl. highlight repaints):")
        for name, count in total.most_common():
            print(f"  {count:6d}  {name}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=56000)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="12 pages")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--widgets", action="store_true")
    parser.add_argument("--split", action="store_true", help="UI CPU by part (a few wrappers)")
    parser.add_argument(
        "--early",
        action="store_true",
        help="page from 1.5 s after the open, while the rationale and findings are computed",
    )
    parser.add_argument("--repo", type=Path, help="reuse a repository built by an earlier run")
    args = parser.parse_args()
    if args.quick:
        args.pages = 12
    work = Path(tempfile.mkdtemp(prefix="reviewq-bench-cpu-"))
    try:
        env = _env(work)
        os.environ.update(env)
        repo = args.repo
        if repo is None:
            repo = work / "repo"
            build_repo(repo, args.lines, {**os.environ})
        os.chdir(repo)
        load = os.getloadavg()
        result = asyncio.run(
            run(repo, args.pages, args.profile, args.widgets, args.early, args.split)
        )
        for key, label in (("press", "key -> first frame"), ("repaint", "highlight repaint")):
            values = sorted(v * 1000 for v in result[key])
            print(
                f"{label:20s} UI CPU ms: median {statistics.median(values):6.1f}  "
                f"p90 {values[int(len(values) * 0.9)]:6.1f}  max {values[-1]:6.1f}  "
                f"(n={len(values)})"
            )
        print(f"load average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
