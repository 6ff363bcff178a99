"""Critiques for the rest of reviewq: run one, show a cached one, or the rationale pane's data.

The TUI and the CLI call these; they gather what a critic reads (the diff, whole Python files
for ruff and `ast`, the prompt, the message), apply the family guard, run the critic and cache the
result in the `critiques` table under (diff + prompt, critic, model, prompt version). Nothing is
cached when a critic fails. API keys come only from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.core.critique import CritiqueInput
from reviewq.core.families import family_of
from reviewq.core.lazy_hunk import line_count
from reviewq.core.model import Change, Critique, Diff
from reviewq.core.net import is_loopback
from reviewq.core.pace import offload
from reviewq.core.patching import apply_file_diff
from reviewq.core.rationale import Rationale, subject_rationale
from reviewq.critics.base import Critic, CriticError, critique_key, guard, stamp
from reviewq.sources.gitcmd import GitError
from reviewq.store.cache_digests import CRITIQUES_TABLE
from reviewq.workflow.lookup import diff_of

TABLE = CRITIQUES_TABLE
#: Whole files larger than this are not read for ruff and `ast` (the hunks still are).
MAX_TEXT_BYTES = 2 * 1024 * 1024
_TEXT_SUFFIXES = (".py", ".pyi")


# -- what a critic reads -----------------------------------------------------------------------


def _decode(blob: bytes | None) -> str | None:
    if blob is None or len(blob) > MAX_TEXT_BYTES or b"\0" in blob[:8192]:
        return None
    return blob.decode("utf-8", "replace")


def file_texts(ctx: Context, change: Change, diff: Diff) -> tuple[dict[str, str], dict[str, str]]:
    """(old texts by old path, new texts by path) of the change's Python files.

    A commit's come from `sha^:path` and `sha:path` in one `git cat-file --batch`; an inbox
    patch's old text comes from HEAD and its new text from applying the patch to it.
    """
    wanted = [
        fd
        for fd in diff.files
        if fd.path.endswith(_TEXT_SUFFIXES)
        and not fd.is_binary
        and not fd.truncated
        and "\n" not in fd.path
        and "\n" not in (fd.old_path or "")
    ]
    if not wanted:
        return {}, {}
    inbox = change.source == "inbox"
    new_rev = None if inbox else change.commit.sha
    if inbox:
        old_rev = ctx.git.try_resolve("HEAD") if ctx.git.has_commits() else None
    else:
        old_rev = change.commit.parents[0] if change.commit.parents else None
    names: list[str] = []
    for fd in wanted:
        if fd.status != "added" and old_rev:
            names.append(f"{old_rev}:{fd.old_path or fd.path}")
        if fd.status != "deleted" and new_rev:
            names.append(f"{new_rev}:{fd.path}")
    try:
        blobs = ctx.git.cat_blobs(names) if names else {}
    except GitError:
        blobs = {}
    old_texts: dict[str, str] = {}
    new_texts: dict[str, str] = {}
    for fd in wanted:
        old_path = fd.old_path or fd.path
        old = _decode(blobs.get(f"{old_rev}:{old_path}")) if old_rev else None
        if old is not None:
            old_texts[old_path] = old
        new = _decode(blobs.get(f"{new_rev}:{fd.path}")) if new_rev else apply_file_diff(old, fd)
        if new is not None and fd.status != "deleted":
            new_texts[fd.path] = new
    return old_texts, new_texts


def critique_input(ctx: Context, change: Change, diff: Diff | None = None) -> CritiqueInput:
    diff = diff if diff is not None else diff_of(ctx, change)
    old_texts, new_texts = file_texts(ctx, change, diff)
    return CritiqueInput(
        change_id=change.id,
        sha=change.sha,
        message=change.commit.message,
        prompt=change.prompt.text if change.prompt else None,
        prompt_source=change.prompt.source if change.prompt else None,
        author_family=change.authorship.family,
        diff=diff,
        old_texts=old_texts,
        new_texts=new_texts,
    )


# -- critics -----------------------------------------------------------------------------------


def critic_family(model: str, configured: str | None) -> str:
    """The critic's family: the one its model names, whatever the config says.

    `[critic.<name>] family` only fills in for a model whose name says no family (a local
    `my-finetune`); it cannot relabel `claude-*` as openai to pass the second-family rule.
    """
    named = family_of(model)
    if named not in ("other", "unknown"):
        return named
    return configured or named


def family_note(model: str | None, configured: str | None) -> str | None:
    """What the critique says about where its family came from, when config had a say."""
    if not model or not configured:
        return None
    named = family_of(model)
    if named in ("other", "unknown"):
        return (
            f"critic family {configured} is the config's word ([critic] family): the model name "
            f"{model} names no family"
        )
    if named != configured:
        return f"config family {configured} ignored: the model {model} is {named}"
    return None


#: What a model critic sends as its key where the environment's key must not go.
WITHHELD = "reviewq-withheld-key"


def endpoint(
    configured: str | None, from_env: str | None, api_host: str
) -> tuple[str | None, bool]:
    """(the base URL to use, whether the environment's API key may go there).

    The environment beats the repository's config. A base URL from the config is the
    repository's word, and whoever can push can change it: the key goes there only when it is
    the vendor's own API host or this machine (a local model server). Anywhere else the request
    goes out without the key (a keyless server still answers); exporting the URL in the
    environment is the user saying it may have the key.
    """
    from_env = (from_env or "").strip() or None
    if from_env:
        return from_env, True
    if not configured:
        return None, True

    try:
        host = (urlsplit(configured).hostname or "").lower()
    except ValueError:
        host = ""
    return configured, host == api_host or is_loopback(host)


def withheld_hint(key_env: str, url_env: str, base_url: str | None) -> str:
    """How a refused request names the key it did not send (in the 401/403 line)."""
    return (
        f"{key_env} (not sent to {base_url}: that base_url comes from the repository's config; "
        f"export {url_env}={base_url} to send the key there)"
    )


def make_critic(
    ctx: Context,
    name: str,
    *,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
    transport: Any = None,
    sleep: Callable[[float], None] | None = None,
) -> Critic:
    """A critic by name, configured from `[critic]` and the environment (keys only from there).

    A missing key is reported when the critic runs, after the family guard: a refusal is the
    more useful thing to hear first.

    Model: `--model`, else REVIEWQ_<CRITIC>_MODEL, else the config, else the built-in default.
    `transport` (an httpx2 transport) and `sleep` are for tests at the network edge.
    """
    env = os.environ if env is None else env
    settings = ctx.config.critic
    if name == "static":
        if model:
            raise CriticError("the static critic has no model; drop --model or pick a model critic")
        # start-up: the critics (the redactor brings pathspec) load only when one is made
        from reviewq.critics.static import StaticCritic

        return StaticCritic()
    extra: dict[str, Any] = {"transport": transport, "settings": settings}
    if sleep is not None:
        extra["sleep"] = sleep
    ms = settings.model_settings(name)
    if name == "anthropic":
        from reviewq.critics import anthropic as mod

        key_env = ms.api_key_env or mod.KEY_ENV
        key = env.get(key_env, "").strip() or None
        if not key:
            extra["missing_key"] = (
                f"the anthropic critic needs an API key: export {key_env} (reviewq reads keys "
                "only from the environment), or use --critic static (offline)"
            )
        base_url, trusted = endpoint(ms.base_url, env.get("ANTHROPIC_BASE_URL"), mod.API_HOST)
        if key and not trusted:
            # Never None: the SDK would then read the key from the environment itself.
            key, key_env = WITHHELD, withheld_hint(key_env, "ANTHROPIC_BASE_URL", base_url)
        chosen = model or env.get("REVIEWQ_ANTHROPIC_MODEL") or ms.model or mod.DEFAULT_MODEL
        family = critic_family(chosen, ms.family)
        return mod.AnthropicCritic(
            model=chosen,
            family=family if family not in ("other", "unknown") else "anthropic",
            api_key=key,
            base_url=base_url,
            key_env=key_env,
            **extra,
        )
    if name == "openai":
        from reviewq.critics import openai_compat as mod

        base_url, trusted = endpoint(ms.base_url, env.get("OPENAI_BASE_URL"), mod.OPENAI_HOST)
        key_env = ms.api_key_env or mod.KEY_ENV
        key = env.get(key_env, "").strip() or None
        if key and not trusted:
            key, key_env = None, withheld_hint(key_env, "OPENAI_BASE_URL", base_url)
        official = mod.is_openai_endpoint(base_url)
        if official and not key:
            extra["missing_key"] = (
                f"the openai critic needs an API key for api.openai.com: export {key_env}, or "
                "point critic.openai.base_url at a local server (vLLM, llama.cpp, Ollama)"
            )
        chosen = model or env.get("REVIEWQ_OPENAI_MODEL") or ms.model
        if not chosen:
            if not official:
                raise CriticError(
                    f"name the model served at {base_url} with --model or critic.openai.model"
                )
            chosen = mod.DEFAULT_MODEL
        family = critic_family(chosen, ms.family)
        if official and family in ("other", "unknown"):
            family = "openai"
        return mod.OpenAICompatCritic(
            model=chosen,
            family=family,
            api_key=key,
            base_url=base_url,
            key_env=key_env,
            response_format=ms.response_format,
            **extra,
        )
    raise CriticError(f"unknown critic {name!r}; choose static, anthropic or openai")


# -- the cache ---------------------------------------------------------------------------------


def _rows(ctx: Context, subject: CritiqueInput) -> list[dict[str, Any]]:
    rows = []
    for _, value in ctx.cache.items(TABLE):
        if (
            isinstance(value, dict)
            and value.get("input") == subject.input_key
            and value.get("change_id") == subject.change_id
        ):
            rows.append(value)
    return rows


def _load(row: dict[str, Any] | None) -> Critique | None:
    if not row or not isinstance(row.get("critique"), dict):
        return None
    try:
        return Critique.from_json(row["critique"])
    except (TypeError, ValueError):
        return None


def cached_critique(
    ctx: Context,
    change: Change,
    *,
    critic: str | None = None,
    model: str | None = None,
    subject: CritiqueInput | None = None,
) -> Critique | None:
    """The cached critique of this change as it is now (no critic runs), or None.

    Without `critic`: the configured default critic's if cached, else the most recent of any.
    """
    subject = subject or critique_input(ctx, change)
    rows = _rows(ctx, subject)
    if critic is not None:
        rows = [r for r in rows if r.get("critic") == critic]
        if model is not None:
            rows = [r for r in rows if r.get("model") == model]
    if not rows:
        return None
    default = ctx.config.critic.default
    rows.sort(key=lambda r: (r.get("critic") == default, r.get("created_at") or ""), reverse=True)
    return _load(rows[0])


def critique_change(
    ctx: Context,
    change: Change,
    *,
    critic: str | None = None,
    model: str | None = None,
    refresh: bool = False,
    allow_same_family: bool = False,
    env: Mapping[str, str] | None = None,
    transport: Any = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], datetime] = local_now,
) -> tuple[Critique, bool]:
    """(critique, came from the cache). See `get_critique`."""
    subject = critique_input(ctx, change)
    if critic is None and not refresh:
        cached = cached_critique(ctx, change, subject=subject)
        if cached is not None:
            return cached, True
    name = critic or ctx.config.critic.default
    chosen = make_critic(ctx, name, model=model, env=env, transport=transport, sleep=sleep)
    decision = guard(chosen, subject, allow_same_family=allow_same_family)
    key = critique_key(chosen, subject)
    if not refresh:
        cached = _load(ctx.cache.get(TABLE, key))
        if cached is not None:
            return cached, True
    critique = stamp(_review(chosen, subject), chosen, subject, decision)
    if chosen.name in ("anthropic", "openai"):
        note = family_note(chosen.model, ctx.config.critic.model_settings(chosen.name).family)
        if note:
            critique.notes.insert(0, note)
    if change.authorship.agent == "none":
        critique.notes.insert(0, "no AI markers found: the author's family is unknown")
    critique.created_at = clock().isoformat(timespec="seconds")
    ctx.cache.put(
        TABLE,
        key,
        {
            "change_id": subject.change_id,
            "input": subject.input_key,
            "critic": chosen.name,
            "model": chosen.model,
            "created_at": critique.created_at,
            "critique": critique.to_json(),
        },
    )
    ctx.cache.flush()
    return critique, False


def get_critique(
    ctx: Context,
    change: Change,
    *,
    critic: str | None = None,
    model: str | None = None,
    refresh: bool = False,
    allow_same_family: bool = False,
    **kwargs: Any,
) -> Critique:
    """The critique of `change`: cached when it exists, else run (and cached).

    Without `critic`, any cached critique is shown at once and the configured default critic
    (`static` unless `[critic] default` says otherwise) runs only when none exists. With
    `critic`, the family guard applies first: a critic of the author's family raises
    CriticError unless `allow_same_family`, which the critique records. `refresh` re-runs.
    """
    return critique_change(
        ctx,
        change,
        critic=critic,
        model=model,
        refresh=refresh,
        allow_same_family=allow_same_family,
        **kwargs,
    )[0]


def rationale_for(
    ctx: Context, change: Change, *, subject: CritiqueInput | None = None
) -> Rationale:
    """The design-rationale pane: the offline structural summary at once, plus the rationale of
    the latest cached model critique when one exists (no model runs here)."""
    subject = subject or critique_input(ctx, change)
    rationale = offload(input_size(subject), rationale_job, subject)
    models = [r for r in _rows(ctx, subject) if r.get("critic") != "static"]
    models.sort(key=lambda r: r.get("created_at") or "", reverse=True)
    latest = _load(models[0]) if models else None
    if latest is not None and latest.rationale:
        rationale.model_rationale = latest.rationale
        rationale.model_critic = f"{latest.critic} {latest.model or ''}".strip()
    return rationale


# -- the same work in a worker process ---------------------------------------------------------
# The TUI runs these through `reviewq.core.pace.offload` (a worker process of its own, so the
# reviewer's keys do not wait on a large change's parsing); elsewhere they run here. Results are
# the same either way (`tests/tui/test_worker_process.py` compares them on real diffs).


def input_size(subject: CritiqueInput) -> int:
    """About how many characters a critic reads of `subject` (rows are not built to count)."""
    rows = sum(line_count(h) for fd in subject.diff.files for h in fd.hunks)
    texts = sum(map(len, subject.old_texts.values())) + sum(map(len, subject.new_texts.values()))
    return rows * 40 + texts


def rationale_job(subject: CritiqueInput) -> Rationale:
    """The offline structural rationale of `subject` (a module-level job for `offload`)."""
    return subject_rationale(subject)


def static_review_job(ruff_binary: str | None, subject: CritiqueInput) -> Critique:
    """The static critic's review of `subject`, with the ruff binary the caller's critic found
    (the critic's cache key names whether there was one)."""
    from reviewq.critics.static import StaticCritic

    return StaticCritic(ruff_binary=lambda: ruff_binary).review(subject)


def _review(chosen: Critic, subject: CritiqueInput) -> Critique:
    """`chosen.review(subject)`; the static critic's (as made by `make_critic`) through
    `offload`, the model critics' here (they wait on the network, not the interpreter)."""
    if chosen.name != "static":
        return chosen.review(subject)
    from reviewq.critics.ruff import run_ruff
    from reviewq.critics.static import StaticCritic

    if type(chosen) is StaticCritic and chosen._ruff is run_ruff:
        return offload(input_size(subject), static_review_job, chosen._binary, subject)
    return chosen.review(subject)
