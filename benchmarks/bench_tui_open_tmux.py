"""The TUI's open as a user sees it: launch `reviewq tui` in tmux, time until the first queue
row is on screen (`tmux capture-pane -p` polled every 20 ms; no key is pressed).

    python benchmarks/bench_tui_open_tmux.py [--quick] [--runs 4] [--no-baseline]

`--quick`: 1,000 pending items over a 200,000-record log; the default is issue 18's size (10,000
pending, 1,000,000 records). The fixture comes from tests/load_fixture.py (cached under
benchmarks/.work/). The first run may build the column caches; later runs are warm. Needs tmux.

Each run is paired with the floor, taken interleaved in the same loop: a bare Textual app that
shows one such row (benchmarks/tui_floor_app.py), launched the same way. On a shared machine
compare the ratio to the floor, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.load_fixture import build  # noqa: E402

SESSION = f"reviewq-bench-{os.getpid()}"
#: A queue row: a short sha, then the agent column.
ROW = re.compile(r"\b[0-9a-f]{10}\b\s+(claude-code|cursor|codex|gemini-cli)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="1,000 pending, 200,000 records")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--limit", type=float, default=180.0, help="seconds to wait for a row")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare Textual floor")
    parser.add_argument(
        "--linger",
        type=float,
        default=3.0,
        help="seconds the app stays up after its first row (a reviewer reads the queue; the "
        "app keeps the answer the next open draws from then)",
    )
    args = parser.parse_args()
    pending, records = (1_000, 200_000) if args.quick else (10_000, 1_000_000)
    fixture = build(pending, 2_000, 2_000, records)
    # The fixture's commits are dated up to 300 days before its clock, and the app runs at the
    # real one: with the default `[scope] recent` every one would be "older on main" (hidden,
    # no row ever drawn). The daily queue shows them all with `recent = "all"`.
    config = fixture.path / ".reviewq.toml"
    if not config.exists():
        config.write_text('[scope]\nrecent = "all"\n')
    env = dict(fixture.git_env, TERM="xterm-256color", PYTHONPATH=str(ROOT))
    for part in ("config", "cache", "state", "data"):
        env[f"XDG_{part.upper()}_HOME"] = str(fixture.path.parent / "xdg" / part)
    # Warm means compiled too: a user's reviewq has its .pyc files (an environment that forbids
    # writing them would have every launch compile the whole package from source).
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (
        f"cd {shlex.quote(str(fixture.path))} && exec env -u PYTHONDONTWRITEBYTECODE {exports} "
        f"{sys.executable} -m reviewq tui"
    )
    print(f"{pending:,} pending, {records:,} records; load average {os.getloadavg()[0]:.2f}")
    floor_command = (
        f"cd {shlex.quote(str(fixture.path))} && exec env -u PYTHONDONTWRITEBYTECODE {exports} "
        f"{sys.executable} {shlex.quote(str(ROOT / 'benchmarks' / 'tui_floor_app.py'))}"
    )
    seen: list[float] = []
    floor: list[float] = []
    for run in range(1, args.runs + 1):
        took = first_row(command, args.limit, linger=args.linger)
        line = f"run {run}: " + (f"first queue row after {took:.2f} s" if took else "no row")
        if not args.no_baseline:
            base = first_row(floor_command, args.limit)
            if base is not None:
                line += f"   floor {base:.2f} s"
                if run > 1:
                    floor.append(base)
        print(line + f"   (load {os.getloadavg()[0]:.2f})", flush=True)
        if took is not None and run > 1:
            seen.append(took)
    if seen:
        print(
            f"warm median {statistics.median(seen):.2f} s, p95 {p95(seen):.2f} s (runs 2..{args.runs})"
        )
    if floor:
        print(
            f"floor median {statistics.median(floor):.2f} s, p95 {p95(floor):.2f} s; "
            f"open/floor {statistics.median(seen) / statistics.median(floor):.2f}x"
            if seen
            else ""
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def first_row(command: str, limit: float, linger: float = 0.0) -> float | None:
    """Seconds from starting `command` in a new tmux session until a queue row is on screen;
    the session is then left up `linger` seconds (killing it at the first row would stop the
    app before it keeps the answer the next open draws from, which no reviewer does)."""
    time.sleep(0.5)  # the last session's server shutting down would refuse a new one
    t0 = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", SESSION, "-x", "160", "-y", "50", command],
        check=True,
    )
    try:
        while time.perf_counter() - t0 < limit:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True
            ).stdout
            if ROW.search(screen):
                took = time.perf_counter() - t0
                time.sleep(linger)
                return took
            time.sleep(0.02)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    return None


if __name__ == "__main__":
    sys.exit(main())
