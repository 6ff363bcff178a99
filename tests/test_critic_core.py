"""The pure rules around every critique: the family guard, verification of findings against the
hunks, cache keys and the offline summary fields."""

from __future__ import annotations

from reviewq.core.critique import (
    cache_key,
    check_family,
    diff_hash,
    effective_lines,
    review_effort,
    security_concerns,
    verify_finding,
)
from reviewq.core.critique import (
    tests_present as has_tests,
)
from reviewq.core.model import Critique, Finding
from tests.critic_eval.harness import input_for

BEFORE = "".join(f"line {i}\n" for i in range(1, 41))
AFTER = BEFORE.replace("line 20\n", "line 20\nnew_call(x)\nother = 2\n")


def subject():
    return input_for(
        {"app/a.py": (BEFORE, AFTER), "tests/test_gone.py": ("def test_a():\n    pass\n", None)}
    )


def finding(**kw) -> Finding:
    base = dict(
        file="app/a.py",
        start_line=21,
        end_line=21,
        severity="warning",
        label="possible_bug",
        rule="model",
        body="b",
        quote="new_call(x)",
    )
    base.update(kw)
    return Finding(**base)


# -- family guard ----------------------------------------------------------------------------


def test_same_family_is_refused_unless_allowed_and_then_recorded() -> None:
    refused = check_family("anthropic", "anthropic")
    assert not refused.allowed and refused.same_family
    allowed = check_family("anthropic", "anthropic", allow_same_family=True)
    assert allowed.allowed and allowed.same_family and "explicitly allowed" in allowed.note


def test_different_family_is_allowed() -> None:
    d = check_family("openai", "anthropic")
    assert d.allowed and not d.same_family and "differs" in d.note


def test_unknown_author_allows_any_critic_and_says_so() -> None:
    d = check_family("unknown", "anthropic")
    assert d.allowed and not d.same_family and "unknown" in d.note
    assert check_family("unknown", "rules").allowed


def test_unrecognised_critic_family_is_allowed_with_a_warning() -> None:
    d = check_family("anthropic", "other")
    assert d.allowed and "could not confirm" in d.note


def test_the_rules_family_never_matches_a_model_family() -> None:
    for fam in ("anthropic", "openai", "google", "other"):
        assert check_family(fam, "rules").allowed


# -- verification ----------------------------------------------------------------------------


def test_quote_on_the_new_side_at_the_cited_lines_is_verified() -> None:
    f = verify_finding(subject().diff, finding())
    assert f.verified and f.verification == "quote found"


def test_quote_matches_with_whitespace_and_render_prefix_differences() -> None:
    diff = subject().diff
    assert verify_finding(diff, finding(quote="  new_call(x)   ")).verified
    assert verify_finding(diff, finding(quote="    21 +|new_call(x)")).verified
    assert verify_finding(diff, finding(quote="new_call")).verified  # a fragment


def test_multi_line_quote_must_be_consecutive_rows_of_one_hunk() -> None:
    diff = subject().diff
    ok = verify_finding(diff, finding(start_line=21, end_line=22, quote="new_call(x)\nother = 2"))
    assert ok.verified
    bad = verify_finding(diff, finding(start_line=21, end_line=22, quote="new_call(x)\nline 40"))
    assert not bad.verified


def test_quote_not_in_the_diff_is_unverified() -> None:
    f = verify_finding(subject().diff, finding(quote="rm -rf /"))
    assert not f.verified and "quote not found" in f.verification


def test_range_outside_every_hunk_is_unverified_even_with_a_real_quote() -> None:
    f = verify_finding(subject().diff, finding(start_line=3, end_line=3))
    assert not f.verified and "outside every hunk" in f.verification


