import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from meetings.live import presence
from meetings.models import AttendanceEvent, FloorRequest, Meeting
from meetings.register import Register, may_vote_now
from meetings.services import sitting as services
from tests.factories import arrive

pytestmark = pytest.mark.django_db
Kind = AttendanceEvent.Kind
Place = AttendanceEvent.Place


def places(meeting) -> dict[int, str]:
    """Present members and where they are."""
    register = Register.of(meeting)
    return {pk: register.place_of(pk) for pk in register.present_ids()}


def test_joining_records_a_remote_arrival_with_the_time(live_meeting, councillor):
    before = timezone.now()
    event = services.attendance_join(meeting=live_meeting, by=councillor)
    assert event.kind == Kind.ARRIVED and event.place == Place.REMOTE
    assert event.cause == AttendanceEvent.Cause.JOINED
    assert event.at >= before
    assert Register.of(live_meeting).present_ids() == {councillor.pk}


def test_joining_twice_records_one_arrival(live_meeting, councillor):
    services.attendance_join(meeting=live_meeting, by=councillor)
    assert services.attendance_join(meeting=live_meeting, by=councillor) is None
    assert AttendanceEvent.objects.filter(person=councillor).count() == 1


def test_joining_a_meeting_not_in_session_records_nothing(meeting, councillor):
    assert services.attendance_join(meeting=meeting, by=councillor) is None
    assert not AttendanceEvent.objects.exists()


@pytest.mark.parametrize("role", ["clerk", "director_general", "outsider"])
def test_only_members_are_recorded_on_joining(live_meeting, cast, role):
    assert services.attendance_join(meeting=live_meeting, by=cast[role]) is None
    assert not AttendanceEvent.objects.exists()


def test_joining_while_suspended_is_recorded(live_meeting, councillor):
    live_meeting.state = Meeting.State.SUSPENDED
    live_meeting.save()
    assert services.attendance_join(meeting=live_meeting, by=councillor) is not None


def test_leaving_records_a_departure(live_meeting, councillor):
    services.attendance_join(meeting=live_meeting, by=councillor)
    event = services.attendance_leave(meeting=live_meeting, by=councillor)
    assert event.kind == Kind.LEFT
    assert event.cause == AttendanceEvent.Cause.LEFT_BUTTON
    assert Register.of(live_meeting).present_ids() == set()


def test_leaving_when_absent_is_refused(live_meeting, councillor):
    with pytest.raises(ValidationError) as exc:
        services.attendance_leave(meeting=live_meeting, by=councillor)
    assert services.NOT_PRESENT_NOW in exc.value.messages


def test_lost_connection_records_absence_at_the_disconnect_time(
    live_meeting, councillor
):
    services.attendance_join(meeting=live_meeting, by=councillor)
    disconnected = timezone.now()
    event = services.attendance_connection_lost(
        meeting=live_meeting, person=councillor, disconnected_at=disconnected
    )
    assert event.kind == Kind.LEFT and event.at == disconnected
    assert event.cause == AttendanceEvent.Cause.CONNECTION_LOST
    assert event.recorded_by is None


def test_lost_connection_is_ignored_while_another_connection_lives(
    live_meeting, councillor
):
    services.attendance_join(meeting=live_meeting, by=councillor)
    presence.lease_open(
        meeting_id=live_meeting.pk, person_id=councillor.pk, connection_id="other-tab"
    )
    assert (
        services.attendance_connection_lost(
            meeting=live_meeting, person=councillor, disconnected_at=timezone.now()
        )
        is None
    )
    assert Register.of(live_meeting).present_ids() == {councillor.pk}


def test_lost_connection_does_not_end_presence_in_the_room(
    live_meeting, councillor, clerk
):
    services.attendance_record(
        meeting=live_meeting, person=councillor, kind=Kind.ARRIVED, by=clerk
    )
    assert (
        services.attendance_connection_lost(
            meeting=live_meeting, person=councillor, disconnected_at=timezone.now()
        )
        is None
    )
    assert places(live_meeting) == {councillor.pk: Place.ROOM}


