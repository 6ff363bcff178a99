"""The side panes of the review screen: prompt, critique (findings) and rationale.

All three show untrusted text (what an agent was asked, what a model said about its work)
through `reviewq.tui.safe`, so markup, escapes and invisible characters in it stay inert.
"""

from __future__ import annotations

from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.widgets.option_list import Option

from reviewq.core.model import Change, Critique, Finding
from reviewq.tui.safe import safe, safe_line
from reviewq.tui.widgets.lists import FindingOptionList

SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "note": 3}
SEVERITY_STYLE = {
    "critical": "bold $text-error",
    "error": "$text-error",
    "warning": "$text-warning",
    "note": "$text-muted",
}


class Pane(Vertical):
    """A titled pane; `display` is toggled by the review screen."""

    #: The review screen's zoom key fills the screen with it.
    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    Pane { height: 1fr; border-top: solid $panel; }
    Pane > .pane-title { height: 1; padding: 0 1; background: $panel; color: $text; }
    Pane > VerticalScroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title

    def compose(self):
        yield Static(Content(self.title_text), classes="pane-title")

    def set_title(self, text: str | Content) -> None:
        self.query_one(".pane-title", Static).update(
            text if isinstance(text, Content) else Content(text)
        )


class PromptPane(Pane):
    def compose(self):
        yield from super().compose()
        with VerticalScroll():
            yield Static(id="prompt-text")

    def show_change(self, change: Change) -> None:
        prompt = change.prompt
        body = self.query_one("#prompt-text", Static)
        if prompt is None:
            self.set_title("Prompt: none recorded")
            body.update(
                Content.assemble(
                    ("No originating prompt was found for this change.\n\n", "italic"),
                    "Attach one with ",
                    ("reviewq prompt REV --set FILE", "bold"),
                    ".\n\nCommit message:\n\n",
                    safe(change.commit.message.strip()),
                )
            )
            return
        who = f" from {prompt.prompted_by.name}" if prompt.prompted_by else ""
        link = ""
        if prompt.session is not None:
            link = f", {prompt.link or 'linked'} link to {prompt.session.agent} session"
        self.set_title(Content.assemble("Prompt", (f"  {prompt.source}{link}{who}", "$text-muted")))
        if not (prompt.ran or prompt.claims):
            body.update(safe(prompt.text.strip()))
            return
        parts: list = [safe(prompt.text.strip())]
        if prompt.ran:
            parts.append(("\n\nWhat the agent ran (its session):\n", "bold"))
            parts.extend(Content.assemble("• ", safe(line), "\n") for line in prompt.ran)
        if prompt.claims:
            parts.append(("\nWhat the agent said (its claims, not verified):\n", "bold"))
            parts.extend(
                Content.assemble(("> ", "$text-muted"), safe(c.strip()), "\n")
                for c in prompt.claims
            )
        body.update(Content.assemble(*parts))


class CritiquePane(Pane):
    """Summary of the critique and its findings; choosing a finding jumps to its line."""

    class FindingChosen(Message):
        """A finding was chosen (`focus`: Enter) or only highlighted (moving through the list)."""

        def __init__(self, finding: Finding, focus: bool = True) -> None:
            super().__init__()
            self.finding = finding
            self.focus = focus

    DEFAULT_CSS = """
    CritiquePane { height: 2fr; }
    CritiquePane > #critique-summary { height: auto; max-height: 35%; padding: 0 1; }
    CritiquePane > FindingOptionList { height: 1fr; border: none; padding: 0; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.findings: list[Finding] = []

    def compose(self):
        yield from super().compose()
        with VerticalScroll(id="critique-summary"):
            yield Static(id="critique-text")
        yield FindingOptionList(id="finding-list")

    @property
    def finding_list(self) -> FindingOptionList:
        return self.query_one(FindingOptionList)

    def show_message(self, text: str, title: str = "Critique") -> None:
        self.set_title(title)
        self.findings = []
        self.query_one("#critique-text", Static).update(Content(text))
        self.finding_list.clear_options()

    def show_critique(self, critique: Critique) -> None:
        model = f" {critique.model}" if critique.model else ""
        allowed = "  same family allowed" if critique.same_family_allowed else ""
        self.set_title(
            Content.assemble(
                "Critique",
                (f"  {critique.critic} ({critique.family}{model}){allowed}", "$text-muted"),
            )
        )
        parts: list[Content | str | tuple[str, str]] = []
        if critique.summary:
            parts += [safe(critique.summary.strip()), "\n"]
        if critique.security_concerns:
            parts += [("Security: ", "bold $text-error"), safe(critique.security_concerns), "\n"]
        tests = "yes" if critique.tests_present else "no"
        parts.append((f"Tests present: {tests} · effort {critique.effort}/5", "$text-muted"))
        if critique.skipped_files:
            parts.append((f"\nNot read: {', '.join(critique.skipped_files)}", "$text-warning"))
        self.query_one("#critique-text", Static).update(Content.assemble(*parts))
        # Worst first; the critic's order within a severity (usually file and line).
        self.findings = sorted(
            critique.findings, key=lambda f: SEVERITY_ORDER.get(f.severity, len(SEVERITY_ORDER))
        )
        options = self.finding_list
        options.clear_options()
        if not self.findings:
            options.add_option(Option(Content.styled("No findings.", "italic"), disabled=True))
            return
        options.add_options(
            Option(finding_prompt(f), id=str(i)) for i, f in enumerate(self.findings)
        )
        options.highlighted = 0

    def on_option_list_option_selected(self, event: FindingOptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.FindingChosen(self.findings[int(event.option.id)]))

    def on_option_list_option_highlighted(self, event: FindingOptionList.OptionHighlighted) -> None:
        event.stop()
        # Moving through the list shows each finding's line; only Enter moves the focus.
        if event.option.id is not None and self.finding_list.has_focus:
            self.post_message(self.FindingChosen(self.findings[int(event.option.id)], False))


def finding_prompt(finding: Finding) -> Content:
    where = finding.file or "(whole change)"
    if finding.start_line is not None:
        where += f":{finding.start_line}"
    verified: tuple[str, str] = (
        ("", "")
        if finding.verified
        else ("  ⚠ unverified (quote not found in the diff)", "bold $diff-unverified-fg")
    )
    return Content.assemble(
        (f"{finding.severity:<8}", SEVERITY_STYLE.get(finding.severity, "")),
        " ",
        safe_line(finding.label, "bold"),
        " ",
        safe_line(where, "$text-primary"),
        verified,
        "\n  ",
        safe(finding.body.strip()),
    )


class RationalePane(Pane):
    def compose(self):
        yield from super().compose()
        with VerticalScroll():
            yield Static(id="rationale-text")

    def show_text(self, text: str, title: str = "Rationale") -> None:
        self.set_title(title)
        self.query_one("#rationale-text", Static).update(safe(text.strip()))

    def show_rationale(self, text: str) -> None:
        """The rationale summary: unindented lines ending in ':' are its section headings."""
        parts: list[Content | str] = []
        for line in text.strip().split("\n"):
            heading = bool(line) and not line.startswith(" ") and line.endswith(":")
            parts.append(safe(line, "bold $text-primary" if heading else ""))
            parts.append("\n")
        self.set_title("Rationale")
        self.query_one("#rationale-text", Static).update(Content.assemble(*parts[:-1]))