def test_quote_elsewhere_in_the_hunk_than_cited_is_unverified() -> None:
    # Two lines of slack for a model that miscounts; beyond that the citation is wrong.
    near = verify_finding(subject().diff, finding(start_line=23, end_line=23, quote="new_call(x)"))
    assert near.verified
    far = verify_finding(subject().diff, finding(start_line=24, end_line=24, quote="new_call(x)"))
    assert not far.verified and "not at the cited" in far.verification


def test_quote_on_removed_lines_only_is_unverified() -> None:
    diff = input_for({"a.py": ("old_thing()\nkeep()\n", "keep()\n")}).diff
    f = verify_finding(diff, finding(file="a.py", start_line=1, end_line=1, quote="old_thing()"))
    assert not f.verified and "removed lines" in f.verification


def test_missing_lines_are_filled_from_the_quote() -> None:
    f = verify_finding(subject().diff, finding(start_line=None, end_line=None, quote="other = 2"))
    assert f.verified and (f.start_line, f.end_line) == (22, 22)


def test_file_not_in_the_diff_is_unverified() -> None:
    f = verify_finding(subject().diff, finding(file="app/nope.py"))
    assert not f.verified and "not part of this diff" in f.verification


def test_model_claims_with_nothing_cited_are_not_facts_but_rules_are() -> None:
    diff = subject().diff
    bare = finding(start_line=None, end_line=None, quote="")
    assert not verify_finding(diff, bare).verified
    assert verify_finding(diff, bare, trust_uncited=True).verified
    whole = finding(file=None, start_line=None, end_line=None, quote="")
    assert not verify_finding(diff, whole).verified
    assert verify_finding(diff, whole, trust_uncited=True).verified


def test_deleted_file_findings_check_the_old_side() -> None:
    diff = subject().diff
    f = verify_finding(
        diff,
        finding(file="tests/test_gone.py", start_line=None, end_line=None, quote="def test_a():"),
    )
    assert f.verified and f.start_line is None


def test_reversed_or_impossible_ranges() -> None:
    diff = subject().diff
    assert verify_finding(diff, finding(start_line=22, end_line=21, quote="new_call(x)")).verified
    assert not verify_finding(diff, finding(start_line=-3, end_line=-1)).verified


# -- keys and summary fields -------------------------------------------------------------------


def test_cache_key_changes_with_every_part() -> None:
    s = subject()
    base = cache_key(s.input_key, "anthropic", "m1", "v1")
    assert base != cache_key(s.input_key, "openai", "m1", "v1")
    assert base != cache_key(s.input_key, "anthropic", "m2", "v1")
    assert base != cache_key(s.input_key, "anthropic", "m1", "v2")
    other = input_for({"app/a.py": (BEFORE, AFTER + "z\n")})
    assert other.input_key != s.input_key
    prompted = input_for({"app/a.py": (BEFORE, AFTER)}, prompt="do it")
    assert prompted.diff_digest == input_for({"app/a.py": (BEFORE, AFTER)}).diff_digest
    assert prompted.input_key != input_for({"app/a.py": (BEFORE, AFTER)}).input_key


def test_diff_hash_is_stable_for_equal_diffs() -> None:
    assert diff_hash(subject().diff) == diff_hash(subject().diff)


def test_effort_grows_with_size_and_severity_and_tables_read_lightly() -> None:
    small = input_for({"a.py": (None, "x = 1\n")}).diff
    assert review_effort(small) == 1
    assert review_effort(small, [finding(severity="critical")]) == 2
    code = input_for(
        {
            "a.py": (
                None,
                "".join(f"{chr(97 + i % 26)}{i} = {chr(97 + i % 7)}(x)\n" for i in range(600)),
            )
        }
    )
    assert review_effort(code.diff) == 5
    table = "".join(f'    "C{i:04d}": {{"rate": 1.{i % 97:02d}}},\n' for i in range(1800))
    data = input_for({"rates.py": (None, "RATES = {\n" + table + "}\n")}).diff
    assert effective_lines(data) < 200
    assert review_effort(data) <= 3


