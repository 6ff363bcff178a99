"""The cold scan's shortcuts give the plain path's answers.

- the prompt's choice reads aider's transcript with `message.aider_transcript_of` (no second
  `parse_message` of a message the detector parsed): the same transcript, on varied messages;
- `provenance.aider_user_turns` tries its regex only on lines starting U, A or S: the same
  turns as the regex on every line.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reviewq.core.message import aider_transcript_of, parse_message
from reviewq.core.provenance import aider_user_turns
from tests.conftest import REAL_COMMITS, real_commits

_PIECES = [
    "fix the thing",
    "",
    " ",
    "# Aider chat conversation:",
    "# aider chat conversation:  ",
    "  # AIDER CHAT CONVERSATION:",
    "text # aider chat conversation: inline",
    "# Context:",
    "# context:",
    "USER: add a test",
    "USER:",
    "user: lower case",
    "ASSISTANT: done",
    "ASSISTANT :spaced",
    "SYSTEM: be brief",
    "USERS: not a turn",
    " USER: indented",
    "Co-authored-by: aider (gpt-4o) <noreply@aider.chat>",
    "Generated with Claude Code",
    "```",
    "> quoted",
    "Unicode ÄÖ USER",
    "A",
    "S",
    "U",
]


@st.composite
def messages(draw) -> str:
    lines = draw(st.lists(st.sampled_from(_PIECES) | st.text(max_size=12), max_size=14))
    sep = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return sep.join(lines)


@settings(max_examples=400, deadline=None)
@given(messages())
def test_the_transcript_alone_is_the_full_parse_s(message: str) -> None:
    assert aider_transcript_of(message) == parse_message(message).aider_transcript


_TURN = re.compile(r"^(USER|ASSISTANT|SYSTEM)\s*:\s?(.*)$")


def _user_turns_every_line(transcript: str) -> str | None:
    """The plain form: the regex on every line (the code before the first-letter filter)."""
    turns: list[list[str]] = []
    role = None
    for line in transcript.split("\n"):
        m = _TURN.match(line)
        if m:
            role = m.group(1)
            if role == "USER":
                turns.append([m.group(2)])
            continue
        if role == "USER" and turns:
            turns[-1].append(line)
    texts = ["\n".join(t).strip() for t in turns]
    texts = [t for t in texts if t]
    return "\n\n".join(texts) or None


@settings(max_examples=400, deadline=None)
@given(messages())
def test_user_turns_with_the_first_letter_filter_are_the_plain_ones(message: str) -> None:
    transcript = message.replace("\r\n", "\n").replace("\r", "\n")
    assert aider_user_turns(transcript) == _user_turns_every_line(transcript)


_FIELD = st.text(
    alphabet=st.characters(blacklist_characters="\x1f\x00", blacklist_categories=("Cs",)),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_FIELD, _FIELD, _FIELD, _FIELD, _FIELD), min_size=1, max_size=30))
def test_commits_sharing_identities_equal_the_plainly_built_ones(rows) -> None:
    """`git_log.commit_from_fields` hands out one `Identity` per (name, email): every commit
    equals the one built field by field with fresh identities, whatever the memo held before
    (it is emptied when full: a tiny bound here)."""
    from reviewq.core.model import Commit, Identity
    from reviewq.sources import git_log

    old = git_log._PEOPLE_MAX
    git_log._PEOPLE_MAX = 3
    try:
        for i, (an, ae, cn, ce, body) in enumerate(rows):
            fields = [f"{i:040x}", "", an, ae, "2024-01-01T00:00:00+00:00", cn, ce, "d", body]
            parts = [f.encode() for f in fields]
            plain = Commit(
                sha=f"{i:040x}",
                parents=(),
                author=Identity(an, ae),
                committer=Identity(cn, ce),
                authored_at="2024-01-01T00:00:00+00:00",
                committed_at="d",
                message=body.rstrip("\n"),
            )
            built = git_log.commit_from_fields(parts)
            assert built == plain and repr(built) == repr(plain)
            assert hash(built.author) == hash(plain.author)
    finally:
        git_log._PEOPLE_MAX = old


def test_scope_and_team_sections_parse_as_their_modules_do_when_imported_late() -> None:
    """`core.config` imports `core.scope` / `core.team` only for a file with the section: the
    parsed values and the errors are the modules' own."""
    import pytest

    from reviewq.core.config import parse_config
    from reviewq.core.scope import parse_scope
    from reviewq.core.team import parse_team
    from reviewq.core.tomlcheck import ConfigError

    assert parse_config({"scope": {}}).scope == parse_scope({})
    assert parse_config({"team": {}}).team == parse_team({})
    for name, parse in (("scope", parse_scope), ("team", parse_team)):
        for bad in (5, {"no_such_key": 1}):
            with pytest.raises(ConfigError) as direct:
                parse(bad)
            with pytest.raises(ConfigError) as late:
                parse_config({name: bad})
            assert str(late.value) == str(direct.value)


