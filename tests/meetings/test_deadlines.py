"""Clear days (jours francs), counted on local calendar days of the body."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from council.models import AuditEntry
from meetings.models import Meeting
from meetings.services import deadlines
from meetings.services import meetings as svc
from tests.factories import make_item, make_meeting
from tests.meetings.conftest import local

UTC = datetime.UTC
BRUSSELS = "Europe/Brussels"
NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("sent", "sitting", "expected"),
    [
        # Monday 2 Nov to Wednesday 11 Nov 2026: 3..10 November.
        (local(2026, 11, 2, 9), local(2026, 11, 11), 8),
        # The days of sending and of the sitting never count, whatever the hour.
        (local(2026, 11, 2, 0, 0), local(2026, 11, 11, 23, 59), 8),
        (local(2026, 11, 2, 23, 59), local(2026, 11, 11, 0, 1), 8),
        # Weekends are ordinary clear days: Friday 6 to Saturday 14.
        (local(2026, 11, 6, 16), local(2026, 11, 14, 10), 7),
        # The day before: no clear day; the same day: none either.
        (local(2026, 11, 10, 9), local(2026, 11, 11), 0),
        (local(2026, 11, 11, 9), local(2026, 11, 11), -1),
    ],
)
def test_clear_days_between(sent, sitting, expected):
    assert deadlines.clear_days_between(sent, sitting, BRUSSELS) == expected


def test_spring_dst_change_shifts_nothing():
    # Clocks go from 02:00 to 03:00 on Sunday 29 March 2026: that day has 23 hours.
    sent = local(2026, 3, 21, 23, 59)
    sitting = local(2026, 3, 29, 23, 30)
    wall = sitting - sent  # Python subtracts wall times in one zone
    real = sitting.astimezone(UTC) - sent.astimezone(UTC)
    assert wall - real == datetime.timedelta(hours=1)
    assert deadlines.clear_days_between(sent, sitting, BRUSSELS) == 7
    assert deadlines.clear_days_between(sent, local(2026, 3, 29, 0, 30), BRUSSELS) == 7
    assert deadlines.clear_days_between(sent, local(2026, 3, 28, 23, 30), BRUSSELS) == 6


def test_autumn_dst_change_shifts_nothing():
    # Clocks go from 03:00 back to 02:00 on Sunday 25 October 2026 (25 hours).
    sent = local(2026, 10, 24, 0, 5)
    sitting = local(2026, 11, 1, 23, 55)
    assert deadlines.clear_days_between(sent, sitting, BRUSSELS) == 7
    # Sent at 00:30 local on the 25th, still the evening of the 24th in UTC:
    sent_utc = datetime.datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    assert sent_utc.astimezone(ZoneInfo(BRUSSELS)).date() == datetime.date(2026, 10, 25)
    assert deadlines.clear_days_between(sent_utc, sitting, BRUSSELS) == 6


def test_counted_in_the_body_time_zone_not_utc():
    sent = datetime.datetime(2026, 6, 2, 2, 0, tzinfo=UTC)  # 1 June 22:00 in NY
    sitting = datetime.datetime(2026, 6, 9, 23, 0, tzinfo=UTC)  # 9 June 19:00 NY
    assert deadlines.clear_days_between(sent, sitting, NEW_YORK) == 7
    assert deadlines.clear_days_between(sent, sitting, "UTC") == 6


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        deadlines.clear_days_between(
            datetime.datetime(2026, 1, 1), local(2026, 1, 10), BRUSSELS
        )


@pytest.mark.parametrize(
    ("sitting", "days", "last_day"),
    [
        (local(2026, 11, 11), 7, datetime.date(2026, 11, 3)),
        (local(2026, 3, 29, 10), 7, datetime.date(2026, 3, 21)),
        (local(2026, 11, 11), 2, datetime.date(2026, 11, 8)),
        (local(2026, 11, 11), 5, datetime.date(2026, 11, 5)),
    ],
)
def test_last_day_and_deadline(sitting, days, last_day):
    assert deadlines.last_day_for(sitting, BRUSSELS, days) == last_day
    deadline = deadlines.deadline_for(sitting, BRUSSELS, days)
    assert deadline == local(last_day.year, last_day.month, last_day.day + 1, 0, 0)
    just_before = deadline - datetime.timedelta(microseconds=1)
    assert deadlines.is_in_time(
        sent=just_before, sitting=sitting, zone=BRUSSELS, clear_days=days
    )
    assert not deadlines.is_in_time(
        sent=deadline, sitting=sitting, zone=BRUSSELS, clear_days=days
    )


def test_deadline_across_the_spring_change_is_local_midnight():
    # Last day 28 March: too late from midnight on the 29th, still UTC+1.
    deadline = deadlines.deadline_for(local(2026, 4, 1, 19), BRUSSELS, 3)
    assert deadline.astimezone(UTC) == datetime.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    # Last day 29 March, the short day: too late from midnight on the 30th, UTC+2.
    deadline = deadlines.deadline_for(local(2026, 4, 2, 19), BRUSSELS, 3)
    assert deadline.astimezone(UTC) == datetime.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


# ---- the rule applied when convening -------------------------------------------


@pytest.fixture
def sitting_meeting(body, members):
    meeting = make_meeting(body, starts_at=local(2026, 3, 29, 19, 30))
    make_item(meeting)
    return meeting


@pytest.mark.django_db
def test_convocation_on_the_last_day_is_in_time(sitting_meeting, clerk):
    svc.meeting_convene(
        meeting=sitting_meeting, by=clerk, now=local(2026, 3, 21, 23, 59)
    )
    assert sitting_meeting.state == Meeting.State.CONVENED
    assert not sitting_meeting.urgent
    entry = AuditEntry.objects.get(action="meeting.convene")
    assert entry.details["clear_days"] == 7
    assert entry.details["in_time"] is True


@pytest.mark.django_db
def test_late_convocation_is_refused_and_changes_nothing(sitting_meeting, clerk):
    with pytest.raises(ValidationError) as refused:
        svc.meeting_convene(
            meeting=sitting_meeting, by=clerk, now=local(2026, 3, 22, 0, 0)
        )
    assert refused.value.code == "late"
    assert refused.value.messages == [
        str(svc.LATE_CONVOCATION) % {"days": 7, "last_day": "2026-03-21"}
    ]
    sitting_meeting.refresh_from_db()
    assert sitting_meeting.state == Meeting.State.DRAFT
    assert not sitting_meeting.convocations.exists()
    assert not AuditEntry.objects.filter(action="meeting.convene").exists()


@pytest.mark.django_db
def test_urgent_convocation_needs_a_reason(sitting_meeting, clerk):
    with pytest.raises(ValidationError) as refused:
        svc.meeting_convene(
            meeting=sitting_meeting,
            by=clerk,
            urgent=True,
            urgency_reason="  ",
            now=local(2026, 3, 27, 9),
        )
    assert refused.value.messages == [str(svc.URGENCY_REASON_MISSING)]
    sitting_meeting.refresh_from_db()
    assert sitting_meeting.state == Meeting.State.DRAFT


@pytest.mark.django_db
def test_urgent_late_convocation_is_accepted_and_audited(sitting_meeting, clerk):
    reason = "Subside régional à confirmer avant le 31 mars."
    svc.meeting_convene(
        meeting=sitting_meeting,
        by=clerk,
        urgent=True,
        urgency_reason=reason,
        now=local(2026, 3, 27, 9),
    )
    sitting_meeting.refresh_from_db()
    assert sitting_meeting.state == Meeting.State.CONVENED
    assert sitting_meeting.urgent and sitting_meeting.urgency_reason == reason
    entry = AuditEntry.objects.get(action="meeting.convene")
    assert entry.actor == clerk
    assert entry.details["urgent"] is True
    assert entry.details["urgency_reason"] == reason
    assert entry.details["in_time"] is False
    assert entry.details["clear_days"] == 1


@pytest.mark.django_db
def test_urgency_reason_is_not_kept_when_in_time(sitting_meeting, clerk):
    svc.meeting_convene(meeting=sitting_meeting, by=clerk, now=local(2026, 3, 1, 9))
    assert not sitting_meeting.urgent and sitting_meeting.urgency_reason == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "accepted"),
    [
        (local(2026, 3, 26, 23, 59), True),  # 27 and 28 March: two clear days
        (local(2026, 3, 27, 0, 0), False),
    ],
)
def test_third_convocation_needs_two_clear_days(sitting_meeting, clerk, now, accepted):
    Meeting.objects.filter(pk=sitting_meeting.pk).update(convocation_round=3)
    sitting_meeting.refresh_from_db()
    if accepted:
        svc.meeting_convene(meeting=sitting_meeting, by=clerk, now=now)
        assert sitting_meeting.state == Meeting.State.CONVENED
    else:
        with pytest.raises(ValidationError) as refused:
            svc.meeting_convene(meeting=sitting_meeting, by=clerk, now=now)
        assert refused.value.messages == [
            str(svc.LATE_CONVOCATION) % {"days": 2, "last_day": "2026-03-26"}
        ]


@pytest.mark.django_db
def test_other_time_zone_body_counts_its_own_days(members, clerk, body):
    body.time_zone = NEW_YORK
    body.save()
    meeting = make_meeting(
        body, starts_at=datetime.datetime(2026, 6, 9, 23, 0, tzinfo=UTC)
    )
    make_item(meeting)
    # 1 June 22:00 in New York, already 2 June in Brussels and in UTC.
    svc.meeting_convene(
        meeting=meeting, by=clerk, now=datetime.datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
    )
    assert meeting.state == Meeting.State.CONVENED
