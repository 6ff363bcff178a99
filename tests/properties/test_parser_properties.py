"""Property-based tests of the parsers the spine suite does not cover: binary and very long diff
lines, paths git quotes, a model critic's answer, inbox sidecars and patch files, the policy and
the rest of `.reviewq.toml`, path globs, and the text and JSON that reach a terminal.

Each property: no crash on any input (only the module's own one-line error), and the intent
holds. 10,000 examples each with `--hypothesis-profile=thorough` (docs/reliability.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from reviewq.core.config import ConfigError, parse_config
from reviewq.core.globs import compile_glob, glob_regex
from reviewq.core.model import SEVERITIES
from reviewq.core.policy_rules import RULE_KEYS, policy_from_sections
from reviewq.core.text import clean_text, has_hidden, visible
from reviewq.critics.prompting import LABELS, MAX_FINDINGS, AnswerError, parse_answer
from reviewq.output import json_line
from reviewq.sources.diffs import BrokenDiff, parse_unified_diff, unquote_path
from reviewq.sources.inbox import BrokenPatch, read_patch_file, read_sidecar
from tests.properties.strategies import scratch_dir

pytestmark = pytest.mark.property

any_text = st.text(max_size=60)
line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    max_size=40,
)


# -- diffs: binary files, very long lines, quoted paths --------------------------------------


def git_quote(path: str) -> str:
    """A path as `git diff` writes it with core.quotepath=off (quote.c, quote_c_style)."""
    special = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
    raw = path.encode("utf-8")
    if not any(b < 0x20 or b in (0x22, 0x5C, 0x7F) for b in raw):
        return path
    out = []
    for b in raw:
        if b in special:
            out.append(special[b])
        elif b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        elif b < 0x20 or b == 0x7F:
            out.append(f"\\{b:03o}")
        else:
            out.append(bytes([b]))
    text = b"".join(o if isinstance(o, bytes) else o.encode() for o in out)
    return '"' + text.decode("utf-8") + '"'


path_segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", "..") and s.strip() == s and not s.startswith("\\"))
paths = st.lists(path_segment, min_size=1, max_size=3).map("/".join)


def _prefixed(prefix: str, path: str) -> str:
    quoted = git_quote(path)
    return f'"{prefix}{quoted[1:]}' if quoted.startswith('"') else f"{prefix}{path}"


@st.composite
def file_diffs(draw):
    """One file's diff: a text change with counted rows (lines up to 200,000 characters,
    arbitrary bytes included), or a binary file in either form git writes."""
    path = draw(paths)
    header = f"diff --git {_prefixed('a/', path)} {_prefixed('b/', path)}\n"
    kind = draw(st.sampled_from(["text", "binary-note", "git-binary"]))
    if kind == "binary-note":
        body = (
            "index 1111111..2222222 100644\n"
            f"Binary files {_prefixed('a/', path)} and {_prefixed('b/', path)} differ\n"
        ).encode()
        return path, True, (header.encode() + body), 0, 0
    if kind == "git-binary":
        body = b"index 1111111..2222222 100644\nGIT binary patch\nliteral 12\nTcmZQzWME}vU|?imIRFBv\n\nliteral 0\nHcmV?d00001\n\n"
        return path, True, header.encode() + body, 0, 0
    rows = draw(st.lists(st.sampled_from(" +-"), min_size=1, max_size=12))
    out = []
    for r in rows:
        if draw(st.integers(0, 9)) == 0:  # a very long line
            text = draw(st.sampled_from(["x", "é", "\t", "\x1b["])) * draw(
                st.integers(1_000, 200_000)
            )
            out.append(r.encode() + text.encode() + b"\n")
        elif draw(st.booleans()):  # raw bytes, any but the newline (non-UTF-8 included)
            out.append(r.encode() + draw(st.binary(max_size=30)).replace(b"\n", b"") + b"\n")
        else:
            out.append(r.encode() + draw(line_text).encode() + b"\n")
    old = sum(1 for r in rows if r != "+")
    new = sum(1 for r in rows if r != "-")
    head = (
        f"--- {_prefixed('a/', path)}\n+++ {_prefixed('b/', path)}\n@@ -1,{old} +1,{new} @@\n"
    ).encode()
    adds = rows.count("+")
    dels = rows.count("-")
    return path, False, header.encode() + head + b"".join(out), adds, dels


@given(st.lists(file_diffs(), min_size=1, max_size=4))
def test_binary_long_and_quoted_diffs_parse_exactly(files) -> None:
    diff = parse_unified_diff(b"".join(f[2] for f in files))
    assert len(diff.files) == len(files)
    for (path, binary, _, adds, dels), fd in zip(files, diff.files):
        assert fd.path == path
        assert fd.is_binary == binary
        if not binary:
            assert (fd.additions, fd.deletions) == (adds, dels)
            for hunk in fd.hunks:
                assert hunk.new_count == sum(1 for line in hunk.lines if line.kind in " +")


@given(paths)
def test_git_quoting_round_trips(path: str) -> None:
    assert unquote_path(git_quote(path)) == path


@given(st.text(max_size=80))
def test_unquoting_never_crashes(text: str) -> None:
    unquote_path(text)
    unquote_path('"' + text + '"')


@given(
    st.binary(max_size=2000), st.sampled_from([b"", b"diff --git a/x b/x\n", b"GIT binary patch\n"])
)
def test_binary_junk_never_crashes_the_diff_reader(data: bytes, prefix: bytes) -> None:
    try:
        parse_unified_diff(prefix + data)
    except BrokenDiff as exc:
        assert "\n" not in exc.message


# -- a model critic's answer -----------------------------------------------------------------

NONCE = "6f1c0d9e2b7a4c3f"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
findings = st.fixed_dictionaries(
    {},
    optional={
        "file": st.none() | any_text | st.just("b/app.py"),
        "start_line": json_values | st.integers(-5, 10**6),
        "end_line": json_values,
        "severity": st.sampled_from([*SEVERITIES, "high", "LOW", "blocker", "??"]) | any_text,
        "label": st.sampled_from(LABELS) | any_text,
        "title": any_text,
        "body": any_text | st.just("real body"),
        "quote": json_values,
    },
)
answers = st.fixed_dictionaries(
    {},
    optional={
        "nonce": st.sampled_from([NONCE, "", "0" * 16]) | any_text,
        "summary": any_text | st.just("A summary."),
        "findings": st.lists(findings | json_values, max_size=25) | json_values,
        "effort": json_values,
        "tests_present": json_values,
        "rationale": json_values,
        "security_concerns": json_values,
    },
)


@given(answers, st.sampled_from(["object", "json", "fenced", "prose"]), any_text)
def test_any_model_answer_is_parsed_or_refused_in_one_line(answer, form, noise) -> None:
    text = json.dumps(answer)
    given_answer = {
        "object": answer,
        "json": text,
        "fenced": f"```json\n{text}\n```",
        "prose": f"{noise} {text} {noise}",
    }[form]
    try:
        parsed = parse_answer(given_answer, NONCE)
    except AnswerError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    # Accepted only with this run's nonce (planted text cannot know it) and a summary.
    assert answer.get("nonce") == NONCE or (form == "prose" and NONCE in noise)
    assert parsed.summary.strip()
    assert 1 <= parsed.effort <= 5
    assert len(parsed.findings) <= 2 * MAX_FINDINGS
    for finding in parsed.findings:
        assert finding.severity in SEVERITIES and finding.label in LABELS
        assert finding.body.strip()
        assert (
            finding.file is None
            or not finding.file.startswith(("a/", "b/"))
            or len(finding.file) <= 2
        )
        assert finding.start_line is None or isinstance(finding.start_line, int)


@given(any_text)
def test_text_without_the_nonce_is_never_an_answer(text: str) -> None:
    assume(NONCE not in text)
    with pytest.raises(AnswerError):
        parse_answer(text, NONCE)


# -- inbox sidecars and patch files ----------------------------------------------------------


@given(
    st.sampled_from(["json", "md"]),
    st.one_of(
        st.binary(max_size=400),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.builds(
            lambda meta, prompt: (
                "---\n" + "".join(f"{k}: {v}\n" for k, v in meta.items()) + "---\n" + prompt
            ).encode("utf-8", "surrogatepass"),
            st.dictionaries(
                st.sampled_from(["agent", "model", "prompted_by", "created_at", "x"]), line_text
            ),
            any_text,
        ),
    ),
)
def test_any_sidecar_is_read_or_refused_in_one_line(suffix: str, data: bytes) -> None:
    with scratch_dir() as tmp:
        patch = Path(tmp) / "change.patch"
        patch.write_bytes(b"")
        (Path(tmp) / f"change.{suffix}").write_bytes(data)
        try:
            sidecar = read_sidecar(patch)
        except BrokenPatch as exc:
            assert "\n" not in exc.message
            return
        assert sidecar is not None
        for value in (sidecar.prompt, sidecar.agent, sidecar.model, sidecar.created_at):
            assert value is None or (isinstance(value, str) and clean_text(value) == value)
        assert sidecar.prompt is None or sidecar.prompt == sidecar.prompt.strip() != ""
        assert sidecar.agent is None or re.fullmatch(r"[a-z0-9-]+|other", sidecar.agent)


@given(
    st.one_of(
        st.binary(max_size=1500),
        st.builds(
            lambda head, body: head + body,
            st.sampled_from(
                [
                    b"From 0123456789012345678901234567890123456789 Mon Sep 17 00:00:00 2001\n",
                    b"From: Eve <eve@example.com>\nSubject: [PATCH] x\nDate: nonsense\n\n",
                    b"Subject: \xff\xfe\n\n---\n",
                    b"diff --git a/x b/x\n",
                ]
            ),
            st.binary(max_size=1200),
        ),
    )
)
def test_any_patch_file_is_read_or_refused_in_one_line(data: bytes) -> None:
    with scratch_dir() as tmp:
        path = Path(tmp) / "0001.patch"
        path.write_bytes(data)
        try:
            patches = read_patch_file(path, "2026-01-01T00:00:00+00:00")
        except BrokenPatch as exc:
            assert "\n" not in exc.message
            return
        assert patches and all(p.diff.files for p in patches)


# -- .reviewq.toml: the policy and every other section ----------------------------------------

toml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True)
    | any_text
    | st.dates()
    | st.times()
    | st.datetimes()
    | st.sampled_from(["auth/**", "*.py", "[a-", "a**b", "/", "../x", "**", "docs/", "0", "x@y.z"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "paths",
                    *RULE_KEYS,
                    "default",
                    "timeout",
                    "retries",
                    "model",
                    "base_url",
                    "family",
                    "agent",
                    "email",
                    "trailer",
                    "value",
                    "allowed_signers",
                    "require_signed",
                    "timezone",
                    "openai",
                    "anthropic",
                    "never_send",
                    "rubber_stamp_min_seconds",
                    "bogus",
                ]
            )
            | any_text,
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
configs = st.dictionaries(
    st.sampled_from(["policy", "domains", "critic", "agents", "inbox", "log", "metrics", "x"]),
    toml_values,
    max_size=4,
)


@given(configs)
def test_any_config_is_parsed_or_refused_naming_the_key(data) -> None:
    try:
        config = parse_config(data, origin=".reviewq.toml")
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    policy = policy_from_sections(config.sections)  # a parsed policy always builds
    policy.requirements(policy.domains_for(["auth/x.py", "README.md"]))


glob_chars = st.text(alphabet="ab0/*?[]!-.\\ ", min_size=1, max_size=14)
path_chars = st.text(alphabet="ab0/.-", min_size=1, max_size=12)


@given(glob_chars, path_chars)
def test_any_glob_is_compiled_or_refused_and_one_segment_never_crosses_a_directory(
    pattern: str, path: str
) -> None:
    try:
        regex = compile_glob(pattern)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    one_segment = "/" not in pattern.strip("/") and not pattern.endswith("/")
    if one_segment and "**" not in pattern:
        # A glob of one segment names files in one directory: it never matches across a `/`,
        # whatever stands in for its wildcards and classes.
        for candidate in (path.strip("/"), _slashes_for_wildcards(pattern.strip("/"))):
            if "/" in candidate:
                assert not regex.match(candidate), (pattern, candidate)


def _slashes_for_wildcards(pattern: str) -> str:
    """The pattern with a `/` in place of each `*`, `?` and character class."""
    return re.sub(r"\[!?\]?[^\]]*\]|[*?]", "/", pattern)


_CLASS_PROBES = [chr(c) for c in range(32, 127) if chr(c) != "/"] + ["é", "\u212a"]


@example("-z", True)  # a range from the `/` kept out of every class was read: `[^/-z]`
@example("]a", True)  # the class was closed early: `[^/]a]`
@example("a--b", False)  # `re` printed a FutureWarning (a set difference) to the terminal
@example("a&&b", False)
@example("--0", False)  # a range from `-` to `0`
@given(st.text(alphabet="ab0z.-&~|^[]!", min_size=1, max_size=6), st.booleans())
def test_a_character_class_matches_what_fnmatch_matches_and_warns_nothing(
    body: str, negate: bool
) -> None:
    """A glob's character class means what `fnmatch` makes of it (except that it never holds
    `/`), and compiling it makes Python's `re` warn of nothing (a warning is printed to the
    user's terminal). A class `re` cannot read (a reversed range) is refused in one line."""
    import fnmatch
    import warnings

    assume("]" not in body[1:] and not body.startswith("!"))  # the class's body as parsed
    glob = "[" + ("!" if negate else "") + body + "]"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            regex = compile_glob(glob)
        except ConfigError as exc:
            assert "\n" not in str(exc)
            return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = re.compile(fnmatch.translate(glob))
    for probe in _CLASS_PROBES:
        assert bool(regex.match(probe)) == bool(expected.match(probe)), (glob, probe)


