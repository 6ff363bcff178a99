"""The offline design-rationale summary: structure per file, the prompt mapping, the message."""

from __future__ import annotations

from reviewq.core.model import Diff, FileDiff
from reviewq.core.patching import apply_file_diff
from reviewq.core.rationale import build_rationale, message_body
from tests.critic_eval.harness import input_for


def rationale(files, **kw):
    subject = input_for(files, prompt=kw.pop("prompt", None), message=kw.pop("message", "Change\n"))
    return build_rationale(
        subject.diff,
        message=subject.message,
        prompt=subject.prompt,
        old_texts=subject.old_texts,
        new_texts=subject.new_texts,
    )


def symbols(r, path):
    f = next(f for f in r.files if f.path == path)
    return f, {(s.change, s.kind, s.name) for s in f.symbols}


OLD = """import os


class Store:
    limit = 10

    def add(self, x):
        return x

    def drop(self, x):
        return None


def helper():
    return 1
"""
NEW = """import os
import json


class Store:
    limit = 20

    def add(self, x):
        return [x]

    def count(self):
        return 0


def helper():
    return 1


@cache
def fresh():
    return 2

TIMEOUT = 5
"""


def test_python_through_ast_added_removed_changed_by_function_and_class() -> None:
    r = rationale({"app/store.py": (OLD, NEW)})
    f, found = symbols(r, "app/store.py")
    assert f.method == "ast"
    assert found == {
        ("changed", "class", "Store"),  # its own body: limit 10 -> 20
        ("changed", "method", "Store.add"),
        ("added", "method", "Store.count"),
        ("removed", "method", "Store.drop"),
        ("added", "function", "fresh"),
    }
    assert "imports added: json" in f.notes and "module names added: TIMEOUT" in f.notes
    line = {s.name: s.line for s in f.symbols}
    assert line["fresh"] == 20 and line["Store.count"] == 11


def test_an_unchanged_method_is_not_listed_and_a_whole_new_file_is_all_added() -> None:
    r = rationale({"app/new.py": (None, NEW)})
    _, found = symbols(r, "app/new.py")
    assert ("added", "class", "Store") in found and ("added", "method", "Store.count") in found
    assert all(change == "added" for change, _, _ in found)
    deleted = rationale({"app/old.py": (OLD, None)})
    _, gone = symbols(deleted, "app/old.py")
    assert gone and all(change == "removed" for change, _, _ in gone)


def test_code_that_does_not_parse_falls_back_to_hunk_headers() -> None:
    r = rationale(
        {"app/x.py": ("def a():\n    return 1\n", "def a(:\n    return 1\n\ndef b():\n    pass\n")}
    )
    f, found = symbols(r, "app/x.py")
    assert f.method == "hunk headers"
    assert any("new version does not parse" in n for n in f.notes)
    assert ("added", "function", "b") in found


def test_other_languages_through_hunk_headers_and_definition_lines() -> None:
    before = "".join(f"// line {i}\n" for i in range(30))
    js_old = "export function total(xs) {\n  return 0;\n}\n" + before + "class Old {}\n"
    js_new = (
        "export function total(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n}\n"
        + before
        + "export const average = (xs) => total(xs) / xs.length;\n"
    )
    go_old = "package store\n\nfunc (s *Store) Get(k string) int {\n\treturn 0\n}\n"
    go_new = go_old + "\nfunc (s *Store) Put(k string, v int) {\n\ts.m[k] = v\n}\n"
    r = rationale({"web/math.js": (js_old, js_new), "store/store.go": (go_old, go_new)})
    f, found = symbols(r, "web/math.js")
    assert f.method == "hunk headers"
    assert ("added", "function", "average") in found and ("removed", "class", "Old") in found
    _, go = symbols(r, "store/store.go")
    assert ("added", "function", "Put") in go


def test_hunk_section_headers_name_the_enclosing_function() -> None:
    body = "".join(f"  x{i} := {i}\n" for i in range(20))
    old = "package m\n\nfunc Big() {\n" + body + "  return\n}\n"
    new = old.replace("  x15 := 15\n", "  x15 := 16\n")
    from reviewq.sources.diffs import parse_unified_diff
    from tests.critic_eval.harness import CaseFile, unified_diff

    text = unified_diff([CaseFile("m.go", old, new)]).decode()
    # difflib writes no section header; add the one git would (funcname of the hunk).
    text = text.replace(" @@\n", " @@ func Big() {\n", 1)
    diff = parse_unified_diff(text.encode())
    r = build_rationale(diff)
    assert {(s.change, s.kind, s.name) for s in r.files[0].symbols} == {
        ("changed", "section", "Big")
    }


def test_yaml_keys_binary_and_lockfiles_are_described_not_parsed() -> None:
    r = rationale(
        {
            ".github/workflows/ci.yml": (
                "on: [push]\njobs: {}\n",
                "on: [pull_request_target]\npermissions: write-all\njobs: {}\n",
            ),
            "package-lock.json": (None, "{}\n"),
        }
    )
    ci = next(f for f in r.files if f.path.endswith("ci.yml"))
    assert ci.notes == ["keys touched: on, permissions"]
    lock = next(f for f in r.files if f.path == "package-lock.json")
    assert lock.notes == ["lockfile: generated, not summarised"]
    binary = build_rationale(Diff([FileDiff("logo.png", None, "added", is_binary=True)]))
    assert binary.files[0].notes == ["binary file: nothing to read"]


