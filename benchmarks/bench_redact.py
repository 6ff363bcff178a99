"""What the redactor hides: secret shapes caught, and ordinary code hidden by mistake.

    python benchmarks/bench_redact.py [CODE_DIR ...]

1. Coverage: the synthetic samples of tests/redact_shapes.py (token shapes of gitleaks' rule
   set), each in code (`value = "..."`), in prose ("Rotated ... for staging") and, for the keyword
   shapes, in an assignment naming the provider.
2. False positives: every line of the Python files under CODE_DIR (default: this Python's
   standard library, top level only, no tests) passed through both passes as a model critic
   would send them (file pass, then the whole rendered block as prose); a line counts when the
   request would differ from the code. Ordinary code: any hit is a false positive unless it is a
   real secret or key-like test data (listed with --show).
"""

from __future__ import annotations

import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewq.critics.redact import Redactor
from tests.redact_shapes import shapes


def coverage() -> tuple[int, int, list[str]]:
    missed = []
    rows = shapes()
    for name, kind, sample in rows:
        if kind == "prefixed":
            texts = [f'    value = "{sample}"', f"Rotated {sample} for the staging box"]
        else:
            var = kind.split(":", 1)[1]
            texts = [f'{var} = "{sample}"', f'    {var.lower()}: "{sample}"']
        if any(sample in (Redactor().text(t) or "") for t in texts):
            missed.append(name)
    return len(rows), len(rows) - len(missed), missed


def false_positives(dirs: list[Path], show: bool) -> tuple[int, int, int, float]:
    files = [f for d in dirs for f in sorted(d.glob("*.py"))]
    lines = hit = 0
    started = time.perf_counter()
    for path in files:
        text = path.read_text("utf-8", "replace").split("\n")
        lines += len(text)
        r = Redactor()
        first = r.lines(text)
        rendered = [f"{i:>6} +|{t}" for i, t in enumerate(first, 1)]
        second = (r.text("\n".join(rendered)) or "").split("\n")
        for i, (a, b) in enumerate(zip(rendered, second)):
            if a != b or first[i] != text[i]:
                hit += 1
                if show:
                    print(f"{path.name}:{i + 1}: {text[i].strip()[:110]}")
    return len(files), lines, hit, time.perf_counter() - started


def main(argv: list[str]) -> int:
    show = "--show" in argv
    dirs = [Path(a) for a in argv if not a.startswith("--")] or [
        Path(sysconfig.get_paths()["stdlib"])
    ]
    total, caught, missed = coverage()
    print(f"shapes: {caught}/{total} caught" + (f"; missed: {', '.join(missed)}" if missed else ""))
    files, lines, hit, seconds = false_positives(dirs, show)
    print(
        f"ordinary code: {files} files, {lines} lines, {hit} lines changed "
        f"({hit / max(lines, 1) * 10000:.1f} per 10,000 lines), {seconds:.1f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
