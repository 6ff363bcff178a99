"""The review screen as the reviewer meets it: a real terminal (tmux), keypress to screen.

    python benchmarks/bench_tui_terminal.py [--quick] [--lines 56000] [--pages 40] [--keep]
                                            [--no-less] [--trace FILE] [--profile FILE]

Builds (in a temp dir) a repository whose last commit is an AI-authored change of about
`--lines` diff lines across many Python files, then, in a tmux session of 160x50:

- reviewq: starts `python -m reviewq` in a shell, waits for the queue, presses Enter on the
  change and times keypress -> the diff's first lines on screen (`tmux capture-pane -p`
  polled); then presses PageDown `--pages` times, each timed keypress -> a changed screen
  (the header's clock is masked so that a new second is not a new screen);
- the baseline, in the same run and the same terminal size: `git show HEAD | less`, Enter ->
  the first diff line on screen, then the same PageDowns.

Prints median, p95 and max of each, the ratios reviewq/less, and `uptime` before and after
(the machine may be shared: compare ratios, and runs made at the same load). `--quick` (a
smaller page count and one open) stays under two minutes. `--trace FILE` is a debug run: the
app starts through `trace_tui.py` (collections, background jobs, key reads and frame writes,
timestamped; `REVIEWQ_TRACE_GARBAGE=1` also lists what the collections freed, by type;
`REVIEWQ_PROFILE=FILE` writes a cProfile of the UI thread from the first page down): the
last open is printed with what ran between Enter and the diff on screen (and which frame writes
held a hunk header), and each page down slower than 60 ms with what overlapped it. `--profile
FILE` records the last open with py-spy (`pip install py-spy`; every thread, 1,000 samples a
second or `REVIEWQ_PROFILE_RATE`, collapsed stacks): from half a second before Enter until the
diff is seen; the sampler takes CPU, so its open times are not the real ones.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 160, 50
AI_TRAILER = "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>"
_CLOCK = re.compile(r"\d+:\d\d(:\d\d)? active( \(paused\))?")
_SPINNER = re.compile(r"[⠁-⣿]")

WORDS = [
    "order",
    "session",
    "request",
    "payload",
    "cache",
    "retries",
    "customer",
    "total",
    "items",
    "quantity",
]


def code_line(rng: random.Random, file: int, n: int, version: int) -> str:
    """One line of valid Python (each line stands alone at module level: the critic and the
    rationale parse these files as a real change's), tagged with its file and line."""
    a, b = rng.choice(WORDS), rng.choice(WORDS)
    tag = f"  # m{file:03d}l{n:05d}"
    shapes = [
        f"{a}_{n} = {{'{b}': {n}, 'v': {version}, 'name': '{a} {b}'}}",
        f"{a}_{n} = [{b}_i * {version} for {b}_i in range({n % 97})]",
        f"{a}_{n} = '{b}-{n}-{version}'.upper().replace('-', '_')",
        f"{a}_{n} = ({n} + {version}) * {rng.randint(2, 9)} // {rng.randint(1, 7)}",
        f"{a}_{n} = sorted(range({n % 53}), reverse={rng.random() < 0.5})",
    ]
    return rng.choice(shapes) + tag


def build_repo(path: Path, lines: int, env: dict[str, str]) -> tuple[int, str]:
    """A base commit by a person, then one AI commit of about `lines` diff lines; returns the
    diff's line count and its first hunk header (what both viewers show first)."""
    rng = random.Random(18)
    per_file = 1000  # base lines; the change touches ~40 % of them: ~1,320 diff lines a file
    files = max(1, round(lines / 1317))

    def git(*args: str, input: bytes | None = None, extra: dict | None = None) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=path,
            input=input,
            capture_output=True,
            env={**env, **(extra or {})},
            check=True,
        )
        return proc.stdout.decode()

    path.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    base: list[list[str]] = []
    for f in range(files):
        text = [code_line(rng, f, n, 1) for n in range(per_file)]
        base.append(text)
        target = path / "service" / f"module_{f:03d}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(text) + "\n")
    person = {
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Lovelace",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    git("add", "-A")
    git("commit", "-q", "--no-verify", "-m", "Base service", extra=person)
    for f, text in enumerate(base):
        out: list[str] = []
        for n, line in enumerate(text):
            roll = rng.random()
            if roll < 0.6:
                out.append(line)
            elif roll < 0.85:
                out.append(code_line(rng, f, n, 2))
            elif roll < 0.9:
                continue
            else:
                out.append(line)
                out.append(code_line(rng, f, n + 100000, 2))
        (path / "service" / f"module_{f:03d}.py").write_text("\n".join(out) + "\n")
    git("add", "-A")
    message = f"Rework the order service handlers\n\n{AI_TRAILER}\n".encode()
    git("commit", "-q", "--no-verify", "-F", "-", input=message, extra=person)
    show = git("show", "--format=", "HEAD")
    count = sum(1 for line in show.splitlines() if line[:1] in " +-" and line[:3] != "+++")
    header = next(line for line in show.splitlines() if line.startswith("@@ "))
    return count, header[: header.index(" @@") + 3]


class Tmux:
    """One tmux server of our own (its own socket), one session of WIDTH x HEIGHT."""

    def __init__(self, name: str, cwd: Path, env: dict[str, str]) -> None:
        self.socket = f"reviewq-bench-{os.getpid()}-{name}"
        self.name = name
        self.env = env
        self.run(
            "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd),
            "env -i " + " ".join(f"{k}={_q(v)}" for k, v in env.items()) + " bash --norc --noprofile",
        )  # fmt: skip
        self.run("set-option", "-t", name, "status", "off")

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return proc.stdout

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.name, "-l", text)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def kill(self) -> None:
        self.run("kill-server")


