"""`reviewq critique REV`: show the cached critique at once, or run a critic.

A critic of the author's own model family is refused (exit 2) unless `--allow-same-family`,
which the critique records. A failing critic (bad key, timeouts after retries, an unusable
answer) is one line on stderr and exit 2; nothing is cached then.
"""

from __future__ import annotations

import argparse

from reviewq.core.model import Authorship, Change

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev", metavar="REV", help="a revision, or inbox:<id> / a patch file name")
    p.add_argument(
        "--critic",
        choices=("static", "anthropic", "openai"),
        help="which critic (default: a cached critique, else [critic] default, else static)",
    )
    p.add_argument("--model", metavar="M", help="the model critic's model")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--refresh", action="store_true", help="run the critic even if cached")
    p.add_argument(
        "--allow-same-family",
        action="store_true",
        help="let a critic of the author's own family run (recorded in the critique)",
    )


def _change(ctx, rev: str):
    from reviewq.workflow.lookup import lookup

    found = lookup(ctx, rev)
    if found.change is not None:
        # A prompt from this machine's agent session, where git holds none: a model critic
        # receives it only through the redactor (critics/llm.py prepare_outgoing).
        from reviewq.workflow.session_prompts import with_session_prompts

        return with_session_prompts(ctx, [found.change])[0]
    # A commit without AI markers can still be critiqued; its author's family is unknown.
    return Change(
        id=found.commit.sha,
        commit=found.commit,
        authorship=Authorship("none", None, "unknown", "primary", "low", ()),
        prompt=found.prompts[0] if found.prompts else None,
    )


def render(critique, *, cached: bool, rationale=None) -> str:
    """The text view: header, summary, findings (verified first), notes, rationale."""
    from reviewq.core.text import one_line, visible

    c = critique
    ident = c.sha or c.change_id
    who = f"{c.critic} ({c.family}{', ' + c.model if c.model else ''})"
    out = [f"critique of {ident[:12]} by {who}; author family {c.author_family}"]
    if c.family_check:
        out.append(f"family     {one_line(c.family_check)}")
    when = f" from {c.created_at}" if c.created_at else ""
    if cached:
        out.append(f"cached{when}; `--refresh` runs the critic again")
    out.append(f"summary    {one_line(c.summary)}")
    out.append(f"security   {one_line(c.security_concerns)}")
    out.append(f"tests      {'present' if c.tests_present else 'none added or changed'}")
    out.append(f"effort     {c.effort}/5")

    def finding_lines(f) -> list[str]:
        where = f.file or "(whole change)"
        if f.start_line is not None:
            span = (
                f"{f.start_line}"
                if f.end_line in (None, f.start_line)
                else (f"{f.start_line}-{f.end_line}")
            )
            where += f":{span}"
        rows = [f"  {f.severity:<8} {one_line(where)}  [{f.rule}] {one_line(f.body)}"]
        if f.quote:
            rows.append(f"           > {one_line(f.quote, 160)}")
        if not f.verified:
            rows.append(f"           unverified: {one_line(f.verification or 'not checked')}")
        return rows

    verified = [f for f in c.findings if f.verified]
    unverified = [f for f in c.findings if not f.verified]
    out.append(
        f"findings   {len(verified)}" + (f" (+{len(unverified)} unverified)" if unverified else "")
    )
    for f in verified:
        out.extend(finding_lines(f))
    if unverified:
        out.append("unverified (not found in this diff: not shown as fact)")
        for f in unverified:
            out.extend(finding_lines(f))
    for note in c.notes:
        out.append(f"note       {one_line(note)}")
    if c.skipped_files:
        out.append(f"not read   {one_line(', '.join(c.skipped_files))}")
    text = rationale.to_text() if rationale is not None else c.rationale
    if text:
        out.append("rationale")
        out.extend("  " + line for line in visible(text).splitlines())
    return "\n".join(out)


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.clock import local_now
    from reviewq.output import emit_json
    from reviewq.workflow.critiquing import critique_input, rationale_for
    from reviewq.workflow.units import find_unit

    named = find_unit(ctx, args.rev, local_now())
    if named is not None:
        return _critique_unit(args, ctx, *named)
    change = _change(ctx, args.rev)
    critique, cached = _critique(args, ctx, change)
    if args.json:
        emit_json(_record(critique, cached))
        return 0
    rationale = None
    if critique.critic != "static":
        rationale = rationale_for(ctx, change, subject=critique_input(ctx, change))
    print(render(critique, cached=cached, rationale=rationale))
    return 0


def _critique_unit(args: argparse.Namespace, ctx, unit, queue) -> int:
    """Each AI commit of the unit, critiqued in order (`--json`: one line each, naming the
    unit), so a verdict on the unit records, per commit, the critique that was open before it."""
    from reviewq.output import emit_json
    from reviewq.workflow.session_prompts import with_session_prompts

    changes = with_session_prompts(ctx, [queue.changes[sha] for sha in unit.ai])
    texts = []
    for change in changes:
        critique, cached = _critique(args, ctx, change)
        if args.json:
            emit_json(_record(critique, cached, unit=unit.to_json()))
        else:
            texts.append(render(critique, cached=cached))
    if not args.json:
        print(f"{unit.kind} {unit.name}: {len(changes)} AI commit(s) critiqued\n")
        print("\n\n".join(texts))
    return 0


def _critique(args: argparse.Namespace, ctx, change):
    """(critique, cached) of one change with the command's critic options."""
    from reviewq.workflow.critiquing import critique_change

    return critique_change(
        ctx,
        change,
        critic=args.critic,
        model=args.model,
        refresh=args.refresh,
        allow_same_family=args.allow_same_family,
    )


def _record(critique, cached: bool, **extra) -> dict:
    """`critique --json`'s line: the critique, whether it came from the cache, and `extra`."""
    return {**critique.to_json(), "cached": cached, **extra}
