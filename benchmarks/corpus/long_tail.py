"""Leave-one-agent-out: would the generic rules alone catch an agent nobody listed?

For each labelled agent outside the contract's named ones, every entry that names it is taken out
of the detector's tables (addresses, logins, tool and vendor names, tool words, Gas Town's
patterns), and its labelled commits are detected again in-process. Detected = the long-tail rules
caught it (the agent name may then be the login or `other`: recall only).

    python benchmarks/corpus/long_tail.py [--mirrors DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from reviewq.core import agent_identities, detect  # noqa: E402
from reviewq.core.model import Commit, Identity  # noqa: E402

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


def without(agent: str):
    """Strip every table entry that names `agent`; returns a restore function."""
    saved = []
    for table in (
        agent_identities.AI_EMAILS,
        agent_identities.AI_LOGINS,
        agent_identities.TOOL_NAMES,
        agent_identities.VENDOR_NAMES,
    ):
        for key, value in list(table.items()):
            slug = (
                value.slug
                if hasattr(value, "slug")
                else value[0]
                if isinstance(value, tuple)
                else value
            )
            if slug == agent:
                saved.append((table, key, value))
                del table[key]
    words = agent_identities.TOOL_WORDS
    agent_identities.TOOL_WORDS = tuple(w for w in words if w[1] != agent)
    gastown = agent_identities.GASTOWN
    if agent == "gastown":
        agent_identities.GASTOWN = __import__("re").compile(r"(?!)")
    agent_identities.classify_identity.cache_clear()
    agent_identities.named_agent.cache_clear()
    detect._co_author_meaning.cache_clear()

    def restore():
        for table, key, value in saved:
            table[key] = value
        agent_identities.TOOL_WORDS = words
        agent_identities.GASTOWN = gastown
        agent_identities.classify_identity.cache_clear()
        agent_identities.named_agent.cache_clear()
        detect._co_author_meaning.cache_clear()

    return restore


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", default="/work/.mirror")
    args = ap.parse_args()
    per: dict[str, Counter] = {}
    for w in json.loads((HERE / "windows.json").read_text()):
        labels = [
            json.loads(x)
            for x in (HERE / "labels" / f"{w['repo'].split('/')[1]}.jsonl").read_text().splitlines()
        ]
        tail = {r["sha"]: r for r in labels if r["ai"] and r["agent"] not in WELL_KNOWN | REVIEWERS}
        if not tail:
            continue
        git_dir = Path(args.mirrors) / w["repo"].replace("/", "+") / "repo"
        out = subprocess.run(
            [
                "git",
                "--git-dir",
                str(git_dir),
                "log",
                "-z",
                "--no-walk=unsorted",
                "--stdin",
                "--format=%H%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%B",
            ],
            input="\n".join(tail).encode(),
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8", "replace")
        for rec in out.split("\0"):
            parts = rec.split("\x1f", 5)
            if len(parts) < 6:
                continue
            sha = parts[0].strip()
            agent = tail[sha]["agent"]
            restore = without(agent)
            try:
                commit = Commit(
                    sha,
                    (),
                    Identity(parts[1], parts[2]),
                    Identity(parts[3], parts[4]),
                    "",
                    "",
                    parts[5].rstrip("\n"),
                )
                got = detect.Detector().detect(commit)
            finally:
                restore()
            c = per.setdefault(agent, Counter())
            c["n"] += 1
            c["caught"] += got is not None
            if got is not None:
                c[f"as {got.agent}"] += 1
    total = sum(c["n"] for c in per.values())
    caught = sum(c["caught"] for c in per.values())
    for agent, c in sorted(per.items(), key=lambda kv: -kv[1]["n"]):
        named = {k[3:]: v for k, v in c.items() if k.startswith("as ")}
        print(f"{agent:16} {c['caught']:5}/{c['n']:<5} {c['caught'] / c['n']:.3f}  as {named}")
    print(f"long tail, each agent unlisted in turn: {caught}/{total} = {caught / total:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
