"""Pair sessions as data: participants, the driver's handovers, notes per hunk, record fields."""

from __future__ import annotations

import pytest

from reviewq.core.model import Identity
from reviewq.core.pair import (
    HunkNote,
    PairSession,
    PersonError,
    check_participants,
    notes_on,
    parse_person,
    set_note,
)

DANA = Identity("Dana Reyes", "dana@acme.example")
LEE = Identity("Lee Park", "lee@acme.example")
KIM = Identity("Kim Ito", "kim@acme.example")


def test_parse_person_accepts_name_and_email_and_says_what_is_wrong():
    assert parse_person("  Dana   Reyes <dana@acme.example> ") == DANA
    assert parse_person("Dana Reyes<dana@acme.example>") == DANA
    with pytest.raises(PersonError, match=r"has no name: write Name <dana@acme.example>"):
        parse_person("dana@acme.example")
    with pytest.raises(PersonError, match="has no name"):
        parse_person("<dana@acme.example>")
    with pytest.raises(PersonError, match="is not an email address"):
        parse_person("Dana <dana>")
    with pytest.raises(PersonError, match="is not Name <email>"):
        parse_person("Dana Reyes")
    with pytest.raises(PersonError, match="empty"):
        parse_person("   ")


def test_participants_two_or_three_distinct_people():
    assert check_participants(DANA, [LEE]) == []
    assert check_participants(DANA, [LEE, KIM]) == []
    assert check_participants(DANA, []) == [
        "name at least one co-reviewer: a pair session needs two people"
    ]
    assert check_participants(DANA, [LEE, KIM, Identity("Max", "max@x.example")]) == [
        "at most 2 co-reviewers"
    ]
    # the same mailbox in another spelling is the same person
    assert check_participants(DANA, [Identity("D. Reyes", "Dana+pair@ACME.example")]) == [
        "D. Reyes <Dana+pair@ACME.example> is named twice"
    ]
    robot = Identity("Claude", "noreply@anthropic.com")
    assert check_participants(DANA, [robot]) == [
        "Claude <noreply@anthropic.com> is a machine; pair sessions are for people"
    ]


def test_handing_over_rotates_round_the_table_and_is_recorded():
    session = PairSession.start(DANA, [LEE, KIM], "2026-11-20T12:00:00+01:00")
    assert session.driver == DANA and session.co_reviewers == (LEE, KIM)
    session.hand_over("2026-11-20T12:05:00+01:00", step=3)
    assert session.driver == LEE and session.co_reviewers == (DANA, KIM)
    session.hand_over("2026-11-20T12:06:00+01:00", step=4)
    session.hand_over("2026-11-20T12:07:00+01:00", step=4)
    assert session.driver == DANA
    fields = session.record_fields(host=DANA, since=1)
    assert fields["session"] == {
        "mode": "pair",
        "started_at": "2026-11-20T12:00:00+01:00",
        "host": DANA.to_json(),
        "participants": [DANA.to_json(), LEE.to_json(), KIM.to_json()],
        "driver_changes": [
            {
                "at": "2026-11-20T12:06:00+01:00",
                "step": 4,
                "from": LEE.to_json(),
                "to": KIM.to_json(),
            },
            {
                "at": "2026-11-20T12:07:00+01:00",
                "step": 4,
                "from": KIM.to_json(),
                "to": DANA.to_json(),
            },
        ],
    }
    assert fields["hunk_notes"] == []
    with pytest.raises(ValueError, match="co-reviewer"):
        PairSession.start(DANA, [], "2026-11-20T12:00:00+01:00")


def test_one_note_per_person_per_hunk():
    where = ("orders/auth.py", "@@ -18,3 +18,9 @@ def login(token):", 18)
    notes = set_note([], where, DANA, "override token bypasses the check")
    notes = set_note(notes, where, LEE, "  ask support why  ")
    notes = set_note(notes, where, DANA, "bypass: must go")  # Dana edits hers
    assert [(n.by, n.note) for n in notes_on(notes, where)] == [
        (LEE, "ask support why"),
        (DANA, "bypass: must go"),
    ]
    notes = set_note(notes, where, LEE, "")  # an empty note removes Lee's
    assert [n.by for n in notes] == [DANA]
    record = notes[0].to_json()
    assert record == {
        "file": "orders/auth.py",
        "hunk": "@@ -18,3 +18,9 @@ def login(token):",
        "new_start": 18,
        "note": "bypass: must go",
        "by": DANA.to_json(),
    }
    assert HunkNote.from_json(record) == notes[0]
