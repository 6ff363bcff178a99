"""The stats screen is part of the app: a key from the queue, the palette, its own keymap ids."""

from __future__ import annotations

from reviewq.tui import keymap
from tests.tui.conftest import settle


async def test_queue_key_opens_stats_and_back(make_app) -> None:
    from reviewq.tui.screens.queue import QueueScreen
    from reviewq.tui.screens.stats import StatsScreen

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        assert app.screen.stats is not None  # gathered from the demo repository
        await pilot.press("p")
        await settle(pilot)
        assert app.screen.period == "90d"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


def test_stats_keys_are_in_the_registry_and_every_preset_resolves() -> None:
    ids = {c.id for c in keymap.COMMANDS}
    assert {"queue.stats", "stats.next_period", "stats.close", "stats.period_7d"} <= ids
    for preset in keymap.PRESETS:
        resolved = keymap.resolve(preset, None, read_user_file=False)
        assert not resolved.problems, resolved.problems
