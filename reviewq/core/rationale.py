"""The design-rationale summary: what a change does, in structure, for a reviewer who did not
write it. Offline, before any model runs.

Per file: functions and classes added, removed or changed (Python through `ast`, comparing the
old and new file text; other languages through git's hunk section headers and definition lines),
module-level imports and names, YAML keys. Then how the change maps to the prompt (which of its
words the change reflects, which files it does not account for, tests asked for and written), and
the commit message's own explanation. A model critic's rationale is attached when one ran.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewq.core.detectors.base import language_of
from reviewq.core.detectors.intent import (
    asks_for_tests,
    is_sensitive,
    mention,
    overlap,
    tests_touched,
    words,
)
from reviewq.core.message import parse_message
from reviewq.core.model import Diff, FileDiff
from reviewq.core.pace import offload, pause
from reviewq.core.risk import is_lockfile, is_test_path

#: Symbols listed per file before "and N more".
MAX_SYMBOLS = 12


@dataclass(frozen=True, slots=True)
class SymbolChange:
    kind: str  # function | class | method | section | key
    name: str  # qualified: Class.method
    change: str  # added | removed | changed
    line: int | None = None  # new-side line (old-side for removed symbols)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "change": self.change, "line": self.line}


@dataclass(slots=True)
class FileStructure:
    path: str
    old_path: str | None
    status: str
    language: str
    additions: int
    deletions: int
    #: How the symbols were found: ast, hunk headers, or none (binary, too large, data).
    method: str
    symbols: list[SymbolChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "old_path": self.old_path,
            "status": self.status,
            "language": self.language,
            "additions": self.additions,
            "deletions": self.deletions,
            "method": self.method,
            "symbols": [s.to_json() for s in self.symbols],
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class PromptMap:
    """How the change lines up with the request (word-level: a hint, not a judgement)."""

    prompt: str | None
    source: str | None
    reflected: list[str] = field(default_factory=list)
    not_reflected: list[str] = field(default_factory=list)
    unaccounted_files: list[str] = field(default_factory=list)
    tests_asked: bool = False
    tests_changed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "source": self.source,
            "reflected": list(self.reflected),
            "not_reflected": list(self.not_reflected),
            "unaccounted_files": list(self.unaccounted_files),
            "tests_asked": self.tests_asked,
            "tests_changed": self.tests_changed,
        }


@dataclass(slots=True)
class Rationale:
    subject: str
    message_body: str
    files: list[FileStructure]
    prompt_map: PromptMap
    #: A model critic's own account of the design, when one ran (cached critiques only).
    model_rationale: str | None = None
    model_critic: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "message_body": self.message_body,
            "files": [f.to_json() for f in self.files],
            "prompt_map": self.prompt_map.to_json(),
            "model_rationale": self.model_rationale,
            "model_critic": self.model_critic,
        }

    def structure_lines(self) -> list[str]:
        out: list[str] = []
        for f in self.files:
            rename = f" (from {f.old_path})" if f.old_path else ""
            out.append(
                f"{f.path}{rename}: {f.status}, +{f.additions}/-{f.deletions}"
                + (f", by {f.method}" if f.method not in ("none",) else "")
            )
            for note in f.notes:
                out.append(f"  {note}")
            shown = f.symbols[:MAX_SYMBOLS]
            for s in shown:
                where = f" (line {s.line})" if s.line else ""
                out.append(f"  {s.change} {s.kind} {s.name}{where}")
            if len(f.symbols) > len(shown):
                out.append(f"  ... and {len(f.symbols) - len(shown)} more")
        return out

    def prompt_lines(self) -> list[str]:
        pm = self.prompt_map
        if not pm.prompt:
            return ["no prompt recorded: nothing to compare the change with"]
        out = []
        if pm.reflected:
            out.append(f"reflected in the change: {', '.join(pm.reflected)}")
        if pm.not_reflected:
            out.append(f"not found in the change: {', '.join(pm.not_reflected)}")
        if pm.unaccounted_files:
            out.append(f"files the prompt does not account for: {', '.join(pm.unaccounted_files)}")
        if pm.tests_asked:
            out.append(
                "tests asked for: "
                + ("test files changed" if pm.tests_changed else "no test file changed")
            )
        return out or ["every file is accounted for by the prompt"]

    def to_text(self) -> str:
        parts = ["Structure:", *("  " + line for line in self.structure_lines())]
        parts += ["Against the prompt:", *("  " + line for line in self.prompt_lines())]
        if self.message_body:
            parts += ["Commit message:", *("  " + line for line in self.message_body.splitlines())]
        if self.model_rationale:
            who = f" ({self.model_critic})" if self.model_critic else ""
            parts += [
                f"Model rationale{who}:",
                *("  " + ln for ln in self.model_rationale.splitlines()),
            ]
        return "\n".join(parts)


# -- Python through ast ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Def:
    kind: str
    line: int
    #: What decides "changed": the source text of the definition, whitespace-normalised.
    body: str


_WS = re.compile(r"\s+")


def _segment(lines: list[str], node: ast.AST) -> str:
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)])  # type: ignore[attr-defined]
    end = getattr(node, "end_lineno", node.lineno)  # type: ignore[attr-defined]
    return _WS.sub(" ", "\n".join(lines[start - 1 : end])).strip()


class _Value:
    """A module-level name's value, compared as `ast.dump` would compare it, but lazily: the
    same statement text is the same value, so only statements whose text changed are dumped
    (dumping every value of a large module took seconds)."""

    __slots__ = ("_dump", "node", "text")

    def __init__(self, text: str, node: ast.AST | None) -> None:
        self.text = text
        self.node = node
        self._dump: str | None = None

    def dump(self) -> str:
        if self._dump is None:
            self._dump = ast.dump(self.node) if self.node is not None else ""
        return self._dump

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Value):
            return NotImplemented
        return self.text == other.text or self.dump() == other.dump()

    __hash__ = None  # type: ignore[assignment]


def python_definitions(text: str) -> tuple[dict[str, _Def], dict[str, _Value], set[str]]:
    """(qualified name -> definition, module-level name -> value, imported names).

    A class's own "body" leaves out its methods, so changing one method shows as a changed
    method, not as a changed class as well. Raises SyntaxError for text that does not parse.
    """
    tree = ast.parse(text)
    lines = text.split("\n")
    defs: dict[str, _Def] = {}
    names: dict[str, _Value] = {}
    imports: set[str] = set()

    def visit(body: list[ast.stmt], prefix: str, in_class: bool) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                kind = "method" if in_class else "function"
                defs[prefix + node.name] = _Def(kind, node.lineno, _segment(lines, node))
            elif isinstance(node, ast.ClassDef):
                own = [
                    n
                    for n in node.body
                    if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                ]
                head = ast.dump(
                    ast.Module(
                        body=[*own],
                        type_ignores=[],
                    )
                ) + "|".join(ast.dump(b) for b in [*node.bases, *node.decorator_list])
                defs[prefix + node.name] = _Def("class", node.lineno, head)
                visit(node.body, f"{prefix}{node.name}.", True)
            elif not prefix and isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    imports.add(alias.asname or alias.name)
            elif not prefix and isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                # The statement's lines as written: equal text, equal value (no dump needed).
                source = "\n".join(lines[node.lineno - 1 : node.end_lineno or node.lineno])
                value = _Value(source, node.value)
                for target in targets:
                    for t in ast.walk(target):
                        if isinstance(t, ast.Name):
                            names[t.id] = value

    visit(tree.body, "", False)
    return defs, names, imports


def _python_structure(
    fs: FileStructure, old_text: str | None, new_text: str | None
) -> FileStructure | None:
    try:
        old = python_definitions(old_text) if old_text is not None else ({}, {}, set())
    except SyntaxError as exc:
        fs.notes.append(f"old version does not parse (line {exc.lineno}); read by hunk headers")
        return None
    try:
        new = python_definitions(new_text) if new_text is not None else ({}, {}, set())
    except SyntaxError as exc:
        fs.notes.append(f"new version does not parse (line {exc.lineno}); read by hunk headers")
        return None
    old_defs, old_names, old_imports = old
    new_defs, new_names, new_imports = new
    fs.method = "ast"
    for name, d in new_defs.items():
        if name not in old_defs:
            fs.symbols.append(SymbolChange(d.kind, name, "added", d.line))
        elif old_defs[name].body != d.body:
            fs.symbols.append(SymbolChange(d.kind, name, "changed", d.line))
    for name, d in old_defs.items():
        if name not in new_defs:
            fs.symbols.append(SymbolChange(d.kind, name, "removed", None))
    module: list[str] = []
    if added := sorted(new_imports - old_imports):
        module.append(f"imports added: {', '.join(added)}")
    if removed := sorted(old_imports - new_imports):
        module.append(f"imports removed: {', '.join(removed)}")
    if added := sorted(set(new_names) - set(old_names)):
        module.append(f"module names added: {', '.join(added[:8])}")
    if removed := sorted(set(old_names) - set(new_names)):
        module.append(f"module names removed: {', '.join(removed[:8])}")
    if changed := sorted(n for n in new_names if n in old_names and new_names[n] != old_names[n]):
        module.append(f"module names changed: {', '.join(changed[:8])}")
    fs.notes.extend(module)
    return fs


# -- other languages through hunk headers and definition lines ---------------------------------

_DEFINITIONS: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    "python": (
        ("function", re.compile(r"^\s*(?:async\s+)?def\s+(\w+)")),
        ("class", re.compile(r"^\s*class\s+(\w+)")),
    ),
    "js": (
        (
            "function",
            re.compile(r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(\w+)"),
        ),
        ("class", re.compile(r"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(\w+)")),
        (
            "function",
            re.compile(
                r"^\s*(?:export\s+)?(?:const|let|var)\s+(\w+)\s*(?::[^=]+)?=\s*(?:async\s+)?"
                r"(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|\w+\s*=>)"
            ),
        ),
        (
            "method",
            re.compile(
                r"^\s+(?:public\s+|private\s+|protected\s+|static\s+|async\s+|get\s+|set\s+)*"
                r"(?!if\b|for\b|while\b|switch\b|catch\b|return\b|function\b)(\w+)\s*\([^)]*\)"
                r"\s*(?::\s*[^{]+)?\{\s*$"
            ),
        ),
        ("type", re.compile(r"^\s*(?:export\s+)?(?:interface|type|enum)\s+(\w+)")),
    ),
    "go": (
        ("function", re.compile(r"^func\s+(?:\([^)]*\)\s*)?(\w+)")),
        ("type", re.compile(r"^type\s+(\w+)\s+")),
    ),
    "shell": (("function", re.compile(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)\s*\{?")),),
    "other": (
        ("function", re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+(\w+)")),
        ("type", re.compile(r"^\s*(?:pub\s+)?(?:struct|enum|trait|impl)\s+(\w+)")),
        (
            "function",
            re.compile(
                r"^\s*(?:(?:public|private|protected|static|final|override|suspend|internal)\s+)+"
                r"(?:fun\s+|[\w<>\[\],.? ]+\s+)(\w+)\s*\("
            ),
        ),
        (
            "class",
            re.compile(r"^\s*(?:(?:public|private|abstract|final|data|open)\s+)*class\s+(\w+)"),
        ),
    ),
}
_YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?([\w.-]+)\s*:")


def _definition(lang: str, text: str) -> tuple[str, str] | None:
    for kind, pattern in _DEFINITIONS.get(lang, ()):
        m = pattern.match(text)
        if m:
            return kind, m.group(1)
    return None


def _header_structure(fs: FileStructure, fd: FileDiff) -> FileStructure:
    lang = fs.language
    fs.method = "hunk headers"
    added: dict[str, tuple[str, int | None]] = {}
    removed: dict[str, str] = {}
    sections: dict[str, int | None] = {}
    keys: list[str] = []
    for hunk in fd.hunks:
        for row in hunk.lines:
            if row.kind not in "+-":
                continue
            if lang == "yaml":
                m = _YAML_KEY.match(row.text)
                if m and len(m.group(1)) <= 6 and m.group(2) not in keys:
                    keys.append(m.group(2))
                continue
            found = _definition(lang, row.text)
            if found is None:
                continue
            kind, name = found
            if row.kind == "+":
                added[name] = (kind, row.new_no)
            else:
                removed[name] = kind
        section = hunk.section.strip()
        if section:
            found = _definition(lang, section) or _definition("other", section)
            label = found[1] if found else section[:60]
            first_change = next((r.new_no for r in hunk.lines if r.kind == "+"), hunk.new_start)
            sections.setdefault(label, first_change)
    for name, (kind, line) in added.items():
        fs.symbols.append(SymbolChange(kind, name, "changed" if name in removed else "added", line))
    for name, kind in removed.items():
        if name not in added:
            fs.symbols.append(SymbolChange(kind, name, "removed", None))
    named = {s.name for s in fs.symbols}
    for label, line in sections.items():
        if label not in named:
            fs.symbols.append(SymbolChange("section", label, "changed", line))
    if keys:
        fs.notes.append(
            f"keys touched: {', '.join(keys[:10])}" + (" ..." if len(keys) > 10 else "")
        )
    return fs


# -- the whole summary -------------------------------------------------------------------------


def message_body(message: str) -> str:
    """The commit message's explanation: body without trailers, marker lines or transcripts."""
    parsed = parse_message(message)
    drop = {t.line.strip() for t in parsed.trailers} | set(parsed.marker_lines)
    body_lines = message.replace("\r\n", "\n").split("\n")[1:]
    out: list[str] = []
    for line in body_lines:
        if line.strip().lower() == "# aider chat conversation:":
            break
        if line.strip() in drop:
            continue
        out.append(line.rstrip())
    return "\n".join(out).strip()