def test_a_settings_file_added_after_a_scan_is_read_by_the_next_one(repo, cli) -> None:
    """Attack: a scan without a settings file, then one is added (a bad `[team]`, then an
    `[agents]` rule): the next scan reads it (exit 2 with one line; then the rule's verdict),
    nothing from the first scan's cache hides it."""
    repo.commit("plain", files={"a.txt": "1\n"}, author=("Pat", "pat@example.com"))
    first = cli("scan", "--json", cwd=repo.path)
    assert first.returncode == 0 and first.stdout == ""
    repo.write(".reviewq.toml", "[team]\nno_such_key = 1\n")
    bad = cli("scan", "--json", cwd=repo.path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "team" in bad.stderr
    repo.write(".reviewq.toml", "[[agents]]\nagent = 'acme'\nemail = 'pat@example.com'\n")
    ruled = cli("scan", "--json", cwd=repo.path)
    assert ruled.returncode == 0 and '"agent": "acme"' in ruled.stdout


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from('a\x7f\x85\u2028\u2029\u202e\u200b\ud800é\n"\\'), max_size=6
        ),
        max_size=4,
    )
)
def test_json_line_with_its_pattern_compiled_late_is_the_plain_one(values) -> None:
    """`output.json_line` compiles its pattern on first use (a table prints no JSON): the
    same line as the pattern compiled up front."""
    import json

    from reviewq import output

    plain = re.compile(output._JSON_UNSAFE)
    text = json.dumps({"v": values}, ensure_ascii=False)
    expected = plain.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    assert output.json_line({"v": values}) == expected


_MODEL_RECORDS = (
    "Identity",
    "Commit",
    "Evidence",
    "Authorship",
    "Prompt",
    "SessionRef",
    "DiffStats",
    "FileChange",
    "Change",
    # The other frozen records of the scan's path, written out the same way.
    "reviewq.core.detect:RepoRule",
    "reviewq.core.detect:_Candidate",
    "reviewq.core.scope:Scope",
    "reviewq.core.message:Trailer",
    "reviewq.sources.gitcmd:RepoPaths",
    "reviewq.sources.git_log:RawEntry",
    "reviewq.core.provenance:ProvenanceHint",
    "reviewq.sources.sessions.stores:Found",
    "reviewq.core.agent_identities:Agent",
    "reviewq.core.config:Config",
)


def _record(name: str):
    """The class a `_MODEL_RECORDS` entry names (`core.model`'s own, or `module:Class`)."""
    import importlib

    module, _, cls = name.rpartition(":")
    return getattr(importlib.import_module(module or "reviewq.core.model"), cls)


_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=4),
    st.tuples(st.text(max_size=3)),
)


def _generated(name: str):
    """The same class as `dataclass(frozen=True, slots=True)` generates it (no written-out
    methods): the reference for `core.model`'s frozen records."""
    import dataclasses

    cls = _record(name)
    return dataclasses.make_dataclass(
        cls.__qualname__, _fields_of(cls), frozen=True, slots=hasattr(cls, "__slots__")
    )


