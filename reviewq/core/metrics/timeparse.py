"""Instants and days: RFC 3339 text to epoch seconds and offsets, vectorised, and the
day/week labels every period uses (part of `core.metrics`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

import numpy as np

from reviewq.core.times import parse_instant  # the one parser; re-exported for callers here

#: Seconds in a day.
_DAY = 86400


# -- time --------------------------------------------------------------------------------------


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (Howard Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _parse_fixed(strings: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Vectorised parse of same-length `YYYY-MM-DDTHH:MM:SS[.fff...](+HH:MM|Z)` strings.

    Returns (epoch seconds, offset seconds, valid mask), or None when the shape is not that.
    """
    length = len(strings[0])
    if length < 20:
        return None
    try:
        raw = "".join(strings).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        return None
    b = np.frombuffer(raw, dtype=np.uint8).reshape(len(strings), length)
    zulu = length in (20, 24, 27) and bool(np.all(b[:, -1] == ord("Z")))
    if not zulu and length not in (25, 29, 32):
        return None
    frac_len = length - (20 if zulu else 25)  # "." and the fraction's digits
    ok = np.ones(len(strings), dtype=bool)
    for pos, ch in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
        ok &= b[:, pos] == ord(ch)
    digit_pos = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
    if frac_len:
        ok &= b[:, 19] == ord(".")
        digit_pos += list(range(20, 19 + frac_len))
    if not zulu:
        sign_col = b[:, length - 6]
        ok &= ((sign_col == ord("+")) | (sign_col == ord("-"))) & (b[:, length - 3] == ord(":"))
        digit_pos += [length - 5, length - 4, length - 2, length - 1]
    # One gather of the digit columns, transposed so each digit is a contiguous row; below
    # "0" wraps around in uint8 and fails the <= 9 test.
    digits = np.ascontiguousarray((b[:, digit_pos] - np.uint8(48)).T)
    ok &= np.all(digits <= 9, axis=0)
    row = {pos: i for i, pos in enumerate(digit_pos)}

    def num(start: int, n: int) -> np.ndarray:
        out = digits[row[start]].astype(np.int64)
        for i in range(1, n):
            out = out * 10 + digits[row[start + i]]
        return out

    year, month, day = num(0, 4), num(5, 2), num(8, 2)
    hour, minute, second = num(11, 2), num(14, 2), num(17, 2)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    if zulu:
        offset = np.zeros(len(strings), dtype=np.int64)
    else:
        sign = np.where(b[:, length - 6] == ord("-"), -1, 1)
        offset = sign * (num(length - 5, 2) * 3600 + num(length - 2, 2) * 60)
        ok &= np.abs(offset) < _DAY
    # Day overflow (Feb 30) is caught by comparing with the calendar below.
    days = _days_from_civil(year, np.clip(month, 1, 12), day)
    days_next_month = _days_from_civil(
        year + (month == 12), np.where(month == 12, 1, np.clip(month + 1, 1, 12)), np.ones_like(day)
    )
    ok &= days < days_next_month
    local = days * _DAY + hour * 3600 + minute * 60 + second
    epoch = local - offset
    return (
        epoch.astype(np.float64)
        + (num(20, frac_len - 1) / 10 ** (frac_len - 1) if frac_len else 0),
        offset,
        ok,
    )


def parse_instants(strings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epoch seconds, UTC offset seconds, valid) for RFC 3339 strings.

    Strings of one shape (what one writer produces) are parsed together as a byte matrix;
    anything else falls back to `parse_instant`, one at a time, with the same result.
    """
    n = len(strings)
    epoch = np.zeros(n, dtype=np.float64)
    offset = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    try:
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=n)
    except TypeError:
        lengths = np.array([len(s) if isinstance(s, str) else -1 for s in strings], np.int64)
    distinct = np.unique(lengths)
    for length in distinct.tolist():
        idx = np.arange(n) if len(distinct) == 1 else np.nonzero(lengths == length)[0]
        group = list(strings) if len(distinct) == 1 else [strings[i] for i in idx.tolist()]
        parsed = _parse_fixed(group) if length > 0 else None
        retry = idx
        if parsed is not None:
            epoch[idx], offset[idx], valid[idx] = parsed
            retry = idx[~parsed[2]]
        for i in retry.tolist():
            when = parse_instant(strings[i])
            if when is not None:
                delta = when.utcoffset()
                epoch[i] = when.timestamp()
                offset[i] = int(delta.total_seconds()) if delta is not None else 0
                valid[i] = True
    return epoch, offset, valid


def local_days(epoch: np.ndarray, offset: np.ndarray, tz: tzinfo | None) -> np.ndarray:
    """Day number (days since 1970-01-01) of each instant: in its own offset, or in `tz`."""
    seconds = np.floor(epoch).astype(np.int64)
    if tz is None:
        return np.floor_divide(seconds + offset, _DAY)
    return np.floor_divide(seconds + tz_offsets(seconds, tz), _DAY)


def tz_offsets(seconds: np.ndarray, tz: tzinfo) -> np.ndarray:
    """UTC offset of `tz` at each instant; computed once per distinct hour (DST moves on hours)."""
    if isinstance(tz, timezone):
        off = tz.utcoffset(None)
        return np.full(len(seconds), int(off.total_seconds()), dtype=np.int64)
    hours, inverse = np.unique(np.floor_divide(seconds, 3600), return_inverse=True)
    per_hour = np.array(
        [
            int(
                datetime.fromtimestamp(int(h) * 3600, UTC)
                .astimezone(tz)
                .utcoffset()
                .total_seconds()
            )  # type: ignore[union-attr]
            for h in hours.tolist()
        ],
        dtype=np.int64,
    )
    return per_hour[inverse] if len(per_hour) else np.zeros(0, dtype=np.int64)


def day_label(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=int(day))).isoformat()


def week_of(day: np.ndarray) -> np.ndarray:
    """Monday-based week number: 1970-01-01 was a Thursday, so day 0 sits in week 0 (Mon 12-29)."""
    return np.floor_divide(day + 3, 7)


def week_label(week: int) -> str:
    monday = date(1970, 1, 1) + timedelta(days=int(week) * 7 - 3)
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


def week_start(week: int) -> str:
    return day_label(int(week) * 7 - 3)