@given(
    st.lists(st.text(alphabet="abc.", min_size=1, max_size=4), min_size=1, max_size=3), path_chars
)
def test_a_directory_glob_matches_exactly_what_is_below(parts, rest) -> None:
    prefix = "/".join(parts)
    assume(all(p not in (".", "..") for p in parts))
    regex = compile_glob(prefix + "/**")
    assert regex.match(f"{prefix}/{rest.strip('/') or 'x'}")
    assert not regex.match(prefix)
    assert not regex.match(f"{prefix}x/{rest}")


@example("*a*a*b", "aaab")
@example("**/a/**/b", "a/a/b")
@example("a*/**/b*c/**", "ax/y/bcc/d")
@given(st.text(alphabet="ab*?/", min_size=1, max_size=12), st.text(alphabet="ab/", max_size=14))
def test_a_glob_kept_from_backtracking_matches_what_a_plain_one_matches(
    pattern: str, path: str
) -> None:
    """Each `*` or `**` that another follows takes the fewest characters or segments its next
    run needs and keeps them (an atomic group, so a hostile path cannot make it backtrack):
    never a path less or more than the same regex with plain groups."""
    try:
        source = glob_regex(pattern)
    except ConfigError:
        return
    plain = re.compile(source.replace("(?>", "(?:"))
    assert bool(re.match(source, path)) == bool(plain.match(path)), (pattern, path, source)