def test_prompt_mapping_words_files_and_tests() -> None:
    r = rationale(
        {
            "orders/export.py": (None, "def export_csv(rows):\n    return gzip_bytes(rows)\n"),
            ".github/workflows/ci.yml": (None, "on: [push]\n"),
        },
        prompt="Add a CSV export for orders and gzip the file, with tests. Log every download.",
    )
    pm = r.prompt_map
    assert {"csv", "export", "gzip", "orders"} <= set(pm.reflected)
    assert "download" in pm.not_reflected
    assert pm.unaccounted_files == [".github/workflows/ci.yml (sensitive)"]
    assert pm.tests_asked and not pm.tests_changed
    text = r.to_text()
    assert "tests asked for: no test file changed" in text
    assert "files the prompt does not account for" in text


def test_without_a_prompt_the_summary_says_so() -> None:
    r = rationale({"a.py": (None, "X = 1\n")})
    assert r.prompt_lines() == ["no prompt recorded: nothing to compare the change with"]


def test_message_body_drops_trailers_markers_and_transcripts() -> None:
    message = (
        "Use constant-time comparison\n\n"
        "`==` on the MAC leaks timing.\n\n"
        "🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
        "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
    )
    assert message_body(message) == "`==` on the MAC leaks timing."
    aider = "aider: Add limiter\n\nWhy.\n\n# Aider chat conversation:\n\nUSER: do it\n"
    assert message_body(aider) == "Why."


def test_patch_application_rebuilds_the_new_text_or_refuses() -> None:
    old = "".join(f"l{i}\n" for i in range(1, 21))
    new = old.replace("l10\n", "l10\ninserted\n").replace("l2\n", "")
    subject = input_for({"f.py": (old, new)})
    fd = subject.diff.files[0]
    assert apply_file_diff(old, fd) == new
    assert apply_file_diff(old.replace("l9\n", "changed\n"), fd) is None
    added = input_for({"n.py": (None, "a\nb\n")}).diff.files[0]
    assert apply_file_diff(None, added) == "a\nb\n"


def test_module_names_compare_by_value_and_only_changed_statements_are_dumped(monkeypatch):
    """A module-level value is "changed" exactly when its AST differs (formatting alone is
    not a change), and unchanged statements are not dumped: dumping every value of a large
    module took seconds on the review screen (issue 18)."""
    import ast

    from reviewq.core import rationale as mod

    old = "".join(f"value_{i} = {{'n': {i}, 'name': 'v{i}'}}\n" for i in range(300))
    new = (
        old.replace("value_7 = {'n': 7,", "value_7 = {'n': 70,")
        .replace("value_9 = {'n': 9, ", "value_9 = {'n':9,   ")  # formatting only
        .replace("'name': 'v11'", "'name': 'v 11'")
    )
    calls = 0
    dump = ast.dump

    def counting(node, *args, **kw):
        nonlocal calls
        calls += 1
        return dump(node, *args, **kw)

    monkeypatch.setattr(mod.ast, "dump", counting)
    r = rationale({"app/values.py": (old, new)})
    f = next(f for f in r.files if f.path == "app/values.py")
    assert "module names changed: value_11, value_7" in f.notes
    assert calls <= 6  # the three edited statements, on each side


def test_module_name_values_agree_with_ast_dump() -> None:
    """The lazy comparison says what comparing `ast.dump` of every value said."""
    import ast
    import random

    from reviewq.core.rationale import python_definitions

    rng = random.Random(20)
    shapes = ["x = 1", "x = 1  # note", "x  =  1", "x = (1)", "x = 2", "x: int = 1", "x = 'a  b'",
              "x = 'a b'", "x += 1", "x = [1,\n     2]", "x = [1, 2]", "a = 1; x = 1", "x = y = 3"]  # fmt: skip
    for _ in range(200):
        a, b = rng.choice(shapes), rng.choice(shapes)
        _, old, _ = python_definitions(a + "\n")
        _, new, _ = python_definitions(b + "\n")

        def dumps(text):
            out = {}
            for node in ast.parse(text).body:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            out[n.id] = ast.dump(node.value) if node.value is not None else ""
            return out

        want_old, want_new = dumps(a + "\n"), dumps(b + "\n")
        assert set(old) == set(want_old) and set(new) == set(want_new)
        for name in set(old) & set(new):
            assert (old[name] == new[name]) == (want_old[name] == want_new[name]), (a, b)


def test_a_large_module_parsed_in_another_process_gives_the_same_rationale() -> None:
    """`reviewq.core.pace.offload`: the TUI parses large modules in a worker process (an
    `ast.parse` holds the interpreter, and the reviewer's keys wait); the summary is the same,
    notes of a module that does not parse included."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from reviewq.core import pace

    big_old = "".join(
        f"value_{i} = {{'n': {i}}}\ndef f_{i}():\n    return {i}\n" for i in range(900)
    )
    big_new = big_old.replace("return 7\n", "return 70\n") + "def added():\n    pass\n"
    files = {
        "app/big.py": (big_old, big_new),
        "app/broken.py": (big_old, big_new + "def (:\n"),
        "app/small.py": ("x = 1\n", "x = 2\n"),
    }
    here = rationale(files)
    assert len(big_old) >= pace.OFFLOAD_MIN_CHARS
    jobs: list[str] = []
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:

        def hook(fn, *args):
            jobs.append(fn.__name__)
            return pool.submit(fn, *args).result()

        token = pace.OFFLOAD.set(hook)
        try:
            there = rationale(files)
        finally:
            pace.OFFLOAD.reset(token)
    assert jobs == ["_python_structure_job", "_python_structure_job"]  # the two large files
    assert there == here
    broken = next(f for f in there.files if f.path == "app/broken.py")
    assert any("does not parse" in n for n in broken.notes)
