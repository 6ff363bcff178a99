"""`reviewq prompt REV [--set FILE|-]`: read or attach the originating prompt (git notes)."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev", metavar="REV")
    p.add_argument(
        "--set", metavar="FILE", dest="set_from", help="attach the prompt in FILE (- for stdin)"
    )
    p.add_argument("--agent", help="with --set: the agent that ran the prompt")
    p.add_argument("--model", help="with --set: the model that ran it")
    p.add_argument("--json", action="store_true", help="one JSON object: the prompt and its source")


def _read_source(source: str) -> str:
    from pathlib import Path

    from reviewq.errors import ReviewqError

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


def run(args: argparse.Namespace, ctx) -> int:
    from datetime import datetime

    from reviewq.changes import is_inbox_ref, lookup
    from reviewq.core.text import visible
    from reviewq.errors import ReviewqError
    from reviewq.output import emit_json
    from reviewq.sources.notes import write_prompt_note

    if args.set_from is not None:
        if is_inbox_ref(args.rev):
            raise ReviewqError("inbox patches carry their prompt in a sidecar file; edit that")
        text = _read_source(args.set_from)
        sha = ctx.git.resolve(args.rev)
        name = ctx.git.config_get("user.name") or ""
        email = ctx.git.config_get("user.email") or ""
        payload = {
            "v": 1,
            "prompt": text.strip(),
            "prompted_by": {"name": name, "email": email} if (name or email) else None,
            "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        if args.agent:
            payload["agent"] = args.agent
        if args.model:
            payload["model"] = args.model
        write_prompt_note(ctx.git, sha, payload)
        print(f"prompt attached to {sha[:12]} (refs/notes/reviewq-prompt)", file=sys.stderr)
        return 0
    found = lookup(ctx, args.rev)
    if args.json:
        emit_json(
            {
                "sha": found.commit.sha or (found.change.id if found.change else None),
                "prompt": found.prompts[0].text if found.prompts else None,
                "prompt_source": found.prompts[0].source if found.prompts else None,
                "candidates": [{"text": p.text, "source": p.source} for p in found.prompts],
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
    print(visible(found.prompts[0].text))
    return 0