def _q(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def masked(screen: str) -> str:
    return _SPINNER.sub("*", _CLOCK.sub("<clock>", screen))


def wait_for(tmux: Tmux, predicate, timeout: float) -> tuple[float, str]:
    """Poll the pane until `predicate(screen)`; (seconds waited, the screen)."""
    start = time.perf_counter()
    while True:
        screen = tmux.screen()
        if predicate(screen):
            return time.perf_counter() - start, screen
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"screen did not change as expected in {timeout} s:\n{screen}")
        time.sleep(0.001)


def settle(tmux: Tmux, quiet: float = 0.6, timeout: float = 60.0) -> str:
    """Wait until the (masked) screen has not changed for `quiet` seconds."""
    last = masked(tmux.screen())
    since = time.perf_counter()
    start = since
    while time.perf_counter() - since < quiet:
        time.sleep(0.02)
        now = masked(tmux.screen())
        if now != last:
            last, since = now, time.perf_counter()
        if time.perf_counter() - start > timeout:
            break
    return last


def page_downs(
    tmux: Tmux, pages: int, quiet: float, sends: list[tuple[float, float]] | None = None
) -> list[float]:
    """Each press timed; `sends`, when given, gets (monotonic send time, seconds) per press."""
    times: list[float] = []
    for _ in range(pages):
        before = settle(tmux, quiet)
        sent = time.monotonic()
        tmux.send("NPage")
        start = time.perf_counter()
        wait_for(tmux, lambda s, before=before: masked(s) != before, 10.0)
        times.append(time.perf_counter() - start)
        if sends is not None:
            sends.append((sent, times[-1]))
    return times


def stats(values: list[float]) -> tuple[float, float, float]:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return statistics.median(values), p95, values[-1]


def fmt(values: list[float]) -> str:
    med, p95, top = stats(values)
    return (
        f"median {med * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   max {top * 1000:7.1f} ms"
        f"   (n={len(values)})"
    )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def start_profile(tmux: Tmux, out: Path) -> subprocess.Popen:
    """`py-spy record` of the app (the pane's shell's child), every thread, 1,000 samples a
    second, not pausing the process; started half a second before Enter."""
    shell = tmux.run("list-panes", "-t", tmux.name, "-F", "#{pane_pid}").split()[0]
    pid = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()[0]
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", pid, "--rate", os.environ.get("REVIEWQ_PROFILE_RATE", "1000"),
         "--nonblocking", "--threads", "--format", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)
    return spy


def stop_profile(spy: subprocess.Popen, out: Path) -> None:
    import signal

    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=30)
    print(f"profile of the last open (Enter - 0.5 s .. the diff on screen): {out}")


