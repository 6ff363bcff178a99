"""Who is who, for separation of duties: one person under two spellings of a mailbox, the
people who prompted a change, and machines (agents, bots, `[[agents]]`) that cannot approve.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence

from reviewq.core.agent_identities import classify_identity, is_non_ai_bot
from reviewq.core.detect import RepoRule
from reviewq.core.model import Change, Identity
from reviewq.core.policy_rules import ALLOWED_SIGNERS

_NOREPLY = re.compile(r"^\d+\+([^@]+@users\.noreply\.github\.com)$")


def canonical_email(email: str) -> str:
    """The form two spellings of one mailbox share: lower case, no `+tag`, no GitHub user id.

    Used to exclude and to count people, never to admit them: `sam+review@x` is Sam.
    """
    text = email.strip().lower()
    m = _NOREPLY.match(text)
    if m:
        return m.group(1)
    local, at, domain = text.partition("@")
    if at and "+" in local and not domain.endswith("users.noreply.github.com"):
        local = local.split("+", 1)[0]
    return f"{local}{at}{domain}"


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def same_person(a: Identity, b: Identity) -> bool:
    """Same mailbox, or the same full name (cautious: a shared name refuses, never admits)."""
    if a.email.strip() and b.email.strip() and canonical_email(a.email) == canonical_email(b.email):
        return True
    na, nb = name_key(a.name), name_key(b.name)
    return bool(na) and na == nb


def matches_email(patterns: Iterable[str], email: str) -> bool:
    """`email` (exactly as recorded, lower-cased) matches one of the email globs."""
    target = email.strip().lower()
    return bool(target) and any(
        p != ALLOWED_SIGNERS and fnmatch.fnmatchcase(target, p) for p in patterns
    )


def is_machine(identity: Identity, agent_rules: Sequence[RepoRule] = ()) -> bool:
    """An AI agent, a bot, or an in-house agent of `[[agents]]`: not a person who can approve."""
    if classify_identity(identity.name, identity.email) is not None:
        return True
    if is_non_ai_bot(identity) or identity.name.strip().lower().endswith("[bot]"):
        return True
    for rule in agent_rules:
        if rule.email is None and rule.name is None:
            continue
        if rule.email and not fnmatch.fnmatchcase(identity.email.lower(), rule.email.lower()):
            continue
        if rule.name and not fnmatch.fnmatchcase(identity.name.lower(), rule.name.lower()):
            continue
        return True
    return False


def prompters_of(change: Change) -> tuple[Identity, ...]:
    """Everyone who asked for the change: the detector's list plus the prompt's own record."""
    people = list(change.authorship.prompted_by)
    noted = change.prompt.prompted_by if change.prompt is not None else None
    if noted is not None and noted not in people:
        people.append(noted)
    return tuple(people)
