"""`reviewq prompt REV [--set FILE|-] [--attach]`: read or attach the originating prompt.

The prompt note (`refs/notes/reviewq-prompt`) travels with the repository. `--attach` writes the
prompt of the agent session on this machine that made REV (exact or strong link only), redacted
by the critics' redactor, with the session's id, agent and model: never the whole transcript,
and only when asked (here, or by the opt-in post-commit hook `reviewq hooks install --prompts`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev", metavar="REV")
    p.add_argument(
        "--set", metavar="FILE", dest="set_from", help="attach the prompt in FILE (- for stdin)"
    )
    p.add_argument("--agent", help="with --set: the agent that ran the prompt")
    p.add_argument("--model", help="with --set: the model that ran it")
    p.add_argument(
        "--attach",
        action="store_true",
        help="attach the prompt of the agent session on this machine that made REV (redacted)",
    )
    p.add_argument(
        "--if-found",
        action="store_true",
        help="with --attach: say nothing and exit 0 when no session shows REV (for hooks)",
    )
    p.add_argument(
        "--session",
        metavar="AGENT:ID",
        help="with --attach: the session REV was made in (claude-code:ID, codex:ID), as the "
        "agent's environment says (the post-commit hook passes it)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object: the prompt and its source")


def _read_source(source: str) -> str:

    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ReviewqError(
                f"{source}: cannot read ({exc.strerror or exc}); check the path"
            ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReviewqError(f"{source}: the prompt is not UTF-8 text") from None
    if not text.strip():
        raise ReviewqError(f"{source}: the prompt is empty; nothing attached")
    return text


def _note_payload(ctx, text: str) -> dict:
    """A prompt note's common fields; `prompted_by` is whom git names (as for verdicts), or
    None when no identity is set (a prompt needs no reviewer)."""

    from reviewq.clock import local_now
    from reviewq.workflow.recording import reviewer_identity

    try:
        who = reviewer_identity(ctx)
        prompted_by = {"name": who.name, "email": who.email}
    except ReviewqError:
        prompted_by = None
    return {
        "v": 1,
        "prompt": text.strip(),
        "prompted_by": prompted_by,
        "at": local_now().isoformat(timespec="seconds"),
    }


def run(args: argparse.Namespace, ctx) -> int:

    from reviewq.core.text import visible
    from reviewq.output import emit_json
    from reviewq.sources.notes import write_prompt_note
    from reviewq.workflow.lookup import is_inbox_ref, lookup

    if args.attach:
        if args.set_from is not None:
            raise ReviewqError("give --set FILE or --attach, not both")
        if is_inbox_ref(args.rev):
            raise ReviewqError("inbox patches carry their prompt in a sidecar file; edit that")
        return _attach(ctx, args)
    if args.set_from is not None:
        if is_inbox_ref(args.rev):
            raise ReviewqError("inbox patches carry their prompt in a sidecar file; edit that")
        text = _read_source(args.set_from)
        sha = ctx.git.resolve(args.rev)
        payload = _note_payload(ctx, text)
        if args.agent:
            payload["agent"] = args.agent
        if args.model:
            payload["model"] = args.model
        write_prompt_note(ctx.git, sha, payload)
        print(f"prompt attached to {sha[:12]} (refs/notes/reviewq-prompt)", file=sys.stderr)
        return 0
    found = lookup(ctx, args.rev)
    link = None
    if found.change is not None and found.change.source == "git":
        from reviewq.workflow.session_prompts import session_links, session_prompt

        link = session_links(ctx, [found.change]).get(found.commit.sha)
        prompt = session_prompt(link) if link is not None else None
        if prompt is not None:
            found.prompts.append(prompt)
    if args.json:
        first = found.prompts[0] if found.prompts else None
        emit_json(
            {
                "sha": found.commit.sha or (found.change.id if found.change else None),
                "prompt": first.text if first else None,
                "prompt_source": first.source if first else None,
                "prompt_link": first.link if first else None,
                "session": first.session.to_json() if first and first.session else None,
                "candidates": [{"text": p.text, "source": p.source} for p in found.prompts],
                "from_local_session": ["prompt"] if first and first.source == "session" else [],
            }
        )
        return 0
    if not found.prompts:
        print(
            f"no prompt recorded for {args.rev}; attach one with "
            f"`reviewq prompt {args.rev} --set FILE`",
            file=sys.stderr,
        )
        return 0
    first = found.prompts[0]
    if first.session is not None:
        where = {"local": "this machine's session store", "note": "a prompt note"}.get(
            first.session.store, first.session.store
        )
        link = f", {first.link} link" if first.link else ""
        print(
            f"(from {first.session.agent} session {first.session.id}{link}; {where})",
            file=sys.stderr,
        )
    print(visible(first.text))
    return 0


def _attach(ctx, args: argparse.Namespace) -> int:
    """Write the linked session's prompt (redacted) into REV's prompt note."""

    from reviewq.critics.redact import Redactor
    from reviewq.sources.notes import write_prompt_note
    from reviewq.workflow.lookup import lookup
    from reviewq.workflow.session_prompts import enabled, session_links

    found = lookup(ctx, args.rev)
    sha = found.commit.sha
    if found.change is None:
        if args.if_found:
            return 0
        raise ReviewqError(f"{args.rev} carries no AI markers; nothing to attach")
    if not enabled(ctx):
        raise ReviewqError("reading agent sessions is switched off (REVIEWQ_SESSIONS=0)")
    pinned = None
    if args.session:
        agent, _, sid = args.session.partition(":")
        if not agent or not sid:
            raise ReviewqError(f"--session {args.session!r}: give AGENT:ID, e.g. claude-code:5b0c…")
        pinned = (agent, sid)
    link = session_links(ctx, [found.change], pinned=pinned).get(sha)
    if link is None or not link.prompt:
        if args.if_found:
            return 0
        raise ReviewqError(
            f"no agent session on this machine shows {args.rev} (exact or strong link); "
            f"attach a prompt yourself with `reviewq prompt {args.rev} --set FILE`"
        )
    existing = next((p for p in found.prompts if p.source == "note"), None)
    if existing is not None and existing.session is None:
        if args.if_found:
            return 0
        raise ReviewqError(
            f"{sha[:12]} already has a prompt a person attached; not replacing it with the "
            f"session's (replace it deliberately with `reviewq prompt {args.rev} --set FILE`)"
        )
    redactor = Redactor()
    text = redactor.text(link.prompt) or ""
    payload = {
        **_note_payload(ctx, text),
        "agent": link.agent,
        "model": link.model,
        "session": {"agent": link.agent, "id": link.session_id, "link": link.kind},
        "redacted": redactor.count,
    }
    write_prompt_note(ctx.git, sha, payload)
    hidden = f", {redactor.count} secret(s) redacted" if redactor.count else ""
    print(
        f"prompt from {link.agent} session {link.session_id} ({link.kind} link{hidden}) "
        f"attached to {sha[:12]} (refs/notes/reviewq-prompt)",
        file=sys.stderr,
    )
    return 0
