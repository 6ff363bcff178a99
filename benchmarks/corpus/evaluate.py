"""Score reviewq's detection against the hand-checked labels of real history windows.

For each window in windows.json: a bare clone of the public repository (from MIRRORS, default
/work/.mirror/<owner>+<name>/repo, made with --shared so nothing is copied), then the real CLI,
`reviewq scan --json --no-cache --max-count N TIP`, timed next to a raw `git log` of the same
window with the scan's own format. One window is also scanned from a partial clone that lacks its
large blobs (blob:limit, origin gone), which must not fail. Prints precision/recall per agent, agent
and family accuracy, aider prompt extraction, and writes every disagreement to WORK/disagreements.jsonl.

    python benchmarks/corpus/evaluate.py [--mirrors DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The contract's named agents: "well-known" in the issue's sense.
WELL_KNOWN = {
    "claude-code",
    "aider",
    "codex",
    "copilot",
    "cursor",
    "devin",
    "jules",
    "gemini-cli",
    "openhands",
    "amp",
    "qwen-code",
    "opencode",
    "windsurf",
    "cline",
}
REVIEWERS = {"gemini-code-assist", "ellipsis", "coderabbit", "greptile"}


def overrides() -> dict[str, dict]:
    path = HERE / "overrides.jsonl"
    if not path.exists():
        return {}
    return {r["sha"]: r for r in map(json.loads, path.read_text().splitlines()) if r}


def digest(text: str | None) -> str | None:
    """The labels' prompt digest (whitespace collapsed, sha256) of a prompt the scan printed."""
    if not text:
        return None
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def run_scan(repo: Path, tip: str, count: int, env: dict) -> tuple[dict[str, dict], float, int]:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "reviewq",
            "--repo",
            str(repo),
            "scan",
            "--json",
            "--no-cache",
            f"--max-count={count}",
            tip,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"  SCAN FAILED ({proc.returncode}): {proc.stderr.strip()}")
        return {}, took, proc.returncode
    if proc.stderr.strip():
        print(f"  stderr: {proc.stderr.strip()}")
    return {r["sha"]: r for r in map(json.loads, proc.stdout.splitlines())}, took, 0