def test_tests_present_needs_added_test_code() -> None:
    assert not has_tests(subject().diff)  # only a deletion
    assert has_tests(input_for({"tests/test_a.py": (None, "def test_a():\n    pass\n")}).diff)


def test_security_concerns_names_the_worst_verified_finding() -> None:
    assert security_concerns([]) == "No"
    worst = finding(rule="prompt-injection", label="security", severity="critical", verified=True)
    mild = finding(rule="xss-sink", label="security", severity="warning", verified=True)
    text = security_concerns([mild, worst])
    assert text.startswith("Text that instructs the reviewer") and "unescaped HTML sink" in text
    unverified = finding(rule="xss-sink", label="security", severity="error", verified=False)
    assert security_concerns([unverified]) == "No"


def test_critique_json_keeps_the_contract_shape() -> None:
    c = Critique(
        sha="a" * 40,
        critic="static",
        family="rules",
        model=None,
        author_family="anthropic",
        same_family_allowed=False,
        summary="s",
        security_concerns="No",
        tests_present=True,
        effort=2,
        rationale="r",
        findings=[finding(verified=True, verification="quote found")],
        change_id="a" * 40,
    )
    data = c.to_json()
    for key in (
        "sha",
        "critic",
        "family",
        "model",
        "author_family",
        "same_family_allowed",
        "summary",
        "security_concerns",
        "tests_present",
        "effort",
        "rationale",
        "findings",
    ):
        assert key in data
    assert set(data["findings"][0]) >= {
        "file",
        "start_line",
        "end_line",
        "severity",
        "label",
        "rule",
        "body",
        "quote",
        "verified",
    }
    assert Critique.from_json(data) == c


# -- verifying many findings -----------------------------------------------------------------


def test_many_findings_normalise_each_row_once(monkeypatch) -> None:
    """verify_findings normalises a file's rows once for all its findings, not once per
    finding: 10,000 findings on a 50,000-line diff took minutes (issue 18)."""
    import reviewq.core.critique as critique

    diff = subject().diff
    findings = [finding(start_line=21, end_line=21, quote="new_call(x)") for _ in range(50)]
    calls = 0
    norm = critique._norm

    def counting(text: str) -> str:
        nonlocal calls
        calls += 1
        return norm(text)

    monkeypatch.setattr(critique, "_norm", counting)
    results = critique.verify_findings(diff, findings)
    assert all(f.verified for f in results)
    rows = sum(len(h.lines) for fd in diff.files for h in fd.hunks)
    # each row once (per side), plus the quote's own lines for each finding
    assert calls <= 2 * rows + 4 * len(findings)


def test_verify_findings_says_what_verify_finding_says_of_each() -> None:
    """Sharing rows between findings changes no verdict on any of them."""
    from reviewq.core.critique import verify_findings

    diff = subject().diff
    cases = [
        finding(),
        finding(quote="  new_call(x)   "),
        finding(quote="    21 +|new_call(x)"),
        finding(quote="new_call"),
        finding(start_line=21, end_line=22, quote="new_call(x)\nother = 2"),
        finding(start_line=21, end_line=22, quote="new_call(x)\nline 40"),
        finding(start_line=19, end_line=23, quote="line 19\nline 20\nnew_call(x)\nother = 2"),
        finding(quote="ne 20\nnew_call(x)\nother"),
        finding(quote="nowhere at all"),
        finding(start_line=2, end_line=2),
        finding(start_line=None, end_line=None, quote="other = 2"),
        finding(file=None, start_line=None, end_line=None, quote="line 21"),
        finding(file="tests/test_gone.py", start_line=None, end_line=None, quote="pass"),
        finding(file="missing.py"),
        finding(quote="line 20"),
    ]
    alone = [verify_finding(diff, f) for f in cases]
    assert verify_findings(diff, cases) == alone
    assert verify_findings(diff, cases, trust_uncited=True) == [
        verify_finding(diff, f, trust_uncited=True) for f in cases
    ]
