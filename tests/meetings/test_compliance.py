"""The ten-meetings-a-year rule (L1122-11)."""

import datetime

import pytest

from meetings.models import Meeting
from meetings.services.compliance import REQUIRED_MEETINGS, year_compliance
from tests.factories import make_body, make_meeting
from tests.meetings.conftest import local

pytestmark = pytest.mark.django_db

Mode = Meeting.Mode
State = Meeting.State


def _meetings(body, month_states_modes):
    for month, state, mode in month_states_modes:
        make_meeting(body, starts_at=local(2026, month, 15), state=state, mode=mode)


def test_counts_by_mode_with_hybrid_as_physical(body):
    _meetings(
        body,
        [
            (1, State.CLOSED, Mode.IN_PERSON),
            (2, State.CLOSED, Mode.HYBRID),
            (3, State.CLOSED, Mode.REMOTE),
            (4, State.CONVENED, Mode.IN_PERSON),
            (5, State.DRAFT, Mode.REMOTE),
        ],
    )
    result = year_compliance(body, 2026, now=local(2026, 3, 20))
    assert result.held == {Mode.IN_PERSON: 1, Mode.HYBRID: 1, Mode.REMOTE: 1}
    assert result.held_physical == 2
    assert result.held_remote == 1
    assert result.scheduled_physical == 1
    assert result.planned_physical == 3
    assert result.missing == REQUIRED_MEETINGS - 3
    assert not result.on_track
    rows = {label: (held, sched) for label, held, sched in result.rows()}
    assert rows[Mode.REMOTE.label] == (1, 1)


def test_ten_physical_meetings_planned_and_on_pace_is_on_track(body):
    months = [1, 2, 3, 4, 5, 6, 9, 10, 11, 12]
    _meetings(
        body,
        [
            (m, State.CLOSED if m <= 3 else State.CONVENED, Mode.IN_PERSON)
            for m in months
        ],
    )
    result = year_compliance(body, 2026, now=local(2026, 3, 20))
    assert result.planned_physical == 10
    assert result.expected_by_now == 2  # 78 days of 365
    assert result.on_track


def test_remote_meetings_do_not_count_towards_the_ten(body):
    _meetings(body, [(m, State.CONVENED, Mode.REMOTE) for m in range(1, 13)])
    result = year_compliance(body, 2026, now=local(2026, 1, 2))
    assert result.planned_physical == 0
    assert result.missing == 10
    assert not result.on_track


def test_enough_planned_but_behind_pace_warns(body):
    # November: only three held, seven squeezed into December.
    _meetings(body, [(m, State.CLOSED, Mode.IN_PERSON) for m in (1, 2, 3)])
    for day in range(1, 8):
        make_meeting(body, starts_at=local(2026, 12, day), state=State.CONVENED)
    result = year_compliance(body, 2026, now=local(2026, 11, 20))
    assert result.missing == 0
    assert result.expected_by_now == 8
    assert result.behind_pace
    assert not result.on_track


def test_year_boundary_is_the_body_local_new_year(body):
    # 23:30 on 31 December in Brussels is still 2026; 00:30 on 1 January is 2027,
    # though it is 23:30 on 31 December in UTC.
    make_meeting(body, starts_at=local(2026, 12, 31, 23, 30), state=State.CLOSED)
    make_meeting(body, starts_at=local(2027, 1, 1, 0, 30), state=State.CLOSED)
    assert local(2027, 1, 1, 0, 30).astimezone(datetime.UTC).year == 2026
    assert year_compliance(body, 2026, now=local(2027, 2, 1)).held_physical == 1
    assert year_compliance(body, 2027, now=local(2027, 2, 1)).held_physical == 1


def test_past_year_expects_all_ten(body):
    result = year_compliance(body, 2025, now=local(2026, 2, 1))
    assert result.expected_by_now == 10
    assert result.behind_pace


def test_other_bodies_meetings_are_not_counted(body):
    other = make_body()
    _meetings(other, [(m, State.CLOSED, Mode.IN_PERSON) for m in range(1, 11)])
    assert year_compliance(body, 2026, now=local(2026, 12, 31)).held_physical == 0
    assert year_compliance(other, 2026, now=local(2026, 12, 31)).on_track