def _fields_of(cls) -> list:
    """`cls`'s fields as `make_dataclass` takes them: defaults, factories, repr and compare."""
    import dataclasses

    out = []
    for f in dataclasses.fields(cls):
        how = {"repr": f.repr, "compare": f.compare}
        if f.default_factory is not dataclasses.MISSING:
            how["default_factory"] = f.default_factory
        elif f.default is not dataclasses.MISSING:
            how["default"] = f.default
        out.append((f.name, f.type, dataclasses.field(**how)))
    return out


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_MODEL_RECORDS), st.data())
def test_model_records_written_out_methods_are_dataclass_s(name, data) -> None:
    """`core.model`'s frozen records write out `__repr__`, `__eq__`, `__hash__`: the same
    text, equality and hash as `dataclass` generates, frozen and slotted as before."""
    import dataclasses

    import pytest

    cls, ref = _record(name), _generated(name)
    names = [f.name for f in dataclasses.fields(cls)]
    a = data.draw(st.lists(_VALUE, min_size=len(names), max_size=len(names)))
    b = data.draw(st.lists(_VALUE, min_size=len(names), max_size=len(names)))
    ours_a, ours_b = cls(*a), cls(*b)
    ref_a, ref_b = ref(*a), ref(*b)
    assert repr(ours_a) == repr(ref_a)
    assert (ours_a == ours_b) == (ref_a == ref_b) and (ours_a == cls(*a))
    assert (ours_a != ours_b) == (ref_a != ref_b)
    assert hash(ours_a) == hash(ref_a)
    assert ours_a != ref_a  # another class: never equal (as generated)
    assert (ours_a == tuple(a)) is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(ours_a, names[0], None)
    assert hasattr(ours_a, "__dict__") == hasattr(ref_a, "__dict__")
    assert cls.__match_args__ == tuple(names)
    assert dataclasses.replace(ours_a) == ours_a and dataclasses.astuple(ours_a) == tuple(a)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_MODEL_RECORDS), st.data())
