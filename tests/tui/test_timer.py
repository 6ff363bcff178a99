"""Active time: runs while the reviewer is plausibly reading, pauses on idle and on blur."""

from __future__ import annotations

import pytest

from reviewq.tui.widgets.timer import (
    ActiveTimer,
    SessionClock,
    pace_warnings,
    size_warnings,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_counts_while_input_keeps_coming(clock):
    timer = ActiveTimer(clock)
    timer.start()
    for _ in range(10):
        clock.advance(30)
        timer.touch()
    assert timer.active_seconds() == pytest.approx(300)
    assert timer.wall_seconds() == pytest.approx(300)


def test_pauses_sixty_seconds_after_the_last_input(clock):
    timer = ActiveTimer(clock)
    timer.start()
    clock.advance(10)
    timer.touch()
    clock.advance(600)  # walked away
    assert timer.active_seconds() == pytest.approx(70)
    assert not timer.running
    timer.touch()  # back
    clock.advance(5)
    assert timer.active_seconds() == pytest.approx(75)
    assert timer.wall_seconds() == pytest.approx(615)


def test_losing_terminal_focus_stops_it_at_once(clock):
    timer = ActiveTimer(clock)
    timer.start()
    clock.advance(20)
    timer.blur()
    clock.advance(40)
    timer.touch()  # keys sent to another window do not count while blurred
    assert timer.active_seconds() == pytest.approx(20)
    timer.focus()
    clock.advance(10)
    assert timer.active_seconds() == pytest.approx(30)


def test_a_draft_carries_earlier_time(clock):
    timer = ActiveTimer(clock)
    timer.start()
    timer.carry(90, 200)
    clock.advance(10)
    assert timer.active_seconds() == pytest.approx(100)
    assert timer.wall_seconds() == pytest.approx(210)


def test_session_restarts_after_a_long_break(clock):
    session = SessionClock(clock, reset_after=600)
    session.touch()
    for _ in range(40):
        clock.advance(50)
        session.touch()
    assert session.seconds() == pytest.approx(2000)
    clock.advance(3600)  # lunch
    session.touch()
    clock.advance(30)
    assert session.seconds() == pytest.approx(30)


def test_warnings_are_thresholds_not_blocks():
    assert not size_warnings(400)
    assert [w.key for w in size_warnings(401)] == ["large"]
    # 300 lines in 10 minutes is 1,800 lines/hour
    keys = [w.key for w in pace_warnings(300, 600, 0)]
    assert keys == ["rate"]
    assert pace_warnings(300, 3600, 0) == []
    soft = pace_warnings(0, 0, 61 * 60)
    strong = pace_warnings(0, 0, 91 * 60)
    assert [(w.key, w.level) for w in soft] == [("session", "soft")]
    assert [(w.key, w.level) for w in strong] == [("session", "strong")]
    assert "break" in strong[0].message


def test_the_ticking_clock_is_core_times_clock_style():
    from reviewq.core.times import duration

    assert duration(0, "clock") == "0:00"
    assert duration(75.9, "clock") == "1:15"
    assert duration(3725, "clock") == "1:02:05"
