"""Pull request bodies from GitHub, for the task a cloud agent was given (`reviewq pull` only).

Asked only when a token is configured (`GITHUB_TOKEN` or `GH_TOKEN`) and the remote is on GitHub
(or `git config reviewq.githubRepo OWNER/NAME` says which repository it mirrors). What is kept is
the task found in the body (core/forge_prompt), in `<state dir>/forge.json`, keyed by the pull
request's remote-tracking ref; `show`, `scan` and the queue read it from there, never the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reviewq.core import safejson
from reviewq.core.forge_prompt import ForgeTask, github_repo, task_from_pr_body
from reviewq.files import replace_file
from reviewq.sources.gitcmd import Git

API = "https://api.github.com"


def token_from(env: Mapping[str, str]) -> str | None:
    return env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None


def repo_for(git: Git, remote: str) -> tuple[str, str] | None:
    configured = (git.config_get("reviewq.githubRepo") or "").strip()
    if configured.count("/") == 1:
        owner, name = configured.split("/")
        return owner, name
    url = git.config_get(f"remote.{remote}.url") or ""
    return github_repo(url)


def fetch_tasks(
    owner: str,
    name: str,
    numbers: Iterable[int],
    token: str,
    *,
    transport: Any = None,
    timeout: float = 20.0,
) -> tuple[dict[int, ForgeTask | None], list[str]]:
    """The task in each pull request's body; failures are named, never raised."""
    # start-up: httpx only when a forge is asked
    import httpx2

    out: dict[int, ForgeTask | None] = {}
    problems: list[str] = []
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "reviewq",
    }
    with httpx2.Client(transport=transport, timeout=timeout, headers=headers) as client:
        for number in numbers:
            try:
                resp = client.get(f"{API}/repos/{owner}/{name}/pulls/{number}")
            except httpx2.HTTPError as exc:
                problems.append(f"pull request #{number}: {type(exc).__name__}")
                continue
            if resp.status_code != 200:
                problems.append(f"pull request #{number}: HTTP {resp.status_code}")
                continue
            try:
                body = resp.json().get("body")
            except (ValueError, AttributeError):
                problems.append(f"pull request #{number}: the answer is not JSON")
                continue
            out[number] = task_from_pr_body(body if isinstance(body, str) else None)
    return out, problems


def load_tasks(state_dir: Path) -> dict[str, ForgeTask]:
    try:
        data = safejson.loads((state_dir / "forge.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for ref, row in (data.get("tasks") or {}).items() if isinstance(data, dict) else ():
        if isinstance(row, dict) and isinstance(row.get("agent"), str):
            out[ref] = ForgeTask(row["agent"], row.get("prompt"), row.get("link"))
    return out


def store_tasks(state_dir: Path, tasks: Mapping[str, ForgeTask | None]) -> None:
    current = load_tasks(state_dir)
    for ref, task in tasks.items():
        # A body with no task is remembered too (agent ""), so an unchanged ref is not asked again.
        current[ref] = task if task is not None else ForgeTask("", None, None)
    rows = {
        ref: {"agent": t.agent, "prompt": t.prompt, "link": t.link} for ref, t in current.items()
    }
    replace_file(
        state_dir / "forge.json",
        lambda fh: fh.write(json.dumps({"v": 1, "tasks": rows}, indent=1).encode()),
        prefix=".forge-",
    )