def test_model_records_written_out_init_and_state_are_dataclass_s(name, data) -> None:
    """The written-out `__init__` (no `dataclass(init=True)` compile at import) takes the same
    parameters with the same defaults, by position and by keyword; pickling, copies and
    deleting a field behave as the generated frozen class's do."""
    import copy
    import dataclasses
    import inspect
    import pickle

    import pytest

    cls, ref = _record(name), _generated(name)

    def shape(c):
        return [
            (p.name, p.kind, "<factory>" if repr(p.default) == "<factory>" else p.default)
            for p in inspect.signature(c).parameters.values()
        ]

    assert shape(cls) == shape(ref)
    fields = dataclasses.fields(cls)
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    given_values = {f.name: data.draw(_VALUE) for f in fields}
    keep = data.draw(st.sets(st.sampled_from([f.name for f in fields])))
    kwargs = {n: v for n, v in given_values.items() if n in keep or n in required}
    ours, theirs = cls(**kwargs), ref(**kwargs)
    assert dataclasses.astuple(ours) == dataclasses.astuple(theirs)
    assert repr(ours) == repr(theirs).replace(ref.__qualname__, cls.__qualname__, 1)
    assert pickle.loads(pickle.dumps(ours)) == ours
    assert copy.copy(ours) == ours and copy.deepcopy(ours) == ours
    assert dataclasses.replace(ours, **{fields[0].name: None}) == cls(
        **{**kwargs, fields[0].name: None}
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(ours, fields[-1].name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ours.not_a_field = 1  # type: ignore[attr-defined]


def test_replace_files_new_file_is_mkstemp_s(tmp_path, monkeypatch) -> None:
    """`files._new_file` (no `tempfile` at start-up) makes what `tempfile.mkstemp` makes: a new
    0600 file beside the target with the prefix and suffix, opened exclusively, never an
    existing name (a planted file or link is skipped, not opened), and `replace_file` leaves no
    temporary file behind, written or failed."""
    import os
    import stat
    import tempfile

    import pytest

    from reviewq import files

    fd, name = files._new_file(tmp_path, ".pre-", ".suf")
    ref_fd, ref_name = tempfile.mkstemp(prefix=".pre-", suffix=".suf", dir=tmp_path)
    try:
        for f, n in ((fd, name), (ref_fd, ref_name)):
            st = os.fstat(f)
            assert stat.S_IMODE(st.st_mode) == 0o600 and stat.S_ISREG(st.st_mode)
            assert os.path.isabs(n) and os.path.dirname(n) == str(tmp_path)
            assert os.path.basename(n).startswith(".pre-") and n.endswith(".suf")
            assert not os.get_inheritable(f)
    finally:
        os.close(fd)
        os.close(ref_fd)
    # Every name it draws is taken: planted links first, then the next name is used.
    planted = tmp_path / "target"
    planted.write_text("keep")
    draws = iter([b"\x01" * 8, b"\x02" * 8, b"\x03" * 8])
    monkeypatch.setattr(files.os, "urandom", lambda n: next(draws))
    os.symlink(planted, tmp_path / f".x-{'01' * 8}")
    (tmp_path / f".x-{'02' * 8}").write_text("other")
    fd, name = files._new_file(tmp_path, ".x-", "")
    os.close(fd)
    assert name.endswith("03" * 8) and planted.read_text() == "keep"
    monkeypatch.undo()

    target = tmp_path / "sub" / "out.json"
    files.replace_file(target, lambda fh: fh.write(b"new"), prefix=".out-")
    assert target.read_bytes() == b"new"

    def boom(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        files.replace_file(target, boom, prefix=".out-")
    assert target.read_bytes() == b"new" and os.listdir(target.parent) == ["out.json"]


def test_the_detectors_modules_compile_no_pattern_at_import() -> None:
    """Their module-level patterns are `core.lazy_re.lazy`: compiled on first use, each the
    pattern `re.compile` makes of the same source (the detection tests check the answers)."""
    import subprocess
    import sys

    code = (
        "import re, sys\n"
        "made = []\n"
        "real = re._compile\n"
        "def spy(pattern, flags):\n"
        "    caller = sys._getframe(2).f_globals.get('__name__', '')\n"
        "    if caller.startswith('reviewq'):\n"
        "        made.append((caller, pattern))\n"
        "    return real(pattern, flags)\n"
        "re._compile = spy\n"
        "import reviewq.core.detect, reviewq.core.config, reviewq.core.text\n"
        "print(made)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_patterns_are_the_compiled_ones() -> None:
    import re

    from reviewq.core import agent_identities, families, message, provenance, text
    from reviewq.core.lazy_re import LazyPattern, lazy

    found = []
    for module in (agent_identities, families, message, provenance, text):
        for value in vars(module).values():
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                for part in item if isinstance(item, tuple) else (item,):
                    if isinstance(part, LazyPattern):
                        found.append(part)
    assert len(found) > 20
    for p in found:
        real = re.compile(*p._source)
        assert (p.pattern, p.flags, p.groups, p.groupindex) == (
            real.pattern,
            real.flags,
            real.groups,
            real.groupindex,
        )
    p = lazy(r"(?P<k>[a-z]+):(\d)", re.I)
    assert p.match("Ab:1").group("k") == "Ab" and p.sub("x", "a:1 b:2") == "x x"
    assert [m.group(2) for m in p.finditer("a:1 b:2")] == ["1", "2"]
    assert p.split("a:1-b:2") == ["", "a", "1", "-", "b", "2", ""]


_MUTABLE_RECORDS = (
    "reviewq.workflow.scan:ScanResult",
    "reviewq.workflow.scan:_Decoded",
    "reviewq.sources.notes:SideRecords",
    "reviewq.core.message:ParsedMessage",
    "reviewq.context:Context",
)


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(_MUTABLE_RECORDS), st.data())
def test_mutable_records_written_out_are_dataclass_s(name, data) -> None:
    """The mutable records of the scan's path write `__init__` out and take
    `_value_methods(frozen=False)`: the parameters, defaults (a default factory's fresh value),
    text, equality, unhashability and assignment of the `dataclass` they were."""
    import dataclasses
    import inspect

    import pytest

    cls = _record(name)
    fields = dataclasses.fields(cls)
    ref = dataclasses.make_dataclass(
        cls.__qualname__, _fields_of(cls), slots=hasattr(cls, "__slots__")
    )
    ours_sig = list(inspect.signature(cls).parameters.values())
    ref_sig = list(inspect.signature(ref).parameters.values())
    assert [(p.name, p.kind) for p in ours_sig] == [(p.name, p.kind) for p in ref_sig]
    for p, r in zip(ours_sig, ref_sig, strict=True):
        assert p.default == r.default or repr(p.default) == repr(r.default) == "<factory>"
    required = [f.name for f in fields if f.default is f.default_factory is dataclasses.MISSING]
    drawn = {f.name: data.draw(_VALUE) for f in fields}
    keep = data.draw(st.sets(st.sampled_from([f.name for f in fields])))
    kwargs = {n: v for n, v in drawn.items() if n in keep or n in required}
    ours, theirs = cls(**kwargs), ref(**kwargs)
    assert dataclasses.astuple(ours) == dataclasses.astuple(theirs)
    assert repr(ours) == repr(theirs)
    assert (ours == cls(**kwargs)) and (ours != theirs) and (ours == tuple(kwargs)) is False
    other = dict(kwargs, **{fields[0].name: "other"})
    assert (ours == cls(**other)) == (theirs == ref(**other))
    with pytest.raises(TypeError):
        hash(ours)
    setattr(ours, fields[0].name, "set")
    assert getattr(ours, fields[0].name) == "set"
    assert dataclasses.replace(ours) == ours
    if any(f.default_factory is not dataclasses.MISSING for f in fields):
        a, b = cls(**{n: kwargs[n] for n in required}), cls(**{n: kwargs[n] for n in required})
        for f in fields:
            if f.default_factory is not dataclasses.MISSING:
                assert getattr(a, f.name) == f.default_factory()
                assert getattr(a, f.name) is not getattr(b, f.name)  # a fresh one each


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-3", "37", "250"])
def test_terminal_columns_is_shutil_s(monkeypatch, columns) -> None:
    """`output.terminal_columns` (no `shutil` at start-up) answers what
    `shutil.get_terminal_size((160, 40)).columns` answers: COLUMNS, the terminal, the fallback."""
    import fcntl
    import os
    import pty
    import shutil
    import struct
    import sys
    import termios

    from reviewq.output import terminal_columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.delenv("LINES", raising=False)
    assert terminal_columns(160) == shutil.get_terminal_size((160, 40)).columns  # no terminal
    main, side = pty.openpty()
    try:
        fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 91, 0, 0))
        with os.fdopen(os.dup(side), "w") as tty:
            monkeypatch.setattr(sys, "__stdout__", tty)
            assert terminal_columns(160) == shutil.get_terminal_size((160, 40)).columns
            fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
            assert terminal_columns(160) == shutil.get_terminal_size((160, 40)).columns
    finally:
        os.close(main)
        os.close(side)


@pytest.mark.parametrize("columns", ["24", "80", "200"])
def test_the_command_line_built_without_the_terminal_width_is_the_same(
    monkeypatch, columns
) -> None:
    """`cli.build_parser` makes argparse's formatters of the build with a fixed width (no
    `shutil`): every command's usage, help and sub-command name are what the plain build makes."""
    import argparse

    from reviewq import cli

    monkeypatch.setenv("COLUMNS", columns)

    def texts(parser: argparse.ArgumentParser) -> list[str]:
        out = [parser.prog, parser.format_usage(), parser.format_help()]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    out += [sub.prog, sub.format_usage(), sub.format_help()]
        return out

    ours = texts(cli.build_parser())
    with monkeypatch.context() as m:
        m.setattr(cli._Parser, "_get_formatter", argparse.ArgumentParser._get_formatter)
        plain = texts(cli.build_parser())
    assert ours == plain and "reviewq scan" in ours


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="<!->*_ \t#xA\u2014", min_size=1, max_size=12)
    | st.sampled_from(["<!-- devin-review-badge-begin -->", "---", "***", "___", "- item", "--"])
)
def test_the_invisible_line_prefilter_is_the_two_patterns(line: str) -> None:
    """`parse_message` asks `_HTML_COMMENT` only of a line starting `<`, `_RULE_LINE` only of
    one starting `-`, `*` or `_`: the same lines are hidden as when both are asked of all."""
    from reviewq.core.message import _HTML_COMMENT, _RULE_LINE

    stripped = line.strip()
    if not stripped:
        return
    plain = bool(_HTML_COMMENT.match(stripped) or _RULE_LINE.match(stripped))
    filtered = bool(
        (stripped[0] == "<" and _HTML_COMMENT.match(stripped))
        or (stripped[0] in "-*_" and _RULE_LINE.match(stripped))
    )
    assert filtered == plain


