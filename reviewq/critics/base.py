"""The critic protocol, the family guard as the shell applies it, cache keys and retries.

A critic turns a `CritiqueInput` into a `Critique`. Whatever its kind (offline rules or a model
behind an API), the same rules hold around it: a critic of the author's own family is refused
unless explicitly allowed (and that is recorded), every finding is verified against the hunks,
and a critique is cached under (diff + prompt, critic, model, prompt version).
"""

from __future__ import annotations

import random
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from reviewq.core.critique import CritiqueInput, FamilyDecision, cache_key, check_family
from reviewq.core.model import Critique
from reviewq.errors import ReviewqError

T = TypeVar("T")


class CriticError(ReviewqError):
    """A critic could not produce a critique (refused, misconfigured, API failure, bad answer)."""


def sdk_missing(critic: str, package: str) -> CriticError:
    """The one line for a model critic whose SDK is not installed where reviewq runs."""
    name = package.split(">", 1)[0]
    return CriticError(
        f"the {critic} critic needs the {name} package; install it where reviewq runs: "
        f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(package)}, or use "
        "--critic static (offline)"
    )


class Critic(Protocol):
    #: static | anthropic | openai
    name: str
    #: The critic's model family (`rules` for the offline critic).
    family: str
    model: str | None
    #: Version of the critic's rules or prompt: part of the cache key.
    prompt_version: str

    def review(self, subject: CritiqueInput) -> Critique: ...


def critique_key(critic: Critic, subject: CritiqueInput) -> str:
    return cache_key(subject.input_key, critic.name, critic.model, critic.prompt_version)


def guard(critic: Critic, subject: CritiqueInput, *, allow_same_family: bool) -> FamilyDecision:
    """The family decision, or CriticError saying how to override a refusal."""
    decision = check_family(
        subject.author_family, critic.family, allow_same_family=allow_same_family
    )
    if not decision.allowed:
        raise CriticError(
            f"refusing the {critic.name} critic ({critic.model or critic.family}): {decision.note}, "
            "so it would share the author's blind spots; pick another critic with --critic "
            "(static is offline) or pass --allow-same-family (recorded in the critique)"
        )
    return decision


def stamp(
    critique: Critique, critic: Critic, subject: CritiqueInput, decision: FamilyDecision
) -> Critique:
    """The fields every critique carries the same way, whoever made it."""
    return replace(
        critique,
        sha=subject.sha,
        change_id=subject.change_id,
        critic=critic.name,
        family=critic.family,
        model=critic.model,
        author_family=subject.author_family,
        same_family_allowed=decision.same_family and decision.allowed,
        family_check=decision.note,
        prompt_version=critic.prompt_version,
    )


# -- retries -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """How a failed call should be treated: retried (429, 5xx, 529, timeouts) or not."""

    retry: bool
    message: str
    #: Seconds the server asked us to wait (Retry-After), if it said.
    retry_after: float | None = None


def call_with_retries(
    call: Callable[[], T],
    *,
    classify: Callable[[BaseException], Failure | None],
    retries: int,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    jitter: Callable[[], float] = random.random,
) -> T:
    """`call()`, retried with exponential backoff while `classify` says the failure is passing.

    `classify` returns None for exceptions it does not know (they propagate unchanged). After
    the last attempt, or on a failure that retrying cannot fix (a bad key), one CriticError line.
    Our own loop rather than the SDK's, so both SDKs behave alike and tests inject `sleep`.
    """
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            if not failure.retry:
                raise CriticError(f"{what}: {failure.message}") from None
            if attempt >= retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise CriticError(f"{what}: {failure.message}{tries}; try again later") from None
            delay = min(max_delay, base_delay * (2**attempt)) * (0.75 + 0.5 * jitter())
            if failure.retry_after is not None:
                delay = min(max(failure.retry_after, 0.0), 60.0)
            sleep(delay)
            attempt += 1
