"""`[policy]` and `[[domains]]` parsing: a malformed policy is one precise error, never a weaker one."""

from __future__ import annotations

import tomllib

import pytest

from reviewq.core.config import ConfigError, parse_config
from reviewq.core.globs import compile_glob
from reviewq.core.policy_rules import Rule, policy_from_sections


def load(text: str):
    return policy_from_sections(parse_config(tomllib.loads(text)).sections)


def test_no_policy_means_one_approval_from_someone_else():
    policy = load("")
    assert policy.default == Rule(approvals=1)
    assert policy.domains == ()


def test_domains_inherit_what_they_do_not_set_from_policy():
    policy = load(
        """
[policy]
approvals = 1
min_seconds_per_100_lines = 30
velocity_owners = ["vp@acme.example"]

[[domains]]
name = "auth"
paths = ["auth/**"]
approvals = 2
velocity_owners = ["growth-lead@acme.example", "vp@acme.example"]
"""
    )
    auth = policy.rule_of("auth")
    assert auth.approvals == 2
    assert auth.min_seconds_per_100_lines == 30
    assert auth.velocity_owners == ("growth-lead@acme.example", "vp@acme.example")
    assert policy.rule_of("default").approvals == 1


MALFORMED = [
    ("[policy]\napprovals = true\n", "policy.approvals: expected a whole number"),
    ("[policy]\napprovals = 1.5\n", "policy.approvals: expected a whole number"),
    ("[policy]\napprovals = -1\n", "policy.approvals: must be between 0 and 50"),
    ('[policy]\ncooldown_hours = "240h"\n', "policy.cooldown_hours: expected a number"),
    ("[policy]\ncooldown_hours = -2\n", "policy.cooldown_hours: must not be negative"),
    ("[policy]\nsecond_family_critique = 1\n", "policy.second_family_critique: expected true"),
    ("[policy]\nsigned_approval = true\n", "policy: unknown key 'signed_approval'"),
    ('[policy]\napprovers = ["sam"]\n', "policy.approvers[0]: 'sam' is not an email"),
    ('[policy]\nvelocity_owners = ["allowed-signers"]\n', "policy.velocity_owners[0]"),
    ('[policy]\nchecklist = ["a", "a"]\n', "policy.checklist[1]: 'a' is listed twice"),
    ('[policy]\nchecklist = [""]\n', "policy.checklist[0]: expected a non-empty string"),
    ("policy = 3\n", "policy: expected a table"),
    ('[[domains]]\npaths = ["a/**"]\n', "domains[0]: missing `name`"),
    ('[[domains]]\nname = "a"\n', "domains[0]: missing `paths`"),
    ('[[domains]]\nname = "a"\npaths = []\n', "domains[0].paths: expected a non-empty array"),
    ('[[domains]]\nname = "Auth"\npaths = ["a"]\n', "domains[0].name: 'Auth' must be"),
    ('[[domains]]\nname = "default"\npaths = ["a"]\n', "domains[0].name: 'default' is the rule"),
    (
        '[[domains]]\nname = "a"\npaths = ["x"]\n[[domains]]\nname = "a"\npaths = ["y"]\n',
        "domains[1].name: domain 'a' is defined twice",
    ),
    ('[[domains]]\nname = "a"\npaths = ["a**"]\n', "'**' must be a whole path segment"),
    ('[[domains]]\nname = "a"\npaths = ["a/[bc"]\n', "has an unclosed '['"),
    ('[[domains]]\nname = "a"\npaths = ["../a"]\n', "'.' or '..' path segment"),
    ('[[domains]]\nname = "a"\npaths = ["a"]\ncooldown = 240\n', "domains[0]: unknown key"),
    ('[[domains]]\nname = "a"\npaths = ["a"]\napprovals = "2"\n', "domains[0].approvals"),
    ("[domains]\nname = 'a'\n", "domains: expected an array of tables"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_a_malformed_policy_is_a_clear_error_never_a_weaker_policy(text, message):
    with pytest.raises(ConfigError) as info:
        parse_config(tomllib.loads(text))
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("glob", "yes", "no"),
    [
        ("auth/**", ["auth/a.py", "auth/x/y/z.py"], ["auth", "src/auth/a.py", "authz/a.py"]),
        ("**/auth/**", ["auth/a.py", "src/auth/a.py", "a/b/auth/c"], ["src/authz/a.py"]),
        ("orders/auth*", ["orders/auth.py", "orders/authz"], ["orders/authz/k.py", "auth.py"]),
        (".github/workflows/**", [".github/workflows/t.yml"], [".github/CODEOWNERS"]),
        ("docs/", ["docs/a.md", "docs/x/b.md"], ["docs", "src/docs/a.md"]),
        ("/README.md", ["README.md"], ["docs/README.md"]),
        ("src/**/*.sql", ["src/a.sql", "src/x/y/b.sql"], ["src/a.sqlx", "a.sql"]),
        ("file?.[ch]", ["file1.c", "fileA.h"], ["file10.c", "file1.o"]),
        ("x/[!a]*", ["x/bc"], ["x/abc", "x/"]),
    ],
)
def test_path_globs(glob, yes, no):
    pattern = compile_glob(glob)
    for path in yes:
        assert pattern.match(path), (glob, path)
    for path in no:
        assert not pattern.match(path), (glob, path)