def test_clerk_records_room_presence_departure_and_excuse(
    live_meeting, councillor, chair, clerk
):
    services.attendance_record(
        meeting=live_meeting, person=councillor, kind=Kind.ARRIVED, by=clerk
    )
    services.attendance_record(
        meeting=live_meeting, person=chair, kind=Kind.EXCUSED, by=clerk
    )
    assert places(live_meeting) == {councillor.pk: Place.ROOM}
    services.attendance_record(
        meeting=live_meeting, person=councillor, kind=Kind.LEFT, by=clerk
    )
    assert Register.of(live_meeting).present_ids() == set()
    kinds = list(
        AttendanceEvent.objects.order_by("pk").values_list("kind", "recorded_by")
    )
    assert kinds == [
        (Kind.ARRIVED, clerk.pk),
        (Kind.EXCUSED, clerk.pk),
        (Kind.LEFT, clerk.pk),
    ]


def test_clerk_cannot_record_twice_or_record_an_outsider(
    live_meeting, councillor, clerk, outsider
):
    services.attendance_record(
        meeting=live_meeting, person=councillor, kind=Kind.ARRIVED, by=clerk
    )
    with pytest.raises(ValidationError):
        services.attendance_record(
            meeting=live_meeting, person=councillor, kind=Kind.ARRIVED, by=clerk
        )
    with pytest.raises(ValidationError):
        services.attendance_record(
            meeting=live_meeting, person=outsider, kind=Kind.ARRIVED, by=clerk
        )


@pytest.mark.parametrize(
    "role", ["chair", "councillor", "director_general", "outsider", "administrator"]
)
def test_only_the_clerk_records_the_register(live_meeting, cast, role):
    with pytest.raises(PermissionDenied):
        services.attendance_record(
            meeting=live_meeting,
            person=cast["councillor"],
            kind=Kind.ARRIVED,
            by=cast[role],
        )


def test_presence_at_any_moment_is_recomputed_from_the_events(
    live_meeting, councillor, chair
):
    t0 = timezone.now() - datetime.timedelta(hours=1)
    arrive(live_meeting, councillor, at=t0)
    arrive(live_meeting, chair, at=t0 + datetime.timedelta(minutes=10))
    AttendanceEvent.objects.create(
        meeting=live_meeting,
        person=councillor,
        kind=Kind.LEFT,
        at=t0 + datetime.timedelta(minutes=20),
    )

    def at(**delta):
        return t0 + datetime.timedelta(**delta)

    assert Register.of(live_meeting, at(minutes=5)).present_ids() == {councillor.pk}
    assert Register.of(live_meeting, at(minutes=15)).present_ids() == {
        councillor.pk,
        chair.pk,
    }
    assert Register.of(live_meeting, at(minutes=25)).present_ids() == {chair.pk}


def test_leaving_drops_the_members_request(live_meeting, councillor):
    services.attendance_join(meeting=live_meeting, by=councillor)
    request = services.floor_request(meeting=live_meeting, by=councillor)
    services.attendance_leave(meeting=live_meeting, by=councillor)
    request.refresh_from_db()
    assert request.status == FloorRequest.Status.DROPPED


def test_recusal_takes_a_member_out_of_quorum_vote_and_queue(
    live_meeting, items, councillor, clerk
):
    item = items["public"]
    services.attendance_join(meeting=live_meeting, by=councillor)
    request = services.floor_request(meeting=live_meeting, by=councillor)
    assert Register.of(live_meeting).quorum(item).present == 1
    assert may_vote_now(item, councillor)
    services.recusal_record(item=item, person=councillor, by=clerk, reason="Époux")
    request.refresh_from_db()
    assert request.status == FloorRequest.Status.DROPPED
    assert Register.of(live_meeting).quorum(item).present == 0
    assert Register.of(live_meeting).quorum(items["third"]).present == 1
    assert not may_vote_now(item, councillor)
    with pytest.raises(ValidationError) as exc:
        services.floor_request(meeting=live_meeting, by=councillor)
    assert services.RECUSED in exc.value.messages


def test_recusal_twice_is_refused_and_can_be_cancelled(
    live_meeting, items, councillor, clerk
):
    services.recusal_record(item=items["public"], person=councillor, by=councillor)
    with pytest.raises(ValidationError):
        services.recusal_record(item=items["public"], person=councillor, by=clerk)
    services.recusal_cancel(item=items["public"], person=councillor, by=clerk)
    assert may_vote_now(items["public"], councillor) is False  # not present, still
    services.attendance_join(meeting=live_meeting, by=councillor)
    assert may_vote_now(items["public"], councillor)


def test_a_member_cannot_recuse_someone_else(live_meeting, items, councillor, chair):
    with pytest.raises(PermissionDenied):
        services.recusal_record(item=items["public"], person=chair, by=councillor)