_WORDS = st.sampled_from(
    [
        "scan",
        "--repo",
        "--repo=x",
        "--repo=",
        "--repo=-x",
        "x",
        "scan",
        "-x",
        "-1",
        "--no-sessions",
        "--no-session",
        "--json",
        "--sizes",
        "--",
        "--re",
        "",
        "HEAD",
        "queue",
        "-n",
        "3",
        "--help",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_WORDS, max_size=5))
def test_a_plain_scan_is_read_as_argparse_reads_it(words) -> None:
    """`cli.plain_scan_args` (no argparse for `[--repo PATH] scan [--no-sessions]`) gives
    exactly the namespace argparse gives, and declines every other command line."""
    from reviewq import cli
    from reviewq.errors import ReviewqError

    fast = cli.plain_scan_args(words)
    if fast is None:
        return
    try:
        plain = cli.build_parser(cli.command_of(words)).parse_args(words)
    except (ReviewqError, SystemExit) as exc:  # pragma: no cover - the property fails here
        raise AssertionError(f"argparse refuses {words!r}: {exc}") from None
    assert vars(fast) == vars(plain)


def test_plain_scan_command_lines_skip_argparse() -> None:
    from reviewq import cli

    for words in (["scan"], ["--repo", "r", "scan"], ["--repo=r", "scan", "--no-sessions"]):
        assert cli.plain_scan_args(words) is not None
    for words in (
        ["scan", "--json"],
        ["scan", "HEAD"],
        ["--repo", "-r", "scan"],
        ["scan", "--no-sessions", "--no-sessions"],
        ["--re", "r", "scan"],
        ["queue"],
    ):
        assert cli.plain_scan_args(words) is None


