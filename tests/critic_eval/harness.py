"""The offline critic's evaluation set: small diffs with planted issues, and clean ones.

Each case is a TOML file in `cases/`: a description, optionally the prompt and commit message,
the rule ids the critic must report (`expect`, empty for a clean change) and the files before and
after. The harness turns the files into a real git-style unified diff, parses it with reviewq's
own reader and runs the critic on it.

Secrets are never written into the repository: cases say `{{AWS_KEY}}` and the harness puts a
key-shaped value there at run time (push protection and secret scanners stay quiet).
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from reviewq.core.critique import CritiqueInput
from reviewq.core.model import Critique
from reviewq.sources.diffs import parse_unified_diff

CASES_DIR = Path(__file__).resolve().parent / "cases"

# Key-shaped values, assembled so no complete token appears in the source.
FIXTURE_SECRETS = {
    "AWS_KEY": "AKIA" + "Q3EGT7WZ" + "N4JX5P2L",
    "AWS_SECRET": "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzQ8fT3kV2m",
    "GITHUB_TOKEN": "ghp_" + "R7fQ2mX9kL4pT8vB3nW6" + "yZ1cH5jD0sA2eG4u",
    "SLACK_TOKEN": "xoxb-" + "2048-1234567890-" + "aB3dE5fG7hJ9kL1m",
    "STRIPE_KEY": "sk_" + "live_" + "51HqZ8kL2mN4pQ6rS8tU0vW2",
    "OPENAI_KEY": "sk-" + "proj-" + "Vb7Xq2Lm9Rt4Wz8Kp3Nd6Yf1Hs5Gj0Ca",
    "PRIVATE_KEY": "-----BEGIN "
    + "PRIVATE KEY-----\n"
    + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    + "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    + "-----END PRIVATE KEY-----",
}


@dataclass(frozen=True)
class CaseFile:
    path: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    expect: tuple[str, ...]
    files: tuple[CaseFile, ...]
    prompt: str | None = None
    message: str = ""
    author_family: str = "anthropic"

    @property
    def clean(self) -> bool:
        return not self.expect


def _expand(text: str | None) -> str | None:
    if text is None:
        return None
    for name, value in FIXTURE_SECRETS.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def load_case(path: Path) -> Case:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    files = tuple(
        CaseFile(f["path"], _expand(f.get("before")), _expand(f.get("after")))
        for f in data["files"]
    )
    return Case(
        name=path.stem,
        description=data["description"],
        expect=tuple(data.get("expect", [])),
        files=files,
        prompt=data.get("prompt"),
        message=data.get("message", "Change\n"),
    )


def load_cases(folder: Path = CASES_DIR) -> list[Case]:
    return [load_case(p) for p in sorted(folder.glob("*.toml"))]


def _blob_id(text: str | None) -> str:
    return hashlib.sha1((text or "").encode()).hexdigest()[:7] if text is not None else "0000000"


def unified_diff(files: tuple[CaseFile, ...] | list[CaseFile]) -> bytes:
    """A git-style unified diff (headers as `git diff` writes them) of the case's files."""
    out: list[str] = []
    for f in files:
        out.append(f"diff --git a/{f.path} b/{f.path}\n")
        if f.before is None:
            out.append("new file mode 100644\n")
        elif f.after is None:
            out.append("deleted file mode 100644\n")
        out.append(f"index {_blob_id(f.before)}..{_blob_id(f.after)}\n")
        old = (f.before or "").splitlines(keepends=True)
        new = (f.after or "").splitlines(keepends=True)
        fromfile = "/dev/null" if f.before is None else f"a/{f.path}"
        tofile = "/dev/null" if f.after is None else f"b/{f.path}"
        lines = list(difflib.unified_diff(old, new, fromfile, tofile, n=3))
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out).encode("utf-8")


def case_input(case: Case) -> CritiqueInput:
    diff = parse_unified_diff(unified_diff(case.files), source=case.name)
    old_texts = {f.path: f.before for f in case.files if f.before is not None}
    new_texts = {f.path: f.after for f in case.files if f.after is not None}
    return CritiqueInput(
        change_id=f"eval:{case.name}",
        sha=None,
        message=case.message,
        prompt=case.prompt,
        prompt_source="eval" if case.prompt else None,
        author_family=case.author_family,
        diff=diff,
        old_texts=old_texts,
        new_texts=new_texts,
    )


@dataclass
class RuleScore:
    expected: int = 0
    found: int = 0
    #: Findings of this rule on clean cases.
    false_positives: int = 0
    #: Findings of this rule on planted cases that did not expect it.
    extra: int = 0


@dataclass
class Report:
    planted: int = 0
    clean: int = 0
    expected: int = 0
    found: int = 0
    clean_findings: int = 0
    clean_cases_flagged: list[str] = field(default_factory=list)
    missed: list[tuple[str, str]] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)
    rules: dict[str, RuleScore] = field(default_factory=lambda: defaultdict(RuleScore))
    critiques: dict[str, Critique] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0


def evaluate(critic, cases: list[Case]) -> Report:
    """Recall over (case, expected rule) pairs; every finding on a clean case is a false
    positive; rules found on a planted case that did not expect them are listed as extra."""
    report = Report()
    for case in cases:
        critique = critic.review(case_input(case))
        report.critiques[case.name] = critique
        got = Counter(f.rule for f in critique.findings if f.verified)
        if case.clean:
            report.clean += 1
            n = sum(got.values())
            report.clean_findings += n
            if n:
                report.clean_cases_flagged.append(case.name)
            for rule_id, count in got.items():
                report.rules[rule_id].false_positives += count
            continue
        report.planted += 1
        for rule_id in case.expect:
            report.expected += 1
            report.rules[rule_id].expected += 1
            if got[rule_id]:
                report.found += 1
                report.rules[rule_id].found += 1
            else:
                report.missed.append((case.name, rule_id))
        for rule_id in got:
            if rule_id not in case.expect:
                report.rules[rule_id].extra += 1
                report.extra.append((case.name, rule_id))
    return report


def input_for(
    files: dict[str, tuple[str | None, str | None]],
    *,
    prompt: str | None = None,
    message: str = "Change\n",
    author_family: str = "anthropic",
) -> CritiqueInput:
    """A CritiqueInput from {path: (before, after)}: the tests' quick way to a real diff."""
    case = Case(
        name="adhoc",
        description="",
        expect=(),
        files=tuple(CaseFile(p, _expand(b), _expand(a)) for p, (b, a) in files.items()),
        prompt=prompt,
        message=message,
        author_family=author_family,
    )
    return case_input(case)
