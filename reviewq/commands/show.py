"""`reviewq show REV`: everything reviewq knows about one change."""

from __future__ import annotations

import argparse
from dataclasses import replace

from reviewq.core.risk import assess

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev", metavar="REV", help="a revision, or inbox:<id> / a patch file name")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument(
        "--patch",
        action="store_true",
        help="for a unit (branch, pull request, series): print its combined diff too",
    )


def gather(ctx, rev: str) -> dict:
    """The `show --json` object; the text view prints the same facts."""
    from reviewq.sources.diffs import read_commit_diff
    from reviewq.workflow.lookup import diff_of, lookup

    found = lookup(ctx, rev)
    change = found.change
    if change is not None and change.source == "git":
        change = _placed(ctx, change)
    link = None
    if change is not None and change.source == "git":
        change, link = _with_session(ctx, change, found.prompts)
        if change.prompt is None and change.location_kind == "pull-request":
            from reviewq.workflow.session_prompts import forge_tasks, with_forge_task

            change = with_forge_task(change, forge_tasks(ctx).get(change.location or ""))
            if change.prompt is not None:
                found.prompts.append(change.prompt)
    if change is not None:
        diff = diff_of(ctx, change)
    else:
        diff = read_commit_diff(ctx.git, found.commit.sha)
    record: dict = (
        change.to_json()
        if change is not None
        else {
            "sha": found.commit.sha,
            "subject": found.commit.subject,
            "author": found.commit.author.to_json(),
            "committer": found.commit.committer.to_json(),
            "committed_at": found.commit.committed_at,
            "agent": None,
        }
    )
    record["ai_authored"] = change is not None
    record["message"] = found.commit.message
    record["parents"] = list(found.commit.parents)
    record["prompts"] = [{"text": p.text, "source": p.source} for p in found.prompts]
    # What came from this machine's agent session store (not from git): the reader of the JSON
    # (and anything it forwards) can tell local transcript text from what the repository holds.
    local = []
    if link is not None:
        record["session_link"] = {**link.to_json(), "ran": link.summary()}
        local.append("session_link")
        if change is not None and change.prompt is not None and change.prompt.source == "session":
            local.append("prompt")
        if any(p.source == "session" for p in found.prompts):
            local.append("prompts")
    record["from_local_session"] = local
    from reviewq.core.forge_prompt import session_link_in_message

    carried = session_link_in_message(found.commit.message)
    record["agent_session_url"] = (
        {"agent": carried.agent, "url": carried.link} if carried is not None else None
    )
    stats = diff.stats
    record["diff"] = {
        "files": stats.files,
        "additions": stats.additions,
        "deletions": stats.deletions,
        "binary_files": stats.binary_files,
        "hunks": diff.hunk_count,
        "against": "first parent" if len(found.commit.parents) > 1 else None,
        "file_list": [
            {
                "path": f.path,
                "old_path": f.old_path,
                "status": f.status,
                "additions": f.additions,
                "deletions": f.deletions,
                "binary": f.is_binary,
                "old_mode": f.old_mode,
                "new_mode": f.new_mode,
                "encoding": f.encoding,
                "truncated": f.truncated,
                "hunks": len(f.hunks),
            }
            for f in diff.files
        ],
    }
    # Files whose objects are missing (a partial clone): listed, never as 0 lines or binary.
    sized = change.files if change is not None else _files_of(ctx, found.commit.sha)
    shown = {f.path for f in diff.files}
    unknown = [f for f in sized if f.size_unknown and f.path not in shown]
    record["diff"]["sizes"] = (
        change.stats.sizes
        if change is not None and change.stats is not None
        else ("known" if not unknown else "partial" if diff.files else "unknown")
    )
    for f in unknown:
        record["diff"]["files"] += 1
        record["diff"]["file_list"].append(
            {
                "path": f.path,
                "old_path": f.old_path,
                "status": f.status,
                "additions": None,
                "deletions": None,
                "binary": None,
                "size_unknown": True,
                "hunks": None,
            }
        )
    if change is not None:
        from reviewq.workflow.critiquing import cached_critique, critique_input, rationale_for

        record["risk"] = assess(change).to_json()
        # What the critics said, without running one: `reviewq critique REV` runs them.
        subject = critique_input(ctx, change, diff)
        cached = cached_critique(ctx, change, subject=subject)
        record["critique"] = cached.to_json() if cached is not None else None
        record["rationale"] = rationale_for(ctx, change, subject=subject).to_json()
        if link is not None and link.claims:
            # Input to the rationale, marked for what it is: the agent's account of its work.
            record["rationale"]["agent_claims"] = {
                "claims": list(link.claims),
                "source": "session",
                "verified": False,
            }
    from reviewq.workflow.recording import verdicts_for

    record["verdicts"] = verdicts_for(ctx, change, found.commit.sha)
    return record


