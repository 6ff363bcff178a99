"""The review screen's footer is rebuilt once for a burst of binding refreshes and only when the
keys it shows change (issue 18: Textual's footer rebuilt every key, each styled, after every
focus change; three times while the screen opened)."""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from reviewq.tui.screens.review import KeysFooter
from tests.tui.conftest import settle
from tests.tui.test_reviewer_day import open_first_review


def _shown(footer: Footer) -> list[tuple[str, str, bool]]:
    """The keys shown (the command palette's, docked on the right, aside)."""
    return [
        (k.key, k.description, k.disabled)
        for k in footer.query(FooterKey)
        if not k.has_class("-command-palette")
    ]


def _expected(screen) -> list[tuple[str, str, bool]]:
    """What Textual's footer would show now: the first shown key of each action."""
    first: dict[str, tuple[str, str, bool]] = {}
    for _, binding, enabled, _ in screen.active_bindings.values():
        if binding.show:
            first.setdefault(binding.action, (binding.key, binding.description, not enabled))
    return list(first.values())


async def test_footer_rebuilds_once_and_only_when_the_keys_change(make_app, monkeypatch):
    rebuilds: list[str] = []
    real = Footer.recompose

    async def counted(self):
        rebuilds.append(type(self).__name__)
        await real(self)

    monkeypatch.setattr(Footer, "recompose", counted)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_first_review(pilot)
        footer = screen.query_one(KeysFooter)
        shown = _shown(footer)
        assert shown and [k for k in shown if k[1]] == [k for k in _expected(screen) if k[1]]
        opened = rebuilds.count("KeysFooter")
        assert opened == 1  # Textual's footer: three rebuilds while the screen opened

        rebuilds.clear()
        for _ in range(3):  # a burst of refreshes with the same keys: nothing to rebuild
            screen.refresh_bindings()
        await settle(pilot)
        assert rebuilds == []
        assert _shown(footer) == shown

        await pilot.press("slash")  # the search box takes focus: other keys apply
        await settle(pilot)
        assert rebuilds == ["KeysFooter"]
        assert _shown(footer) != shown
        assert [k for k in _shown(footer) if k[1]] == [k for k in _expected(screen) if k[1]]
