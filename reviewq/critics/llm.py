"""What both model critics share: redact, split by budget, ask with retries, verify.

A subclass supplies the SDK: `_client()` (imported inside, never at module top), `_ask()` for
one request, and `_classify()` mapping its exceptions to retry-or-fail. Everything that must be
the same across vendors (what may leave the machine, the boundary and nonce, verification of
each finding against the real hunks) lives here once.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from reviewq.core.config import CriticSettings
from reviewq.core.critique import CritiqueInput, verify_findings
from reviewq.core.model import Critique
from reviewq.core.text import one_line
from reviewq.critics.base import CriticError, Failure, call_with_retries
from reviewq.critics.prompting import (
    PROMPT_VERSION,
    SYSTEM,
    AnswerError,
    ModelAnswer,
    build_user_message,
    merge_answers,
    plan_parts,
    tokens,
    untrusted_markers,
)
from reviewq.critics.redact import Redactor, prepare_outgoing


class ModelCritic:
    name = "model"
    vendor = "model"
    #: Whether the answer is asked for as JSON text (True) or as a forced tool call (False).
    json_reply = False

    def __init__(
        self,
        *,
        model: str,
        family: str,
        settings: CriticSettings,
        api_key: str | None,
        base_url: str | None = None,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        nonce: Callable[[], str] = lambda: secrets.token_hex(12),
        missing_key: str | None = None,
    ) -> None:
        self.model = model
        self.family = family
        self.settings = settings
        self.prompt_version = PROMPT_VERSION
        self._api_key = api_key
        self.base_url = base_url
        self._transport = transport
        self._sleep = sleep
        self._nonce = nonce
        #: Why the critic cannot run (no key); raised before anything is sent.
        self._missing_key = missing_key

    def __repr__(self) -> str:  # never show the key
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    # -- to implement ------------------------------------------------------------------------

    def _client(self) -> Any:
        raise NotImplementedError

    def _ask(self, client: Any, system: str, user: str, nonce: str) -> ModelAnswer:
        raise NotImplementedError

    def _classify(self, exc: BaseException) -> Failure | None:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------

    def _author(self, subject: CritiqueInput) -> str:
        return f"family {subject.author_family}"

    def review(self, subject: CritiqueInput) -> Critique:
        if self._missing_key:
            raise CriticError(self._missing_key)
        settings = self.settings
        out = prepare_outgoing(subject.diff, subject.prompt, subject.message, settings.never_send)
        frame = build_user_message(
            nonce="0" * 24,
            prompt=out.prompt,
            message=out.message,
            part="",
            part_no=1,
            parts=1,
            not_shown=out.held_back,
            author=self._author(subject),
            json_reply=self.json_reply,
        )
        overhead = tokens(SYSTEM) + tokens(frame) + settings.max_output_tokens + 200
        plan = plan_parts(out.diff, settings.budget_tokens - overhead, settings.max_calls)
        not_shown = [f"{p} (never-send list)" for p in out.held_back] + plan.not_shown
        answers: list[ModelAnswer] = []
        if plan.parts:
            client = self._client()
            for i, part in enumerate(plan.parts, 1):
                nonce = self._nonce()
                user = build_user_message(
                    nonce=nonce,
                    prompt=out.prompt,
                    message=out.message,
                    part=part,
                    part_no=i,
                    parts=len(plan.parts),
                    not_shown=not_shown,
                    author=self._author(subject),
                    json_reply=self.json_reply,
                )
                answers.append(
                    call_with_retries(
                        lambda user=user, nonce=nonce: self._ask_checked(
                            client, user, nonce, out.redactor
                        ),
                        classify=self._classify,
                        retries=settings.retries,
                        what=f"{self.vendor} critic ({self.model})",
                        sleep=self._sleep,
                    )
                )
        notes = []
        if out.redactor.count:
            notes.append(f"{out.redactor.count} secret(s) redacted before sending")
        if out.held_back:
            notes.append(f"not sent (never-send list): {', '.join(out.held_back)}")
        if plan.not_shown:
            notes.append(f"not shown to the model (budget): {', '.join(plan.not_shown)}")
        if plan.partly_shown:
            notes.append(f"partly shown (budget): {', '.join(plan.partly_shown)}")
        if len(plan.parts) > 1:
            notes.append(f"diff split into {len(plan.parts)} parts by the token budget")
        if not answers:
            return Critique(
                sha=subject.sha,
                critic=self.name,
                family=self.family,
                model=self.model,
                author_family=subject.author_family,
                same_family_allowed=False,
                summary="Nothing in this change could be sent to the model.",
                security_concerns="No",
                tests_present=False,
                effort=1,
                rationale="",
                skipped_files=not_shown,
                notes=notes,
            )
        merged = merge_answers(answers)
        for f in merged.findings:
            f.quote = out.redactor.restore(f.quote)
            f.file = out.redactor.restore(f.file) if f.file else f.file
        findings = verify_findings(subject.diff, merged.findings, trust_uncited=False)
        unverified = sum(1 for f in findings if not f.verified)
        if unverified:
            notes.append(
                f"{unverified} finding(s) could not be matched to the diff and are shown as "
                "unverified"
            )
        return Critique(
            sha=subject.sha,
            critic=self.name,
            family=self.family,
            model=self.model,
            author_family=subject.author_family,
            same_family_allowed=False,
            summary=merged.summary,
            security_concerns=merged.security_concerns,
            tests_present=merged.tests_present,
            effort=merged.effort,
            rationale=merged.rationale,
            findings=findings,
            skipped_files=not_shown,
            notes=notes,
        )

    def _ask_checked(
        self, client: Any, user: str, nonce: str, redactor: Redactor | None = None
    ) -> ModelAnswer:
        """The one path to `_ask`: the request's untrusted block is redacted here, as sent."""
        redactor = redactor if redactor is not None else Redactor()
        user = redactor.outgoing(user, *untrusted_markers(nonce))
        try:
            try:
                return self._ask(client, SYSTEM, user, nonce)
            except json.JSONDecodeError:
                # The SDK parses a JSON-typed body itself; a cut-off body fails there.
                raise AnswerError(
                    "the API's reply was not a message (cut off or not JSON)"
                ) from None
        except AnswerError as exc:
            raise CriticError(
                f"{self.vendor} critic ({self.model}) gave an unusable answer: {exc}; "
                "nothing was cached, run it again or try another model"
            ) from None


def status_failure(vendor: str, status: int, detail: str, key_env: str, headers: Any) -> Failure:
    """An HTTP error status -> retry (408, 409, 429, 5xx, 529) or a clear fatal line."""
    detail = one_line(detail, 160)
    if status == 401:
        return Failure(
            False,
            f"the API refused the key (401: {detail}); check {key_env}",
        )
    if status == 403:
        return Failure(False, f"the key may not use this model (403: {detail}); check {key_env}")
    if status == 404:
        return Failure(False, f"not found (404: {detail}); check the model name and base_url")
    if status in (408, 409, 429) or status >= 500:
        retry_after = None
        try:
            value = headers.get("retry-after") if headers is not None else None
            retry_after = float(value) if value is not None else None
        except (TypeError, ValueError):
            retry_after = None
        what = "rate limited" if status == 429 else "overloaded" if status == 529 else "failed"
        return Failure(True, f"{vendor} API {what} (HTTP {status}: {detail})", retry_after)
    return Failure(False, f"{vendor} API error (HTTP {status}: {detail})")