def run_reviewq(
    work: Path,
    env: dict[str, str],
    token: str,
    opens: int,
    pages: int,
    trace: Path | None = None,
    profile: Path | None = None,
) -> dict:
    result: dict[str, list[float]] = {"open": [], "page": []}
    sends: list[tuple[float, float]] = []
    command = f"{_q(sys.executable)} -P -m reviewq"
    if trace is not None:
        launcher = ROOT / "benchmarks" / "trace_tui.py"
        command = f"REVIEWQ_TRACE={_q(str(trace))} REVIEWQ_TRACE_GARBAGE={_q(os.environ.get('REVIEWQ_TRACE_GARBAGE', ''))} REVIEWQ_TRACE_PROFILE={_q(os.environ.get('REVIEWQ_TRACE_PROFILE', ''))} REVIEWQ_PROFILE={_q(os.environ.get('REVIEWQ_PROFILE', ''))} {_q(sys.executable)} -P {_q(str(launcher))}"
    for attempt in range(opens):
        tmux = Tmux(f"rq{attempt}", work / "repo", env)
        try:
            tmux.type(command)
            tmux.send("Enter")
            wait_for(tmux, lambda s: "Rework the order service" in s, 120.0)
            screen = settle(tmux, 1.0)
            assert token not in screen, "the token is on the queue screen already"
            spy = None
            if profile is not None and attempt == opens - 1:
                spy = start_profile(tmux, profile)
            opened = time.monotonic()
            tmux.send("Enter")
            start = time.perf_counter()
            wait_for(tmux, lambda s: token in s, 60.0)
            result["open"].append(time.perf_counter() - start)
            if spy is not None:
                stop_profile(spy, profile)
            if attempt == opens - 1:
                last_open = (opened, result["open"][-1])
                settle(tmux, 1.5)
                result["page"] = page_downs(tmux, pages, quiet=0.3, sends=sends)
            tmux.send("q")
            if trace is not None and attempt == opens - 1:
                time.sleep(1.0)  # back on the queue: q again quits, and the trace is written
                tmux.send("q")
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not trace.exists():
                    time.sleep(0.1)
                time.sleep(0.5)
        finally:
            tmux.kill()
    if trace is not None:
        from trace_tui import report, report_open  # benchmarks/, beside this script

        report_open(trace, [last_open])
        report(trace, sends)
    return result


def run_less(work: Path, env: dict[str, str], token: str, opens: int, pages: int) -> dict:
    result: dict[str, list[float]] = {"open": [], "page": []}
    for attempt in range(opens):
        tmux = Tmux(f"less{attempt}", work / "repo", env)
        try:
            tmux.type("git --no-pager show HEAD | less")
            settle(tmux, 0.3)
            tmux.send("Enter")
            start = time.perf_counter()
            wait_for(tmux, lambda s: token in s, 60.0)
            result["open"].append(time.perf_counter() - start)
            if attempt == opens - 1:
                settle(tmux, 0.5)
                result["page"] = page_downs(tmux, pages, quiet=0.1)
            tmux.send("q")
        finally:
            tmux.kill()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=56000)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--opens", type=int, default=3, help="times the change is opened")
    parser.add_argument("--quick", action="store_true", help="12 pages, one open")
    parser.add_argument("--keep", action="store_true", help="keep the temp repository")
    parser.add_argument(
        "--trace",
        type=Path,
        help="debug run: start the app through trace_tui.py, write its events to this file and "
        "attribute each slow page down (collections, background jobs overlapping it)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a py-spy profile (collapsed stacks, every thread) of the last open to this "
        "file: from half a second before Enter to the diff on screen (needs py-spy)",
    )
    parser.add_argument("--no-less", action="store_true", help="skip the less baseline")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.opens = 12, 1
    if shutil.which("tmux") is None:
        print("bench_tui_terminal: tmux is not installed", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="reviewq-bench-tui-"))
    home = work / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench Reviewer\n\temail = bench@example.com\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "LESS": "",
        "PS1": "$ ",
        "PYTHONPATH": str(ROOT),
    }
    try:
        print(f"load before: {uptime()}")
        started = time.perf_counter()
        diff_lines, token = build_repo(work / "repo", args.lines, env)
        print(f"repository: one AI commit of {diff_lines:,} diff lines "
              f"({time.perf_counter() - started:.1f} s to build)")  # fmt: skip
        # The first hunk's header: on screen in both viewers once the diff is shown.
        rq = run_reviewq(work, env, token, args.opens, args.pages, args.trace, args.profile)
        if args.no_less:
            base = {"open": [1e-3], "page": [1e-3]}
        else:
            base = run_less(work, env, token, args.opens, args.pages)
        print(f"terminal {WIDTH}x{HEIGHT} (tmux), {args.pages} page downs, {args.opens} open(s)")
        rows = [
            ("open: Enter -> diff lines", "open"),
            ("page down -> new screen", "page"),
        ]
        for label, key in rows:
            print(f"{label}")
            print(f"  reviewq  {fmt(rq[key])}")
            if key == "open":
                print("  reviewq  each: " + ", ".join(f"{t * 1000:.0f}" for t in rq[key]) + " ms")
            print(f"  less     {fmt(base[key])}")
            (rm, rp, rx), (lm, lp, lx) = stats(rq[key]), stats(base[key])
            print(
                f"  ratio    median {rm / max(lm, 1e-4):6.1f}x   p95 {rp / max(lp, 1e-4):6.1f}x"
                f"   max {rx / max(lx, 1e-4):6.1f}x"
            )
        print(f"load after:  {uptime()}")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