# -- what reaches a terminal -----------------------------------------------------------------


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_visible_text_is_printable_whatever_it_held(text: str) -> None:
    shown = visible(text, keep_newlines=False, keep_tabs=False)
    shown.encode("utf-8")  # lone surrogates included: never a UnicodeEncodeError
    assert not has_hidden(shown)


@given(json_values | st.text(alphabet=st.characters(codec=None), max_size=60))
def test_json_output_is_the_same_data_and_safe_to_print(value) -> None:
    line = json_line(value)
    line.encode("utf-8")
    assert "\n" not in line and not has_hidden(line)
    assert json.loads(line) == value or value != value  # NaN is never equal to itself


#: A known key of each section whose value is a string, number, boolean or list: a TOML date
#: there must be refused by name (an unknown key would be refused before any value is read).
DATED_KEYS = (
    ("policy", "approvals"),
    ("policy", "cooldown_hours"),
    ("critic", "timeout"),
    ("critic", "default"),
    ("metrics", "rubber_stamp_min_seconds"),
    ("metrics", "timezone"),
    ("log", "require_signed"),
    ("log", "allowed_signers"),
    ("scope", "remote"),
)


@given(st.one_of(st.dates(), st.times(), st.datetimes()), st.sampled_from(DATED_KEYS))
def test_toml_dates_in_any_place_are_refused_cleanly(value, place) -> None:
    section, key = place
    with pytest.raises(ConfigError) as refused:
        parse_config({section: {key: value}})
    assert f"{section}.{key}" in str(refused.value)
    assert "unknown key" not in str(refused.value)