# -- parse_message's prose-paragraph skip ---------------------------------------------------

_PARAGRAPH_PIECES = [
    "",
    " ",
    "\t",
    "---------",
    " *** ",
    "prose that talks",
    "Note: prose with a colon",
    "https://example.com/x",
    "Co-authored-by: Claude <noreply@anthropic.com>",
    "Signed-off-by: Ada <ada@example.com>",
    "Claude-Plan:",
    "  folded continuation",
    "\tindented code",
    "(cherry picked from commit 0123abcd)",
    "(a parenthesis)",
    "🤖 Generated with [Claude Code](https://claude.com/claude-code)",
    "GENERATED BY Codex",
    "generated code",
    "EOF",
    ' ")',
    "EOF2",
    "Key : spaced",
    "2fa-Reviewed-by: Ada <ada@example.com>",
    "zed-agent: spaced out",
    "- item: with colon",
    "* feat: a squashed commit",
    "-",
    "--- not a rule",
    "  ---  ",
    "\t```",
    "   ~~~",
    "    ```",
    "< not a tag",
    "</claude-plan> and more",
    "```",
    "> Co-authored-by: quoted <q@x>",
    "<!-- badge -->",
    "<claude-plan>",
    "</claude-plan>",
]


def _parse_form(message: str) -> tuple:
    parsed = parse_message(message)
    return (
        parsed.subject,
        [(t.key, t.value, t.line) for t in parsed.trailers],
        parsed.marker_lines,
        parsed.aider_transcript,
        parsed.aider_header,
    )


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