def _file_structure(
    fd: FileDiff, old_texts: Mapping[str, str], new_texts: Mapping[str, str]
) -> FileStructure:
    lang = language_of(fd.path)
    fs = FileStructure(
        path=fd.path,
        old_path=fd.old_path,
        status=fd.status,
        language=lang,
        additions=fd.additions,
        deletions=fd.deletions,
        method="none",
    )
    if fd.is_binary:
        fs.notes.append("binary file: nothing to read")
        return fs
    if fd.truncated:
        fs.notes.append("too large to read row by row")
        return fs
    if is_lockfile(fd.path):
        fs.notes.append("lockfile: generated, not summarised")
        return fs
    if fd.mode_changed:
        fs.notes.append(f"mode {fd.old_mode} -> {fd.new_mode}")
    if lang == "python":
        old = old_texts.get(fd.old_path or fd.path) if fd.status != "added" else None
        new = new_texts.get(fd.path) if fd.status != "deleted" else None
        have_old = fd.status == "added" or old is not None
        have_new = fd.status == "deleted" or new is not None
        if have_old and have_new:
            size = len(old or "") + len(new or "")
            fs, parsed = offload(size, _python_structure_job, fs, old, new)
            if parsed:
                return fs
    return _header_structure(fs, fd)


def _python_structure_job(
    fs: FileStructure, old_text: str | None, new_text: str | None
) -> tuple[FileStructure, bool]:
    """`_python_structure` as a job another process can run: the structure (with any notes it
    added) and whether both versions parsed."""
    return fs, _python_structure(fs, old_text, new_text) is not None


