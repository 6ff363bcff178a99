"""Issue 14: nobody with push access gets around the gate. Each attack drives the real CLI on a
real repository: an approval carried to a commit that behaves differently, a change hiding its
own diff, a shallow clone hiding commits, the reviewer's identity, and policy changes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reviewq.context import Context
from tests.conftest import Repo, run_reviewq

CODEX = "\n\nCo-authored-by: Codex <noreply@openai.com>\n"
ANA = ("Ana Lima", "ana@example.com")
BEN = ("Ben Cho", "ben@example.com")
SAFE_PATH = {"PYTHONSAFEPATH": "1"}

POLICY = "[policy]\napprovals = 1\n"


def gate(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_reviewq("gate", *args, cwd=path, env=SAFE_PATH)


def gate_json(path: Path, *args: str) -> dict:
    result = gate(path, "--json", *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


def as_reviewer(repo: Repo, who: tuple[str, str]) -> None:
    repo.git("config", "user.name", who[0])
    repo.git("config", "user.email", who[1])


def approve(repo: Repo, rev: str, *extra: str, who: tuple[str, str] = ANA) -> dict:
    """`reviewq verdict REV approve` as a reviewer runs it."""
    as_reviewer(repo, who)
    result = run_reviewq(
        "verdict", rev, "approve", "--seconds", "600", "--json", *extra, cwd=repo.path
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def amend(repo: Repo, files: dict[str, str | bytes]) -> str:
    for rel, content in files.items():
        repo.write(rel, content)
    repo.git("add", "-A")
    repo.git(
        "commit",
        "--amend",
        "-q",
        "--no-edit",
        "--allow-empty",
        env={"GIT_COMMITTER_DATE": "2026-11-21T10:00:00+00:00"},
    )
    return repo.git("rev-parse", "HEAD")


@pytest.fixture
def based(repo: Repo) -> Repo:
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY, "README.md": "orders\n"})
    repo.git("tag", "base")
    return repo


# -- 1. an approval must not carry over to a commit that behaves differently ------------------

CHECK = "def allowed(user):\n    if user.admin:\n        return True\n    return False\n"
#: The same lines but one: `return True` moved out of its `if` (whitespace only to patch-id --stable).
CHECK_MOVED = "def allowed(user):\n    if user.admin:\n        return True\nreturn False\n"
CHECK_OPEN = "def allowed(user):\n    if user.admin:\n        pass\n    return True\n"
CHECK_OPEN_WS = "def allowed(user):\n    if user.admin:\n        pass\n        return True\n"


@pytest.mark.parametrize(
    ("approved", "amended"),
    [
        pytest.param({"auth.py": CHECK_OPEN_WS}, {"auth.py": CHECK_OPEN}, id="python-indent"),
        pytest.param(
            {"clean.sh": "rm -rf /tmp/x\n"}, {"clean.sh": "rm -rf / tmp/x\n"}, id="shell-word"
        ),
        pytest.param({"m.py": "x = 1\n"}, {"m.py": "x=1\n"}, id="whitespace-removed"),
        pytest.param({"run.sh": "echo hi\n"}, {"run.sh": "echo hi \n"}, id="trailing-space"),
    ],
)
def test_an_approval_does_not_carry_over_a_whitespace_change(
    based: Repo, approved: dict, amended: dict
) -> None:
    repo = based
    sha = repo.commit("Add a check" + CODEX, files=approved)
    approve(repo, sha)
    assert gate(repo.path, "base..HEAD").returncode == 0
    new = amend(repo, amended)
    # Same stable patch-id: the whitespace-blind identity the old gate matched on.
    stable = [
        repo.git("patch-id", "--stable", input=repo.git("show", rev) + "\n").split()[0]
        for rev in (sha, new)
    ]
    assert stable[0] == stable[1]
    result = gate_json(repo.path, "base..HEAD")
    assert result["passed"] is False
    (commit,) = result["commits"]
    assert commit["sha"] == new and commit["approved_by"] == []


def test_a_byte_identical_rebase_keeps_its_approval(based: Repo) -> None:
    repo = based
    sha = repo.commit("Add a check" + CODEX, files={"auth.py": CHECK})
    approve(repo, sha)
    # main moves on under it; the change is rebased onto the new base, its lines unchanged.
    repo.git("checkout", "-q", "-b", "upstream", "base")
    repo.commit("Unrelated", files={"README.md": "orders\nmore\n"})
    repo.git("checkout", "-q", "main")
    repo.git("rebase", "-q", "upstream")
    assert repo.git("rev-parse", "HEAD") != sha
    result = gate_json(repo.path, "base..HEAD")
    ai = [c for c in result["commits"]]
    assert len(ai) == 1 and ai[0]["passed"] is True, ai
    # ... and the moved-`return` amend of it does not.
    amend(repo, {"auth.py": CHECK_MOVED})
    assert gate(repo.path, "base..HEAD").returncode == 1


def test_the_same_lines_added_in_another_place_do_not_keep_the_approval(based: Repo) -> None:
    """The approved line moved from under its guard to the top level of another function: the
    content id covers context lines (as `git patch-id` does), so the approval stays behind."""
    repo = based
    guarded = "def run(cmd):\n    if allowed(cmd):\n        pass\n"
    repo.commit("Add run", files={"run.py": guarded + "\n\n" + "def other():\n        pass\n"})
    repo.git("tag", "-f", "base")
    line = "        os.system(cmd)\n"
    sha = repo.commit(
        "Run the command" + CODEX,
        files={"run.py": guarded + line + "\n\n" + "def other():\n        pass\n"},
    )
    approve(repo, sha)
    assert gate(repo.path, "base..HEAD").returncode == 0
    moved = guarded + "\n\n" + "def other():\n        pass\n" + line
    new = amend(repo, {"run.py": moved})
    assert new != sha
    result = gate_json(repo.path, "base..HEAD")
    assert result["passed"] is False and result["commits"][0]["approved_by"] == []


def test_a_mode_or_submodule_pointer_change_does_not_keep_the_approval(based: Repo) -> None:
    repo = based
    sha = repo.commit("Add a script" + CODEX, files={"run.sh": "echo hi\n"})
    approve(repo, sha)
    (repo.path / "run.sh").chmod(0o755)
    amend(repo, {})
    assert gate(repo.path, "base..HEAD").returncode == 1

    # A submodule pointer (gitlink) moved in the amended commit: another tree, another content.
    repo.git("reset", "-q", "--hard", sha)
    one = "1" * 40
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{one},vendor/lib")
    repo.git("commit", "--amend", "-q", "--no-edit")
    linked = repo.git("rev-parse", "HEAD")
    approve(repo, linked)
    repo.git("update-index", "--cacheinfo", f"160000,{'2' * 40},vendor/lib")
    repo.git("commit", "--amend", "-q", "--no-edit")
    assert gate(repo.path, "base..HEAD").returncode == 1


def test_signed_approvals_do_not_carry_over_a_whitespace_change(based: Repo, tmp_path) -> None:
    from tests.verdict_kit import allowed_line, keygen

    repo = based
    key = keygen(tmp_path / "keys", "ana")
    policy = (
        '[log]\nallowed_signers = ".github/allowed_signers"\n\n'
        "[policy]\napprovals = 1\nsigned_approvals = true\n"
    )
    repo.commit(
        "Sign reviews",
        files={".reviewq.toml": policy, ".github/allowed_signers": allowed_line(ANA[1], key)},
    )
    repo.git("tag", "-f", "base")
    sha = repo.commit("Add a cleanup" + CODEX, files={"clean.sh": "rm -rf /tmp/x\n"})
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    assert approve(repo, sha)["signature"]
    assert gate(repo.path, "base..HEAD").returncode == 0
    amend(repo, {"clean.sh": "rm -rf / tmp/x\n"})
    result = gate_json(repo.path, "base..HEAD")
    assert result["passed"] is False and result["commits"][0]["approved_by"] == []


def test_a_record_from_before_content_ids_counts_for_its_own_sha_only(based: Repo) -> None:
    """Records already in logs carry only the stable patch-id: it matches nothing but the sha."""
    from reviewq.core.model import Identity
    from reviewq.core.verdict import CritiqueState, new_record
    from reviewq.store.log import ProvenanceLog
    from reviewq.workflow.lookup import lookup
    from reviewq.workflow.recording import patch_ids

    repo = based
    sha = repo.commit("Add a cleanup" + CODEX, files={"clean.sh": "rm -rf /tmp/x\n"})
    ctx = Context.open(repo.path)
    try:
        change = lookup(ctx, sha).change
        assert change is not None
        old = new_record(
            record_id="0" * 32,
            sha=sha,
            change_id=sha,
            patch_id=patch_ids(ctx, [sha])[sha],
            verdict="approve",
            reviewer=Identity(*ANA),
            at="2026-11-20T12:00:00.000+01:00",
            active_seconds=600,
            wall_seconds=600,
            lines_changed=1,
            hunks_total=1,
            hunks_viewed=1,
            critique=CritiqueState("static", "rules", None, True),
            author_family="openai",
        )
        assert "content_id" not in old
        ProvenanceLog(ctx.log_path).append(old)
    finally:
        ctx.close()
    assert run_reviewq("log", "rebuild", "--to-notes", cwd=repo.path).returncode == 0
    assert gate(repo.path, "base..HEAD").returncode == 0  # its own commit: by sha
    amend(repo, {"clean.sh": "rm -rf / tmp/x\n"})
    assert gate(repo.path, "base..HEAD").returncode == 1


# -- 9. a shallow clone must not hide commits -------------------------------------------------


def shallow_clone(origin: Repo, target: Path, depth: int, base_depth: int = 1) -> Repo:
    """A CI checkout: `depth` commits of main and `base_depth` of the tag `base`."""
    clone = Repo(target)
    clone.git("checkout", "-q", "--orphan", "ci")
    url = f"file://{origin.path}"
    clone.git("fetch", "-q", f"--depth={depth}", url, "+refs/heads/main:refs/heads/main")
    clone.git("fetch", "-q", f"--depth={base_depth}", url, "+refs/tags/base:refs/tags/base")
    clone.git("checkout", "-q", "main")
    return clone


def test_a_shallow_clone_cut_inside_the_range_fails_closed(repo: Repo, tmp_path: Path) -> None:
    repo.commit("Begin", files={"LICENSE": "mine\n"})
    repo.commit("Start", files={"README.md": "orders\n"})
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY})
    repo.git("tag", "base")
    repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    repo.commit("Human follow-up", files={"notes.txt": "n\n"})
    assert gate(repo.path, "base..main").returncode == 1  # the full history: unreviewed

    clone = shallow_clone(repo, tmp_path / "ci", 1)
    assert clone.git("rev-parse", "--is-shallow-repository") == "true"
    result = gate(clone.path, "base..main")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "shallow clone" in result.stderr and "fetch-depth: 0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    # JSON callers get the same answer.
    data = json.loads(gate(clone.path, "--json", "base..main").stdout)
    assert data["passed"] is False and data["exit_code"] == 2

    # Deep enough to reach the base but not who wrote its policy: still not checkable.
    cut = shallow_clone(repo, tmp_path / "ci-cut", 3)
    result = gate(cut.path, "base..main")
    assert result.returncode == 2 and "shallow clone: the policy at" in result.stderr

    # Deep enough for both: nothing is cut, the gate judges the range.
    deep = shallow_clone(repo, tmp_path / "ci-deep", 4, base_depth=2)
    assert deep.git("rev-parse", "--is-shallow-repository") == "true"
    result = gate(deep.path, "base..main")
    assert result.returncode == 1 and "approvals" in result.stdout, result.stderr


# -- 10. the reviewer is the person git names -------------------------------------------------

ADA = ("Ada Lovelace", "ada@example.com")  # the tests' commit author: she prompted the change


def verdict_cli(repo: Repo, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_reviewq("verdict", *args, cwd=repo.path, env={**SAFE_PATH, **(env or {})})


def test_the_reviewer_is_the_committer_git_names_not_config_alone(based: Repo) -> None:
    repo = based
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    # The prompter's shell names her (as `git commit` would record her); the repository's
    # config still names a colleague.
    as_reviewer(repo, ANA)
    hers = {"GIT_COMMITTER_NAME": ADA[0], "GIT_COMMITTER_EMAIL": ADA[1]}
    out = verdict_cli(repo, sha, "approve", "--seconds", "600", "--json", env=hers)
    assert out.returncode == 0, out.stderr
    stored = json.loads(out.stdout)
    assert stored["reviewer"] == {"name": ADA[0], "email": ADA[1]}
    result = gate_json(repo.path, "base..HEAD")
    assert result["passed"] is False
    assert any(n["code"] == "prompter" for n in result["commits"][0]["needs"])

    # Without the environment, git (and reviewq) name the configured user.
    out = verdict_cli(repo, sha, "approve", "--seconds", "600", "--json")
    assert json.loads(out.stdout)["reviewer"] == {"name": ANA[0], "email": ANA[1]}
    assert gate(repo.path, "base..HEAD").returncode == 0


def test_no_identity_is_guessed_from_the_host(based: Repo) -> None:
    repo = based
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    repo.git("config", "--global", "--unset", "user.name")
    repo.git("config", "--global", "--unset", "user.email")
    out = verdict_cli(repo, sha, "approve", env={"EMAIL": ""})
    assert out.returncode == 2 and "who is reviewing?" in out.stderr, out.stderr


@pytest.mark.parametrize("kind", ["changes", "escalate"])
def test_changes_and_escalate_need_a_note_in_the_cli_too(based: Repo, kind: str) -> None:
    repo = based
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    for note in ([], ["--note", "   "]):
        out = verdict_cli(repo, sha, kind, *note)
        assert out.returncode == 2, out.stdout + out.stderr
        assert "needs a note" in out.stderr and "nothing recorded" in out.stderr
    assert run_reviewq("log", "--json", cwd=repo.path).stdout.strip() == ""
    out = verdict_cli(repo, sha, kind, "--note", "split the helper")
    assert out.returncode == 0, out.stderr


def test_replacing_your_own_verdict_says_so(based: Repo) -> None:
    repo = based
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    as_reviewer(repo, ANA)
    first = verdict_cli(repo, sha, "reject", "--note", "no")
    assert first.returncode == 0 and "replaces" not in first.stdout
    # Someone else's verdict replaces nothing of theirs.
    as_reviewer(repo, BEN)
    assert "replaces" not in verdict_cli(repo, sha, "approve").stdout
    as_reviewer(repo, ANA)
    second = verdict_cli(repo, sha, "approve", "--seconds", "60")
    assert second.returncode == 0, second.stderr
    assert "replaces your earlier reject" in second.stdout


# -- 6. a change must not hide its own diff ---------------------------------------------------

SLOW = "[policy]\napprovals = 1\nmin_seconds_per_100_lines = 60\n"
#: 200 lines of Python with something for the critic to find in the middle.
HIDDEN = "".join(f"v{i} = {i}\n" for i in range(100)) + (
    "import requests\nrequests.get(URL, verify=False)\n"
    + "".join(f"w{i} = {i}\n" for i in range(98))
)


@pytest.fixture
def slow(repo: Repo) -> Repo:
    repo.commit("Adopt reviewq", files={".reviewq.toml": SLOW, "README.md": "orders\n"})
    repo.git("tag", "base")
    return repo


def hide_and_approve(repo: Repo, files: dict[str, str], seconds: str = "15") -> dict:
    """The attacking commit, approved after `seconds`: ample for the 1-3 lines git admits to,
    far too fast for the 200 lines of Python it really adds (the minimum is 120 s)."""
    sha = repo.commit("Add settings" + CODEX, files=files)
    approve(repo, sha, "--seconds", seconds)
    return gate_json(repo.path, "base..HEAD")


def assert_counted_and_too_fast(result: dict) -> None:
    assert result["passed"] is False, result
    (commit,) = result["commits"]
    assert any(n["code"] == "too-fast" for n in commit["needs"]), commit["needs"]


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param({".gitattributes": "*.py -diff\n"}, id="minus-diff"),
        pytest.param({".gitattributes": "*.py binary\n"}, id="binary-macro"),
        pytest.param({".gitattributes": "[attr]quiet -diff\n*.py quiet\n"}, id="own-macro"),
        pytest.param({"app/.gitattributes": "* -diff\n"}, id="subdirectory"),
        pytest.param({".gitattributes": "*.py -diff -text\n"}, id="minus-text"),
    ],
)
def test_a_change_cannot_mark_its_own_code_binary(slow: Repo, attributes: dict) -> None:
    result = hide_and_approve(slow, {**attributes, "app/settings.py": HIDDEN})
    assert_counted_and_too_fast(result)
    # The reviewer and the critic see the lines too.
    show = json.loads(run_reviewq("show", "--json", "HEAD", cwd=slow.path).stdout)
    (py,) = [f for f in show["diff"]["file_list"] if f["path"] == "app/settings.py"]
    assert py["binary"] is False and py["additions"] == 200
    critique = run_reviewq("critique", "--critic", "static", "--json", "HEAD", cwd=slow.path)
    assert critique.returncode == 0, critique.stderr
    rules = {f.get("rule") for f in json.loads(critique.stdout)["findings"]}
    assert "tls-verify-disabled" in rules


@pytest.mark.parametrize("where", ["info-attributes", "driver-binary", "textconv", "external"])
def test_local_attributes_and_diff_drivers_do_not_hide_lines(slow: Repo, where: str) -> None:
    repo = slow
    info = Path(repo.git("rev-parse", "--git-path", "info/attributes"))
    info = info if info.is_absolute() else repo.path / info
    info.parent.mkdir(parents=True, exist_ok=True)
    if where == "info-attributes":
        info.write_text("*.py binary\n")
    elif where == "driver-binary":
        info.write_text("*.py diff=quiet\n")
        repo.git("config", "diff.quiet.binary", "true")
    elif where == "textconv":
        info.write_text("*.py diff=blank\n")
        repo.git("config", "diff.blank.textconv", "true")
    else:
        repo.git("config", "diff.external", "true")
    result = hide_and_approve(repo, {"app/settings.py": HIDDEN})
    assert_counted_and_too_fast(result)
    critique = run_reviewq("critique", "--critic", "static", "--json", "HEAD", cwd=repo.path)
    rules = {f.get("rule") for f in json.loads(critique.stdout)["findings"]}
    assert "tls-verify-disabled" in rules


def test_content_that_really_is_binary_stays_binary(slow: Repo) -> None:
    repo = slow
    image = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    # A NUL after git's first 8,000 bytes does not make a text file binary either.
    late = "x = 1\n" * 2000 + "\x00\n"
    sha = repo.commit("Add a logo" + CODEX, files={"logo.png": image, "late.txt": late})
    data = json.loads(run_reviewq("show", "--json", sha, cwd=repo.path).stdout)
    files = {f["path"]: f for f in data["diff"]["file_list"]}
    assert files["logo.png"]["binary"] is True and files["logo.png"]["additions"] == 0
    assert files["late.txt"]["binary"] is False and files["late.txt"]["additions"] == 2001


# -- 11. policy changes -----------------------------------------------------------------------

STRICT = "[policy]\napprovals = 2\n"
LOOSE = "[policy]\napprovals = 1\n"


@pytest.fixture
def strict(repo: Repo) -> Repo:
    repo.commit("Adopt reviewq", files={".reviewq.toml": STRICT, "README.md": "orders\n"})
    return repo


def test_a_policy_landed_unreviewed_on_the_base_does_not_count(strict: Repo) -> None:
    repo = strict
    # Pushed straight to main by an agent, never reviewed: the weaker policy.
    weakening = repo.commit("Tidy settings" + CODEX, files={".reviewq.toml": LOOSE})
    repo.git("tag", "base")
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    approve(repo, sha)  # one approval: enough only under the weakened policy
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert weakening[:12] in line and "does not pass the gate itself" in line
    assert "review it first" in line and "Traceback" not in line

    # Reviewed as the policy before it asks (two approvals), the base's policy counts.
    approve(repo, weakening, who=ANA)
    approve(repo, weakening, who=BEN)
    assert gate(repo.path, "base..HEAD").returncode == 0


@pytest.mark.parametrize("how", ["deleted", "moved"])
def test_a_policy_deleted_or_moved_unreviewed_does_not_count(strict: Repo, how: str) -> None:
    repo = strict
    if how == "deleted":
        repo.git("rm", "-q", ".reviewq.toml")
    else:
        repo.git("mv", ".reviewq.toml", "docs-reviewq.toml")
    repo.commit("Move settings" + CODEX)
    repo.git("tag", "base")
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    approve(repo, sha)
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 2 and "does not pass the gate itself" in result.stderr


def test_a_new_allowed_signer_landed_unreviewed_does_not_count(repo: Repo, tmp_path) -> None:
    from tests.verdict_kit import allowed_line, keygen

    keys = tmp_path / "keys"
    ana, eve = keygen(keys, "ana"), keygen(keys, "eve")
    policy = (
        '[log]\nallowed_signers = ".github/allowed_signers"\n\n'
        '[policy]\napprovals = 1\napprovers = ["allowed-signers"]\n'
    )
    repo.commit(
        "Adopt reviewq",
        files={".reviewq.toml": policy, ".github/allowed_signers": allowed_line(ANA[1], ana)},
    )
    eve_id = ("Eve", "eve@example.com")
    both = allowed_line(ANA[1], ana) + allowed_line(eve_id[1], eve)
    added = repo.commit("Add a maintainer" + CODEX, files={".github/allowed_signers": both})
    repo.git("tag", "base")
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(eve))
    assert approve(repo, sha, who=eve_id)["signature"]
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 2 and added[:12] in result.stderr, result.stdout + result.stderr
    # Eve approving the commit that made her a signer does not help...
    assert approve(repo, added, who=eve_id)["signature"]
    assert gate(repo.path, "base..HEAD").returncode == 2
    # ... a signer from before it does.
    repo.git("config", "user.signingkey", str(ana))
    assert approve(repo, added, who=ANA)["signature"]
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_policy_change_is_judged_by_the_stricter_of_old_and_new(repo: Repo) -> None:
    repo.commit("Adopt reviewq", files={".reviewq.toml": LOOSE, "README.md": "orders\n"})
    repo.git("tag", "base")
    sha = repo.commit("Tighten settings" + CODEX, files={".reviewq.toml": STRICT})
    approve(repo, sha)
    result = gate_json(repo.path, "base..HEAD")
    (commit,) = result["commits"]
    assert commit["requirements"]["approvals"] == 2 and result["passed"] is False


def test_the_tui_applies_the_same_rules(based: Repo) -> None:
    """The TUI records through `Services.record_verdict`: the same note rule, the same notice."""
    from datetime import datetime

    from reviewq.errors import ReviewqError
    from reviewq.tui.services import Services, VerdictInput
    from reviewq.workflow.lookup import lookup

    repo = based
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    as_reviewer(repo, ANA)
    ctx = Context.open(repo.path)
    try:
        services = Services(ctx, now=lambda: datetime.now().astimezone())
        change = lookup(ctx, sha).change
        assert change is not None

        def data(verdict: str, note: str = "") -> VerdictInput:
            return VerdictInput(change, verdict, note, 60, 60, 1, 1, None)

        with pytest.raises(ReviewqError, match="needs a note"):
            services.record_verdict(data("escalate"))
        _, warnings = services.record_verdict(data("changes", "split it"))
        assert not any("replaces" in w for w in warnings)
        record, warnings = services.record_verdict(data("approve"))
        assert record["reviewer"]["email"] == ANA[1]
        assert any("replaces your earlier changes" in w for w in warnings)
    finally:
        ctx.close()


# -- beyond the list: replace refs and grafts -----------------------------------------


@pytest.mark.parametrize("how", ["replace-ref", "graft"])
def test_a_replace_ref_or_graft_does_not_hide_an_ai_commit(based: Repo, how: str) -> None:
    """`git replace` (a mirror clone fetches refs/replace/*, which push access can write) or a
    graft shows another commit in place of the real one: here, the AI commit minus its trailer."""
    repo = based
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    if how == "replace-ref":
        bare = repo.git("cat-file", "commit", sha).replace(CODEX.strip(), "").rstrip() + "\n"
        fake = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=bare)
        repo.git("replace", sha, fake)
        assert "Codex" not in repo.git("log", "-1", "--format=%B", sha)
    else:
        # Graft the base straight onto a human commit after the AI one: the AI commit vanishes.
        human = repo.commit("Human follow-up", files={"notes.txt": "n\n"})
        base = repo.git("rev-parse", "base")
        info = Path(repo.git("rev-parse", "--git-path", "info/grafts"))
        info = info if info.is_absolute() else repo.path / info
        info.parent.mkdir(parents=True, exist_ok=True)
        info.write_text(f"{human} {base}\n")
        assert sha not in repo.git("rev-list", "base..main")
    result = gate_json(repo.path, "base..main")
    assert result["passed"] is False
    assert sha in [c["sha"] for c in result["commits"]]


def test_ignoring_grafts_costs_git_no_complaint(repo: Repo) -> None:
    """Grafts are switched off with a graft file that cannot exist: pointing git at /dev/null
    made every call print a deprecation hint, which under a full disk (RLIMIT_FSIZE on the
    stderr file) killed git and hid the real cause."""
    import os

    from reviewq.sources.gitcmd import Git

    repo.commit("one")
    git = Git(repo.path)
    proc = subprocess.run(
        ["git", "log", "--oneline"],
        cwd=repo.path,
        env={**os.environ, **git._env},
        capture_output=True,
        check=True,
    )
    assert proc.stderr == b""


def test_links_planted_where_the_allowed_signers_are_written_are_not_followed(
    repo: Repo, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The allowed signers of the policy's commit are copied into the state dir for
    `ssh-keygen`. Someone who can write that folder plants links: at the pid-based temporary
    name the copy once used (the write would have gone to the linked file, and the link then
    become what `ssh-keygen` reads) and at the copy's own name. Neither is followed: the copy
    is a new regular file holding exactly the commit's bytes."""
    from reviewq.sources.gitcmd import Git
    from reviewq.workflow import gate as gate_module

    signers = "ana@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n"
    sha = repo.commit("Signers", files={".github/allowed_signers": signers})
    git = Git(repo.path)
    state = git.paths().state_dir
    state.mkdir(parents=True, exist_ok=True)
    victim = tmp_path / "victim"
    victim.write_text("attacker's keys\n")
    target = state / f"allowed_signers.at-{sha}"
    monkeypatch.setattr("os.getpid", lambda: 4242)
    (state / f"{target.name}.4242.tmp").symlink_to(victim)
    target.symlink_to(victim)
    got = gate_module._blob_file(git, sha, ".github/allowed_signers")
    assert got == target and not target.is_symlink()
    assert target.read_text() == signers
    assert victim.read_text() == "attacker's keys\n"
