"""The app tells screens apart without importing their modules (`reviewq.tui.app._is`).

The review, change and pair screens' modules are imported in the background after the first
frame; a key pressed at that moment asked a half-initialised module for its class and crashed
the app (AttributeError: partially initialized module)."""

from __future__ import annotations

import sys
import types

import pytest

from reviewq.tui import app


@pytest.mark.parametrize(
    ("check", "module", "name"),
    [
        (app._is_change, "reviewq.tui.screens.change_screen", "ChangeScreen"),
        (app._is_review, "reviewq.tui.screens.review", "ReviewScreen"),
        (app._is_pair, "reviewq.tui.pair.screen", "PairScreen"),
    ],
)
def test_a_screen_module_still_being_imported_is_no_screen_kind(check, module, name, monkeypatch):
    half = types.ModuleType(module)  # in sys.modules, its class not defined yet
    monkeypatch.setitem(sys.modules, module, half)
    assert check(object()) is False

    class Screen:
        pass

    setattr(half, name, Screen)
    assert check(Screen()) is True
    assert check(object()) is False


def test_a_module_never_imported_is_no_screen_kind(monkeypatch):
    monkeypatch.delitem(sys.modules, "reviewq.tui.screens.change_screen", raising=False)
    assert app._is_change(object()) is False