def raw_log(repo: Path, tip: str, count: int) -> float:
    sys.path.insert(0, str(HERE.parents[1]))
    from reviewq.sources.git_log import log_args

    start = time.perf_counter()
    subprocess.run(
        ["git", *log_args([tip], max_count=count)], cwd=repo, capture_output=True, check=True
    )
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--work", default="/tmp/reviewq-corpus")
    ap.add_argument("--only", help="one repository (owner/name)")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(work / "state"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "PYTHONSAFEPATH": "1",
    }
    fixes = overrides()
    totals: Counter = Counter()
    per_agent: dict[str, Counter] = {}
    disagreements = []
    failed = 0
    scan_time = raw_time = 0.0
    windows = json.loads((HERE / "windows.json").read_text())
    for w in windows:
        if args.only and w["repo"] != args.only:
            continue
        name = w["repo"].replace("/", "+")
        mirror = Path(args.mirrors) / name / "repo"
        clone = work / f"{name}.git"
        if not clone.exists():
            subprocess.run(
                ["git", "clone", "-q", "--bare", "--shared", str(mirror), str(clone)], check=True
            )
        labels = {}
        for line in (HERE / "labels" / f"{w['repo'].split('/')[1]}.jsonl").read_text().splitlines():
            rec = json.loads(line)
            labels[rec["sha"]] = fixes.get(rec["sha"], rec)
        print(f"{w['repo']}: {len(labels)} commits")
        raw_time_w = raw_log(clone, w["tip"], w["count"])
        found, took, code = run_scan(clone, w["tip"], w["count"], env)
        failed += code != 0
        scan_time += took
        raw_time += raw_time_w
        print(f"  scan {took:.2f}s, raw git log {raw_time_w:.2f}s")
        for sha, lab in labels.items():
            got = found.get(sha)
            agent = lab.get("agent") if lab["ai"] else None
            stats = per_agent.setdefault(agent or (got and got["agent"]) or "-", Counter())
            if lab["ai"] and got:
                totals["tp"] += 1
                per_agent.setdefault(agent, Counter())["tp"] += 1
                totals["agent_ok"] += got["agent"] == agent
                totals["family_ok"] += got["family"] == lab["family"]
                if got["agent"] != agent or got["family"] != lab["family"]:
                    disagreements.append(
                        {
                            "repo": w["repo"],
                            "sha": sha,
                            "kind": "attribution",
                            "label": lab,
                            "got": {k: got[k] for k in ("agent", "model", "family", "evidence")},
                        }
                    )
                if lab.get("prompt_sha256"):
                    totals["prompt_n"] += 1
                    ok = digest(got.get("prompt")) == lab["prompt_sha256"]
                    totals["prompt_ok"] += ok
                    if not ok:
                        disagreements.append(
                            {
                                "repo": w["repo"],
                                "sha": sha,
                                "kind": "prompt",
                                "got_prompt_source": got.get("prompt_source"),
                            }
                        )
            elif lab["ai"]:
                totals["fn"] += 1
                per_agent.setdefault(agent, Counter())["fn"] += 1
                if lab.get("prompt_sha256"):
                    totals["prompt_n"] += 1
                disagreements.append(
                    {"repo": w["repo"], "sha": sha, "kind": "missed", "label": lab}
                )
            elif got:
                totals["fp"] += 1
                per_agent.setdefault(got["agent"], Counter())["fp"] += 1
                disagreements.append(
                    {
                        "repo": w["repo"],
                        "sha": sha,
                        "kind": "false-alarm",
                        "got": {k: got[k] for k in ("agent", "family", "evidence")},
                    }
                )
            else:
                totals["tn"] += 1
            del stats
        # Commits the scan printed outside the labelled window would be a mismatch of windows.
        extra = set(found) - set(labels)
        if extra:
            print(f"  {len(extra)} scanned commits outside the labelled window")
    # Failure mode: a partial clone lacking large blobs, origin offline.
    partial = [w for w in windows if w["repo"] == "charmbracelet/crush"]
    if partial and not args.only:
        w = partial[0]
        src = work / "crush-origin.git"
        pc = work / "crush-partial.git"
        if not pc.exists():
            if not src.exists():
                subprocess.run(
                    [
                        "git",
                        "clone",
                        "-q",
                        "--bare",
                        "--shared",
                        str(Path(args.mirrors) / "charmbracelet+crush" / "repo"),
                        str(src),
                    ],
                    check=True,
                )
            subprocess.run(
                ["git", "-C", str(src), "config", "uploadpack.allowFilter", "true"], check=True
            )
            subprocess.run(
                [
                    "git",
                    "clone",
                    "-q",
                    "--bare",
                    "--filter=blob:limit=2k",
                    f"file://{src}",
                    str(pc),
                ],
                check=True,
            )
        hidden = src.with_suffix(".offline")
        src.rename(hidden)
        try:
            found, took, code = run_scan(pc, w["tip"], w["count"], env)
        finally:
            hidden.rename(src)
        failed += code != 0
        sizes = Counter(r.get("sizes") for r in found.values())
        print(
            f"partial clone of crush (blob:limit=2k, origin offline): exit {code}, "
            f"{len(found)} AI commits, sizes {dict(sizes)}, {took:.2f}s"
        )
    # Figures
    tp, fp, fn = totals["tp"], totals["fp"], totals["fn"]
    print("\nper agent (label agent; tp / fn / fp):")
    rows = []
    for agent, c in sorted(per_agent.items(), key=lambda kv: -(kv[1]["tp"] + kv[1]["fn"])):
        if agent in (None, "-") or not (c["tp"] + c["fn"] + c["fp"]):
            continue
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        rows.append((agent, c["tp"], c["fn"], c["fp"], p, r))
        print(
            f"  {agent:22} {c['tp']:5} {c['fn']:4} {c['fp']:4}  precision {p:.3f}  recall {r:.3f}"
        )
    wk = [r for r in rows if r[0] in WELL_KNOWN]
    tail = [r for r in rows if r[0] not in WELL_KNOWN and r[0] not in REVIEWERS]

    def recall(rs):
        n = sum(r[1] + r[2] for r in rs)
        return sum(r[1] for r in rs) / n if n else float("nan"), n

    summary = {
        "commits": sum(totals.values())
        - totals["agent_ok"]
        - totals["family_ok"]
        - totals["prompt_n"]
        - totals["prompt_ok"],
        "ai_labelled": tp + fn,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "recall_well_known": recall(wk),
        "recall_other_agents": recall(tail),
        "agent_accuracy": totals["agent_ok"] / tp if tp else None,
        "family_accuracy": totals["family_ok"] / tp if tp else None,
        "aider_prompts": (totals["prompt_ok"] / totals["prompt_n"], totals["prompt_n"])
        if totals["prompt_n"]
        else None,
        "failed_scans": failed,
        "scan_seconds": round(scan_time, 2),
        "raw_git_log_seconds": round(raw_time, 2),
    }
    print(json.dumps(summary, indent=1))
    out = work / "disagreements.jsonl"  # generated: quotes commit text, so never committed
    print(f"disagreements: {out}")
    with open(out, "w") as fh:
        for d in disagreements:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
