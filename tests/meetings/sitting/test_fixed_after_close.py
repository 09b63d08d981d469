"""Presence and recusals are fixed once the sitting is closed."""

import pytest

from council.models import AuditEntry
from council.refusals import Refusal
from meetings.models import AttendanceEvent, Meeting, Recusal
from meetings.services import sitting as services
from tests.factories import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_sitting(live_meeting, items, chair, councillor, clerk):
    arrive(live_meeting, chair, councillor, place=AttendanceEvent.Place.ROOM)
    services.recusal_record(item=items["third"], person=chair, by=clerk)
    services.sitting_close(meeting=live_meeting, by=chair)
    live_meeting.refresh_from_db()
    assert live_meeting.state == Meeting.State.CLOSED
    return live_meeting


def _refused_and_unchanged(call):
    events = AttendanceEvent.objects.count()
    recusals = list(Recusal.objects.values_list("item_id", "person_id"))
    audit = AuditEntry.objects.count()
    with pytest.raises(Refusal) as refused:
        call()
    assert refused.value.messages == [str(services.SITTING_CLOSED)]
    assert AttendanceEvent.objects.count() == events
    assert list(Recusal.objects.values_list("item_id", "person_id")) == recusals
    assert AuditEntry.objects.count() == audit


def test_no_recusal_after_the_close(closed_sitting, items, councillor, clerk):
    _refused_and_unchanged(
        lambda: services.recusal_record(
            item=items["public"], person=councillor, by=clerk
        )
    )


def test_a_member_cannot_recuse_themselves_after_the_close(
    closed_sitting, items, councillor
):
    _refused_and_unchanged(
        lambda: services.recusal_record(
            item=items["public"], person=councillor, by=councillor
        )
    )


def test_no_recusal_cancelled_after_the_close(closed_sitting, items, chair, clerk):
    _refused_and_unchanged(
        lambda: services.recusal_cancel(item=items["third"], person=chair, by=clerk)
    )


@pytest.mark.parametrize(
    "kind", [AttendanceEvent.Kind.ARRIVED, AttendanceEvent.Kind.LEFT]
)
def test_the_clerk_records_no_presence_after_the_close(
    kind, closed_sitting, councillor, other_councillors, clerk
):
    person = (
        other_councillors[0] if kind == AttendanceEvent.Kind.ARRIVED else councillor
    )
    _refused_and_unchanged(
        lambda: services.attendance_record(
            meeting=closed_sitting, person=person, kind=kind, by=clerk
        )
    )


def test_the_register_page_refusal_is_shown(closed_sitting, councillor, clerk):
    from django.urls import reverse

    from tests.conftest import client_for

    client = client_for(clerk)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("meetings:sitting_register_record", args=[closed_sitting.pk]),
        {"person": councillor.pk, "kind": AttendanceEvent.Kind.LEFT},
        follow=True,
    )
    assert "its register and recusals can no longer change" in response.content.decode()


def test_before_the_close_the_clerk_still_records(
    live_meeting, other_councillors, clerk
):
    event = services.attendance_record(
        meeting=live_meeting,
        person=other_councillors[0],
        kind=AttendanceEvent.Kind.ARRIVED,
        by=clerk,
    )
    assert event.pk is not None
