import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from council.models import AuditEntry
from meetings.live import build_snapshot, speaking_log, speaking_totals
from meetings.models import FloorRequest
from meetings.register import Register
from meetings.services import sitting as services
from meetings.services.meetings import meeting_resume
from tests.factories import arrive

pytestmark = pytest.mark.django_db
Kind = FloorRequest.Kind


@pytest.fixture
def present(live_meeting, chair, councillor, other_councillors):
    people = [councillor, *other_councillors[:3]]
    for person in people:
        arrive(live_meeting, person)
    return people


def _queue(meeting) -> list[int]:
    return [entry["person_id"] for entry in build_snapshot(meeting, "members")["queue"]]


def test_quorum_needs_more_than_half_of_members_in_office(
    live_meeting, items, chair, councillor, other_councillors
):
    # Nine members: five are needed.
    for person in other_councillors[:4]:
        arrive(live_meeting, person)
    q = Register.of(live_meeting).quorum(items["public"])
    assert (q.in_office, q.present, q.required, q.reached) == (9, 4, 5, False)
    assert not Register.of(live_meeting).quorum(items["public"]).reached
    arrive(live_meeting, councillor)
    assert Register.of(live_meeting).quorum(items["public"]).reached


def test_third_convocation_item_is_exempt_from_quorum(live_meeting, items, chair):
    assert Register.of(live_meeting).quorum(items["third"]).present == 0
    assert Register.of(live_meeting).quorum(items["third"]).reached
    assert not Register.of(live_meeting).quorum(items["public"]).reached


def test_recused_members_do_not_count_for_quorum(
    live_meeting, items, chair, councillor, other_councillors, clerk
):
    for person in [councillor, *other_councillors[:4]]:
        arrive(live_meeting, person)
    assert Register.of(live_meeting).quorum(items["public"]).reached
    services.recusal_record(item=items["public"], person=councillor, by=clerk)
    assert not Register.of(live_meeting).quorum(items["public"]).reached
    assert Register.of(live_meeting).quorum(items["closed"]).reached


def test_point_of_order_goes_to_the_head_of_the_queue(live_meeting, present):
    a, b, c, d = present
    services.floor_request(meeting=live_meeting, by=a)
    services.floor_request(meeting=live_meeting, by=b, kind=Kind.REPLY)
    services.floor_request(meeting=live_meeting, by=c, kind=Kind.POINT_OF_ORDER)
    services.floor_request(meeting=live_meeting, by=d, kind=Kind.POINT_OF_ORDER)
    assert _queue(live_meeting) == [c.pk, d.pk, a.pk, b.pk]


def test_grant_follows_the_queue_and_override_is_marked(live_meeting, present, chair):
    a, b, c, _ = present
    services.floor_request(meeting=live_meeting, by=a)
    services.floor_request(meeting=live_meeting, by=b)
    rc = services.floor_request(meeting=live_meeting, by=c)
    first = services.floor_grant(meeting=live_meeting, by=chair)
    assert first.person == a and not first.out_of_turn
    assert first.limit_seconds == live_meeting.body.speaking_time_seconds
    chosen = services.floor_grant(meeting=live_meeting, by=chair, request=rc)
    assert chosen.person == c and chosen.out_of_turn
    first.refresh_from_db()
    assert first.status == FloorRequest.Status.SPOKEN
    assert _queue(live_meeting) == [b.pk]
    assert AuditEntry.objects.filter(action="floor.grant").count() == 2


def test_asking_twice_withdrawing_and_asking_again(live_meeting, present):
    a = present[0]
    services.floor_request(meeting=live_meeting, by=a)
    with pytest.raises(ValidationError) as exc:
        services.floor_request(meeting=live_meeting, by=a)
    assert services.ALREADY_ASKED in exc.value.messages
    services.floor_withdraw(meeting=live_meeting, by=a)
    assert _queue(live_meeting) == []
    with pytest.raises(ValidationError):
        services.floor_withdraw(meeting=live_meeting, by=a)
    services.floor_request(meeting=live_meeting, by=a)
    assert _queue(live_meeting) == [a.pk]


def test_absent_member_cannot_ask_for_the_floor(live_meeting, councillor):
    with pytest.raises(ValidationError) as exc:
        services.floor_request(meeting=live_meeting, by=councillor)
    assert services.NOT_PRESENT in exc.value.messages


def test_unknown_kind_is_refused(live_meeting, present):
    with pytest.raises(ValidationError):
        services.floor_request(meeting=live_meeting, by=present[0], kind="filibuster")
    assert not FloorRequest.objects.exists()


def test_no_floor_while_suspended_or_without_item(live_meeting, present, chair):
    services.sitting_suspend(meeting=live_meeting, by=chair)
    with pytest.raises(ValidationError):
        services.floor_request(meeting=live_meeting, by=present[0])
    meeting_resume(meeting=live_meeting, by=chair)
    live_meeting.current_item = None
    live_meeting.save()
    with pytest.raises(ValidationError) as exc:
        services.floor_request(meeting=live_meeting, by=present[0])
    assert services.NO_CURRENT_ITEM in exc.value.messages


def test_grant_with_empty_queue_and_take_with_nobody_are_refused(live_meeting, chair):
    with pytest.raises(ValidationError) as exc:
        services.floor_grant(meeting=live_meeting, by=chair)
    assert services.QUEUE_EMPTY in exc.value.messages
    with pytest.raises(ValidationError) as exc:
        services.floor_take(meeting=live_meeting, by=chair)
    assert services.NOBODY_SPEAKING in exc.value.messages


def test_speaking_time_is_recorded_per_person_and_group(
    live_meeting, present, chair, group
):
    a, b = present[:2]
    services.floor_request(meeting=live_meeting, by=a)
    speech = services.floor_grant(meeting=live_meeting, by=chair)
    FloorRequest.objects.filter(pk=speech.pk).update(
        granted_at=timezone.now() - datetime.timedelta(seconds=95)
    )
    taken = services.floor_take(meeting=live_meeting, by=chair)
    assert 95 <= taken.seconds <= 97
    services.floor_request(meeting=live_meeting, by=b, kind=Kind.REPLY)
    services.floor_grant(meeting=live_meeting, by=chair)
    log = speaking_log(live_meeting)
    assert [(s.order, s.person_id, s.kind, s.group) for s in log] == [
        (1, a.pk, Kind.CONTRIBUTION, group.short_name),
        (2, b.pk, Kind.REPLY, group.short_name),
    ]
    people, groups = speaking_totals(live_meeting)
    assert people[a.display_name] >= 95
    assert groups[group.short_name] >= 95


def test_moving_to_another_item_ends_speech_and_drops_queue(
    live_meeting, items, present, chair
):
    a, b = present[:2]
    services.floor_request(meeting=live_meeting, by=a)
    services.floor_request(meeting=live_meeting, by=b)
    services.floor_grant(meeting=live_meeting, by=chair)
    services.sitting_move_to_item(meeting=live_meeting, item=items["third"], by=chair)
    statuses = dict(FloorRequest.objects.values_list("person_id", "status"))
    assert statuses == {
        a.pk: FloorRequest.Status.SPOKEN,
        b.pk: FloorRequest.Status.DROPPED,
    }