def _with_session(ctx, change, prompts: list):
    """The change with its session's prompt when git holds none, and the session link; the
    session's prompt joins the candidates either way (last: git's own come first)."""
    from reviewq.workflow.session_prompts import session_links, session_prompt, with_link

    link = session_links(ctx, [change]).get(change.commit.sha)
    if link is None:
        return change, None
    prompt = session_prompt(link)
    if prompt is not None:
        prompts.append(prompt)
    return with_link(change, link), link


def _files_of(ctx, sha: str):
    from reviewq.sources.git_log import commit_stats

    found = commit_stats(ctx.git, [sha]).get(sha)
    return found[1] if found else ()


def _placed(ctx, change):
    """The change with where it lives (branch, pull request, main; merged or not), as the
    queue's scope scan sees it; unchanged when it is outside the scope (an old main commit)."""
    from reviewq.clock import local_now
    from reviewq.workflow.scan import scan_scope

    seen = next((c for c in scan_scope(ctx, now=local_now()).changes if c.id == change.id), None)
    if seen is None:
        return change
    return replace(
        change,
        location=seen.location,
        location_kind=seen.location_kind,
        merged=seen.merged,
        refs=seen.refs,
        merged_from=seen.merged_from,
    )


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.clock import local_now
    from reviewq.core.text import one_line, visible
    from reviewq.output import emit_json
    from reviewq.workflow.units import find_unit

    named = find_unit(ctx, args.rev, local_now())
    if named is not None:
        unit, queue = named
        # The tip as before (where it lives, prompt, critique, verdicts), then the unit.
        record = gather(ctx, args.rev if unit.kind == "inbox" else unit.tip)
        record.update(_unit_fields(ctx, unit, queue))
    else:
        record = gather(ctx, args.rev)
    if args.json:
        emit_json(record)
        return 0
    out = _unit_lines(args, record) if named is not None else []
    ident = record.get("sha") or record.get("id")
    out.append(f"{ident}  {one_line(record['subject'])}")
    author = record["author"]
    out.append(f"author     {one_line(author['name'])} <{one_line(author['email'])}>")
    out.append(f"committed  {record['committed_at']}")
    if not record["ai_authored"]:
        out.append("authorship no AI markers found: not in the review queue")
    else:
        model = record["model"] or "(not named)"
        out.append(
            f"authorship {record['agent']}  model {model}  family {record['family']}  "
            f"role {record['role']}  confidence {record['confidence']}"
        )
        for ev in record["evidence"]:
            out.append(f"  evidence  [{ev['source']}] {one_line(ev['marker'])}")
        if record.get("prompted_by"):
            people = ", ".join(f"{p['name']} <{p['email']}>" for p in record["prompted_by"])
            out.append(f"prompted by {one_line(people)}")
        if record.get("location"):
            state = {True: ", merged", False: ", not merged"}.get(record.get("merged"), "")
            kind = record.get("location_kind") or "location"
            out.append(f"where      {one_line(record['location'])} ({kind}{state})")
        risk = record["risk"]
        out.append(f"risk       {risk['level']} ({risk['score']})")
        for reason in risk["reasons"]:
            out.append(f"  - {one_line(reason)}")
    d = record["diff"]
    against = f" against the {d['against']}" if d["against"] else ""
    unknown = sum(1 for f in d["file_list"] if f.get("size_unknown"))
    if d["sizes"] == "unknown":
        counts = "size unknown"
    elif unknown:
        counts = f"+{d['additions']}/-{d['deletions']} counted, size unknown for {unknown}"
    else:
        counts = f"+{d['additions']}/-{d['deletions']}"
    out.append(f"diff       {d['files']} file(s), {counts}, {d['hunks']} hunk(s){against}")
    if unknown:
        out.append("  (objects missing from this clone; fetch them to see these files)")
    for f in d["file_list"]:
        if f.get("size_unknown"):
            out.append(f"  {f['status']:<9} {one_line(f['path'])}  size unknown")
            continue
        notes = []
        if f["old_path"]:
            notes.append(f"from {f['old_path']}")
        if f["binary"]:
            notes.append("binary")
        if f["old_mode"] and f["new_mode"] and f["old_mode"] != f["new_mode"]:
            notes.append(f"mode {f['old_mode']} -> {f['new_mode']}")
        if f["encoding"] != "utf-8":
            notes.append(f"not UTF-8 (shown as {f['encoding']})")
        if f["truncated"]:
            notes.append("too large to show")
        extra = f"  ({', '.join(notes)})" if notes else ""
        out.append(
            f"  {f['status']:<9} {one_line(f['path'])}  +{f['additions']}/-{f['deletions']}{extra}"
        )
    if record["ai_authored"]:
        critique = record.get("critique")
        if critique:
            who = critique["critic"] + (f" {critique['model']}" if critique["model"] else "")
            verified = sum(1 for f in critique["findings"] if f["verified"])
            out.append(
                f"critique   {who}: {verified} finding(s); {one_line(critique['summary'], 100)}"
            )
        else:
            out.append("critique   none yet; run `reviewq critique REV`")
    link = record.get("session_link")
    if record["prompts"]:
        first = record["prompts"][0]
        how = ""
        if first["source"] == "session" and link:
            how = f", {link['link']} link to {link['agent']} session {link['id']}"
        out.append(f"prompt ({first['source']}{how}):")
        out.extend("  " + line for line in visible(first["text"]).splitlines())
    elif record["ai_authored"]:
        out.append("prompt     none recorded; attach one with `reviewq prompt REV --set FILE`")
    if record.get("agent_session_url") and not link:
        carried = record["agent_session_url"]
        out.append(f"session    {carried['agent']}: {one_line(carried['url'])} (from the commit)")
    if link:
        model = f", model {link['model']}" if link.get("model") else ""
        out.append(
            f"session    {link['agent']} {link['id']} ({link['link']} link{model}; "
            "read from this machine's session store)"
        )
        for line in link["ran"]:
            out.append(f"  - {one_line(line, 200)}")
        if link["claims"]:
            out.append("  the agent's own explanations (its claims, not verified):")
            for claim in link["claims"]:
                out.append(f"    > {one_line(claim, 200)}")
    for v in record["verdicts"]:
        who = (v.get("reviewer") or {}).get("email", "")
        how = "" if v.get("sha") == record.get("sha") else "  (same patch, other commit)"
        note = f": {one_line(v['note'])}" if v.get("note") else ""
        out.append(
            f"verdict    {v.get('verdict')} by {one_line(who)} at {v.get('at')}, "
            f"{float(v.get('active_seconds') or 0):.0f}s active{how}{note}"
        )
    print("\n".join(out))
    return 0