def subject_rationale(subject: Any) -> Rationale:
    """`build_rationale` of a `core.critique.CritiqueInput`: its diff, message, prompt and the
    files' texts (what the static critic and the review screen's worker both pass)."""
    return build_rationale(
        subject.diff,
        message=subject.message,
        prompt=subject.prompt,
        prompt_source=subject.prompt_source,
        old_texts=subject.old_texts,
        new_texts=subject.new_texts,
    )


def build_rationale(
    diff: Diff,
    *,
    message: str = "",
    prompt: str | None = None,
    prompt_source: str | None = None,
    old_texts: Mapping[str, str] | None = None,
    new_texts: Mapping[str, str] | None = None,
) -> Rationale:
    old_texts = old_texts or {}
    new_texts = new_texts or {}
    files = []
    for fd in diff.files:
        pause()  # a large module's parse holds the interpreter: let keys in between files
        files.append(_file_structure(fd, old_texts, new_texts))
    pm = PromptMap(prompt=prompt, source=prompt_source)
    if prompt and prompt.strip():
        prompt_words = words(prompt)
        change_words: set[str] = set()
        for fd, fs in zip(diff.files, files):
            change_words |= words(fd.path)
            change_words |= words(" ".join(s.name for s in fs.symbols))
            change_words |= words(
                " ".join(r.text for h in fd.hunks for r in h.lines if r.kind == "+")[:50000]
            )
        pm.reflected = sorted(overlap(prompt_words, change_words))
        pm.not_reflected = sorted(prompt_words - set(pm.reflected))[:12]
        for fd in diff.files:
            if is_test_path(fd.path) or is_lockfile(fd.path):
                continue
            if not mention(fd, prompt, prompt_words).mentioned:
                tag = " (sensitive)" if is_sensitive(fd.path) else ""
                pm.unaccounted_files.append(fd.path + tag)
        pm.tests_asked = asks_for_tests(prompt)
        pm.tests_changed = tests_touched(diff)
    return Rationale(
        subject=message.split("\n", 1)[0].strip(),
        message_body=message_body(message),
        files=files,
        prompt_map=pm,
    )
