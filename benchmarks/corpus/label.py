"""Label a window of a real repository's history: which commits an AI agent wrote, which agent,
which model family, and (for aider's transcripts) the prompt. Independent of reviewq's detector:
it imports nothing from reviewq. The rules are in RULES.md; `overrides.jsonl` records the commits a
person checked by hand where these rules alone get it wrong (each with the reason).

    python benchmarks/corpus/label.py MIRROR_GIT_DIR TIP COUNT > labels/REPO.jsonl
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

# Rule A: addresses and logins the agents themselves write (verified in the windows' history).
OWN_ADDRESSES = {
    "noreply@anthropic.com": "claude-code",
    "noreply@openai.com": "codex",
    "codex@openai.com": "codex",
    "cursoragent@cursor.com": "cursor",
    "amp@ampcode.com": "amp",
    "openhands@all-hands.dev": "openhands",
    "opendevin@all-hands.dev": "openhands",
    "openhands-claude@all-hands.dev": "openhands",
    "opendevin@opendevin.ai": "openhands",
    "bot@opendevin.com": "openhands",
    "roomote@roocode.com": "roo-code",
    "crush@charm.land": "crush",
    "aider@aider.chat": "aider",
    "noreply@aider.chat": "aider",
    "gemini-cli@google.com": "gemini-cli",
    "oz-agent@warp.dev": "warp",
    "agent@warp.dev": "warp",
    "help@firebender.com": "firebender",
    "agent@stump.wtf": "joestump-agent",  # a person's own agent (checked by hand)
}
OWN_LOGINS = {
    "claude[bot]": "claude-code",
    "copilot-swe-agent[bot]": "copilot",
    "devin-ai-integration[bot]": "devin",
    "devin-ai-integration": "devin",
    "google-labs-jules[bot]": "jules",
    "chatgpt-codex-connector[bot]": "codex",
    "cursor[bot]": "cursor",
    "roomote[bot]": "roo-code",
    "roomote-v0[bot]": "roo-code",
    "factory-droid[bot]": "factory-droid",
    "opencode-agent[bot]": "opencode",
    "gemini-cli[bot]": "gemini-cli",  # writes code fixes in gemini-cli (checked by hand)
}
# Review bots whose accepted suggestions are co-authored: assistance, not authorship.
REVIEWERS = {
    "gemini-code-assist[bot]": "gemini-code-assist",
    "ellipsis-dev[bot]": "ellipsis",
    "coderabbitai[bot]": "coderabbit",
    "greptile-apps[bot]": "greptile",
}
COPILOT_IDS = {"198982749": "copilot", "223556219": "copilot"}
SINGLE_VENDOR = {
    "claude-code": "anthropic",
    "codex": "openai",
    "gemini-cli": "google",
    "jules": "google",
    "gemini-code-assist": "google",
}
FAMILY_WORDS = [
    ("anthropic", r"claude|opus|sonnet|haiku"),
    ("openai", r"\bgpt|codex|\bo[1-9]\b"),
    ("google", r"gemini"),
    ("zhipu", r"\bglm"),
    ("qwen", r"qwen"),
    ("deepseek", r"deepseek"),
    ("moonshot", r"kimi"),
    ("xai", r"grok"),
]
NOREPLY = re.compile(r"^(?:(\d+)\+)?([^@]+)@users\.noreply\.github\.com$", re.I)
GASTOWN = re.compile(
    r"^(?:[a-z0-9_.-]+/(?:crew|polecats)/[a-z0-9_.-]+|[a-z0-9_.-]+/(?:refinery|witness)|mayor|deacon)$"
)
TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$")
IDENT = re.compile(r"^(.*?)\s*<?([^<>\s]+@[^<>\s]+?)>?\s*$")


def family(text: str) -> str | None:
    t = text.lower()
    for fam, pat in FAMILY_WORDS:
        if re.search(pat, t):
            return fam
    return None


def who(name: str, email: str) -> tuple[str, str] | None:
    """(agent, 'primary'|'assist') an identity stands for."""
    e, n = email.strip().lower(), name.strip()
    if e in OWN_ADDRESSES:
        return OWN_ADDRESSES[e], "primary"
    m = NOREPLY.match(e)
    if m:
        uid, login = m.group(1), m.group(2).lower()
        if login in OWN_LOGINS:
            return OWN_LOGINS[login], "primary"
        if login in REVIEWERS:
            return REVIEWERS[login], "assist"
        if login == "copilot":
            return ("copilot", "primary") if uid in COPILOT_IDS else ("copilot", "assist")
    if n.lower().startswith("openhands-") or n.lower().startswith("opendevin"):
        return "openhands", "primary"
    if GASTOWN.match(n):
        return "gastown", "primary"
    if n.lower() in ("roomote agent", "roo code", "roomote"):
        return "roo-code", "primary"
    if n.lower().endswith("(aider)"):
        return "aider", "primary"
    return None


def visible_lines(body: str) -> list[str]:
    """Body lines outside code fences, quotes and <tag>…</tag> blocks."""
    out, fence, tag = [], False, None
    for line in body.split("\n"):
        s = line.strip()
        if tag:
            if s.lower() == tag:
                tag = None
            continue
        if s.startswith("```") or s.startswith("~~~"):
            fence = not fence
            continue
        m = re.match(r"^<([a-z][a-z0-9_-]*)>$", s, re.I)
        if m and f"</{m.group(1).lower()}>" in body.lower():
            tag = f"</{m.group(1).lower()}>"
            continue
        if fence or s.startswith(">"):
            continue
        out.append(line)
    return out


def user_turns(transcript: str) -> str | None:
    turns, role = [], None
    for line in transcript.split("\n"):
        m = re.match(r"^(USER|ASSISTANT|SYSTEM)\s*:\s?(.*)$", line)
        if m:
            role = m.group(1)
            if role == "USER":
                turns.append([m.group(2)])
            continue
        if role == "USER" and turns:
            turns[-1].append(line)
    texts = [t for t in ("\n".join(x).strip() for x in turns) if t]
    return "\n\n".join(texts) or None


def prompt_digest(text: str) -> str:
    """sha256 of the prompt with its whitespace collapsed (evaluate.py digests the scan's)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def rule_id(why: str) -> str:
    """Which rule decided, without the marker's text (no addresses of people in the labels)."""
    if why in ("aider transcript", "aider: subject"):
        return why
    if why.startswith(("author:", "committer:")):
        return "identity:" + why.split(":", 1)[0]
    m = TRAILER.match(why)
    if m:
        return "trailer:" + m.group(1).lower()
    if "generated with" in why.lower():
        return "body:generated-with"
    return why  # the fixed names: "aider transcript", "aider: subject"


def label(sha, an, ae, cn, ce, message) -> dict:
    subject, _, body = message.partition("\n")
    marks: list[tuple[int, str, str, str, str | None]] = []  # (strength, agent, role, why, model)
    transcript = None
    m = re.search(r"^# (Aider chat conversation|Context):\s*$", body, re.M | re.I)
    if m:
        rest = body[m.end() :]
        if re.search(r"^(USER|ASSISTANT):", rest, re.M) and (
            m.group(1).lower().startswith("aider") or re.search(r"^ASSISTANT:", rest, re.M)
        ):
            transcript = rest
            marks.append((3, "aider", "primary", "aider transcript", None))
        body = body[: m.start()]
    for src, (n, e) in (("author", (an, ae)), ("committer", (cn, ce))):
        found = who(n, e)
        if found and not (src == "committer" and found[0] == "aider"):
            model = None
            low = n.lower()
            if low.startswith(("openhands-", "claude ")) and family(n):
                model = n
            # An orchestrator's identity (Gas Town) is weaker than the marker of the agent it ran.
            strength = 0 if found[0] == "gastown" else 2 if src == "author" else 1
            marks.append((strength, found[0], found[1], f"{src}: {n} <{e}>", model))
    if subject.lower().startswith("aider:"):
        marks.append((3, "aider", "primary", "aider: subject", None))
    for line in visible_lines(body):
        if line[:1] in " \t":
            continue  # indented: code or an example, not the commit's own trailer
        s = line.strip()
        t = TRAILER.match(s)
        if re.match(r"^\W{0,3}\s*Generated with \[?Claude Code", s):
            marks.append((3, "claude-code", "primary", s, None))
        elif re.match(r"^\W{1,3}\s*Generated with Crush", s):
            marks.append((3, "crush", "primary", s, None))
        elif re.match(r"^\W{1,3}\s*Generated with \[Nori\]", s):
            marks.append((3, "nori", "primary", s, None))
        elif re.match(r"^\W{1,3}\s*Generated with \[Firebender\]", s):
            marks.append((3, "firebender", "primary", s, None))
        if not t:
            continue
        key, value = t.group(1).lower(), t.group(2)
        if key == "co-authored-by":
            im = IDENT.match(value)
            if im:
                found = who(im.group(1), im.group(2))
                if found:
                    model = (
                        im.group(1)
                        if family(im.group(1)) and found[0] in ("claude-code", "openhands", "aider")
                        else None
                    )
                    if found[0] == "aider":
                        inner = re.search(r"\(([^)]+)\)", im.group(1))
                        model = inner.group(1) if inner else None
                    strength = 3 if found[1] == "primary" else 0
                    if found[0] == "gastown":
                        strength = 0
                    marks.append((strength, found[0], found[1], s, model))
        elif key in ("claude-session", "claude-plan"):
            marks.append((3, "claude-code", "primary", s, None))
        elif key in ("amp-thread-id", "amp-thread"):
            marks.append((3, "amp", "primary", s, None))
        elif key == "agent-logs-url" and "/sessions/" in value:
            marks.append((3, "copilot", "primary", s, None))
        elif key == "executed-by" and GASTOWN.match(value.strip()):
            marks.append((0, "gastown", "primary", s, None))
        elif key == "made-with" and "cursor" in value.lower():
            marks.append((1, "cursor", "primary", s, None))
        elif key == "ai-assisted" and value.strip():
            tool = value.strip().split()[0].lower()
            marks.append((2, {"claude": "claude-code"}.get(tool, tool), "assist", s, None))
        elif key == "assisted-by" and value.strip().lower() in ("crush", "claude code", "codex"):
            tool = value.strip().lower()
            marks.append((2, {"claude code": "claude-code"}.get(tool, tool), "assist", s, None))
        elif key == "assisted-by":
            via = re.match(r"^(.+?) via (\w+)", value)
            colon = re.match(r"^(\w+):(.+)$", value)
            if via:
                marks.append((2, via.group(2).lower(), "assist", s, via.group(1)))
            elif colon and colon.group(1).lower() not in ("llm",):
                tool = colon.group(1).lower()
                tool = {"claude": "claude-code"}.get(tool, tool)
                marks.append((2, tool, "assist", s, colon.group(2)))
            elif family(value):
                marks.append(
                    (
                        2,
                        "claude" if value.lower().startswith("claude") else "other",
                        "assist",
                        s,
                        value,
                    )
                )
    record = {"sha": sha, "ai": False}
    if not marks:
        return record
    best = max(marks, key=lambda x: (x[2] == "primary", x[0]))
    agent = best[1]
    model = next((m[4] for m in sorted(marks, key=lambda x: -x[0]) if m[1] == agent and m[4]), None)
    fam = family(model) if model else None
    record.update(
        ai=True,
        agent=agent,
        role="primary" if any(m[2] == "primary" for m in marks) else "assist",
        family=fam or SINGLE_VENDOR.get(agent, "unknown"),
        rule=rule_id(best[3]),
    )
    if transcript is not None:
        prompt = user_turns(transcript)
        # The prompt's digest, not its text: the labels carry no content of the repositories.
        record["prompt_sha256"] = prompt_digest(prompt) if prompt else None
    return record


def main() -> None:
    git_dir, tip, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = subprocess.run(
        [
            "git",
            "--git-dir",
            git_dir,
            "log",
            "-z",
            f"--max-count={count}",
            "--format=%H%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%B",
            tip,
            "--",
        ],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    for rec in out.split("\0"):
        parts = rec.split("\x1f", 5)
        if len(parts) < 6:
            continue
        print(
            json.dumps(
                label(parts[0].strip(), *parts[1:5], parts[5].rstrip("\n")), ensure_ascii=False
            )
        )


if __name__ == "__main__":
    main()