def _unit_fields(ctx, unit, queue) -> dict:
    """The unit's fields of `show --json`: `unit`, `commits` (shas, oldest first),
    `unit_commits` (each with agent and prompt, or marked human), `unit_diff` (merge base ->
    tip), `combined_diff`, `new_since_verdict`, `reviewed_tip` and `since` (the interdiff, or
    the range-diff after a force-push). `diff` stays the tip commit's own."""
    from reviewq.workflow.units import unit_details

    details = unit_details(ctx, unit, queue)
    return {
        "unit": details["unit"],
        "unit_name": details["name"],
        "tip": details["sha"],
        "base": details["base"],
        "commits": [c["sha"] for c in details["commits"]],
        "unit_commits": details["commits"],
        "human_commits": details["human_commits"],
        "new_since_verdict": details["new_since_verdict"],
        "reviewed_tip": details["reviewed_tip"],
        "unit_diff": details["diff"],
        "combined_diff": details["combined_diff"],
        "since": details["since"],
    }


def _unit_lines(args: argparse.Namespace, record: dict) -> list[str]:
    """The unit's part of the text view: commits, combined size, what is new since your verdict."""
    from reviewq.core.text import one_line, visible

    unit = record["unit"]
    out = [f"{unit['kind']} {one_line(record['unit_name'])}  tip {record['tip'][:12]}"]
    base = record["base"]
    d = record["unit_diff"]
    if unit["kind"] not in ("inbox", "commit"):
        out.append(
            f"unit diff  {d['files']} file(s), +{d['additions']}/-{d['deletions']}, "
            f"{d['hunks']} hunk(s) from the merge base {base[:12] if base else '(root)'}"
        )
    human = len(record["human_commits"])
    out.append(f"commits    {len(record['commits'])}, oldest first ({human} human):")
    for c in record["unit_commits"]:
        new = "  NEW" if c["new_since_verdict"] else ""
        who = c["agent"] if c["mark"] == "ai" else f"human ({one_line(c.get('author') or '')})"
        out.append(f"  {c['sha'][:12]} {who:<14} {one_line(c['subject'])}{new}")
        if c["prompt"]:
            out.append(f"      prompt: {one_line(c['prompt'], 100)}")
    since = record["since"]
    reviewed = (record["reviewed_tip"] or "")[:12]
    if record["new_since_verdict"]:
        count = len(record["new_since_verdict"])
        out.append(f"{count} new since your verdict (you reviewed up to {reviewed})")
        if since["note"]:
            out.append(f"  {one_line(since['note'])}")
        if since["kind"] == "interdiff":
            out.append(f"interdiff {reviewed}..{record['tip'][:12]}:")
        elif since["kind"] == "range-diff":
            out.append("range-diff (force-pushed; unchanged commits marked '='):")
        if since["text"]:
            out.extend("  " + line for line in visible(since["text"]).splitlines())
    elif reviewed:
        out.append("nothing new since your verdict")
    if args.patch and record["combined_diff"]:
        out.append(visible(record["combined_diff"]))
    out.append("")
    out.append("tip commit:")
    return out