def _plain_parse_form(message: str) -> tuple:
    """`_parse_form` the plain way: every line through the loop's checks (no shortcut for a
    line that opens with text), every paragraph handed to the trailer readers (no prose
    skip), no memo of paragraphs already read."""
    from unittest import mock

    from reviewq.core import message as message_module

    with (
        mock.patch.object(message_module, "_LOOKED_AT_HEADS", _Everything()),
        mock.patch.object(message_module, "_LIST_HEADS", frozenset()),
        mock.patch.object(message_module, "_may_open_a_block", lambda first, may_generate: True),
        mock.patch.object(
            message_module, "_paragraph_trailers", message_module._plain_paragraph_trailers
        ),
    ):
        return _parse_form(message)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_PARAGRAPH_PIECES) | st.text(max_size=10), max_size=18))
# A marker line with no colon opening a block of trailers, a heredoc leftover, git's
# cherry-pick line: each opens a paragraph that is not the last.
@example(["", "GENERATED BY Codex", "Co-authored-by: Claude <noreply@anthropic.com>", "", "x"])
@example(["", "EOF", "Co-authored-by: Claude <noreply@anthropic.com>", "", "x"])
@example(["", "(cherry picked from commit 0123abcd)", "Signed-off-by: A <a@x>", "", "x"])
def test_skipping_paragraphs_that_open_with_prose_parses_alike(lines: list[str]) -> None:
    """`parse_message` hands a paragraph before the last to `_trailer_block` and
    `_leading_trailers` only when its first line may open a block (`_may_open_a_block`): the
    same trailers and marker lines as when every paragraph is handed to both."""
    message = "Subject\n" + "\n".join(lines)
    assert _parse_form(message) == _plain_parse_form(message)


@pytest.mark.skipif(not REAL_COMMITS.is_dir(), reason="no real-commit samples on this machine")
def test_real_messages_parse_alike_with_the_prose_skip() -> None:
    messages = [row["message"] for row in real_commits()]
    assert len(messages) > 1000
    with_trailers = 0
    for message in messages:
        form = _parse_form(message)
        assert form == _plain_parse_form(message)
        with_trailers += bool(form[1])
    assert with_trailers > 500  # the samples hold trailers: the comparison is not all-empty


_TRANSCRIPT_PIECES = [
    "# Aider chat conversation:",
    "# AIDER CHAT CONVERSATION:",
    "# aİder chat conversation:",
    "# aider chat conversatİon:",
    "# Context:",
    "# \u212aontext:",
    "# CONTEXT:",
    "USER: add a test",
    "ASSISTANT: done",
    "Co-authored-by: aider (gpt-4o) <noreply@aider.chat>",
    "",
    "\udcff",
]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_TRANSCRIPT_PIECES) | st.text(max_size=8), max_size=10))
@example(["", "# AIDER CHAT CONVERSATION:", "USER: add a test", "ASSISTANT: done"])
@example(["", "# CONTEXT:", "USER: add a test", "ASSISTANT: done"])
def test_a_message_with_no_transcript_head_yields_no_prompt(lines: list[str]) -> None:
    """The scan asks `choose_prompt` of a commit with no side record only when
    `transcript_may_follow` says its raw message may hold aider's transcript: every other one
    has no prompt (as `choose_prompt` of the message, decoded as the scan decodes it, says)."""
    from reviewq.core.prompts import choose_prompt, transcript_may_follow

    raw = ("Subject\n" + "\n".join(lines)).encode("utf-8", "surrogateescape")
    if not transcript_may_follow(raw):
        assert choose_prompt(raw.decode("utf-8", "replace"), ()) is None


def one_agent_commit(repo) -> None:
    """A person's first commit, then one co-authored by Claude (what the probes below scan)."""
    repo.commit("base", files={"a.py": "a\n"})
    repo.commit(
        "Add b\n\nCo-authored-by: Claude <noreply@anthropic.com>", files={"b.py": "b\n" * 5}
    )


def test_a_cold_scan_never_loads_inspect(repo) -> None:
    """`dataclasses` is imported with `inspect` deferred (`reviewq.startup`), and every
    dataclass on the scan's path has its own docstring (one without asks `inspect.signature`
    for a generated one): a cold scan's process never loads `inspect` (with `ast`, `dis`,
    `tokenize`: ~5 ms of its start). A dataclass with no docstring made afterwards still gets
    `dataclass`'s own `__doc__`, and `import inspect` the real module. `-S`: no site-packages
    start-up (the editable install's finder imports modules of its own)."""
    from tests.conftest import run_bare_probe

    one_agent_commit(repo)
    probe = (
        "import contextlib, io, sys\n"
        "from reviewq.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = main(['scan', '--no-sessions'])\n"
        "print(code, 'claude-code' in out.getvalue(), 'inspect' in sys.modules, 'ast' in sys.modules)\n"
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class Point:\n"
        "    x: int\n"
        "import inspect\n"
        "print(Point.__doc__, inspect.signature(Point), type(inspect).__name__)\n"
    )
    proc = run_bare_probe(probe, repo.path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "0 True False False",
        "Point(x: int) (x: int) -> None module",
    ]


def test_the_table_loads_neither_typing_nor_a_database(repo) -> None:
    """A cold table and the warm one after it (the scan cache written, then read) import no
    `typing` (~3 ms of a cold table: annotations are strings, `TYPE_CHECKING = False` on the
    path, `StoredChange` a plain named tuple) and no TinyDB (the cache reads and writes its
    file itself, `store.cache`). `-S`: no site-packages start-up (the editable install's
    finder imports `typing` itself)."""
    from tests.conftest import run_bare_probe

    one_agent_commit(repo)
    probe = (
        "import contextlib, io, sys\n"
        "from reviewq.cli import main\n"
        "for _ in range(2):\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        code = main(['scan'])\n"
        "    print(code, 'claude-code' in out.getvalue(), 'typing' in sys.modules,\n"
        "          any(m.startswith('tinydb') for m in sys.modules))\n"
    )
    proc = run_bare_probe(probe, repo.path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["0 True False False", "0 True False False"]
    assert (repo.path / ".git" / "reviewq" / "cache.json").is_file()


def test_every_character_one_line_replaces_is_unprintable() -> None:
    """`print_table` asks `has_hidden` (and looks for newlines and tabs) only of text that is
    not `isprintable`: exact, since every character `one_line` replaces is unprintable."""
    import sys

    from reviewq.core.text import has_hidden

    assert not any(
        has_hidden(ch) and ch.isprintable() for ch in map(chr, range(sys.maxunicode + 1))
    )
    assert not "\n".isprintable() and not "\t".isprintable()


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_PARAGRAPH_PIECES), max_size=8), min_size=2, max_size=8),
    st.integers(min_value=1, max_value=6),
)
def test_paragraphs_read_once_parse_alike_in_any_order(bodies, memo_size) -> None:
    """Messages parsed one after another share the memo of paragraphs read
    (`_paragraph_trailers`), also when it fills and is emptied (a small bound here): each
    parses as it does alone with no memo."""
    from unittest import mock

    from reviewq.core import message as message_module

    messages = ["Subject\n" + "\n".join(lines) for lines in bodies]
    message_module._PARAGRAPH_MEMO.clear()
    with mock.patch.object(message_module, "_PARAGRAPH_MEMO_MAX", memo_size):
        shared = [_parse_form(m) for m in [*messages, *reversed(messages)]]
    assert shared == [_plain_parse_form(m) for m in [*messages, *reversed(messages)]]
    message_module._PARAGRAPH_MEMO.clear()
