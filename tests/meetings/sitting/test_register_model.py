"""The register read model: presence, place, quorum and eligibility, read once."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from council.models import Mandate
from meetings.models import AttendanceEvent, Meeting, Recusal
from meetings.register import (
    Quorum,
    Register,
    Status,
    is_present_now,
    may_vote_now,
    place_now,
)
from meetings.services.convocations import convocations_prepare
from tests.factories import (
    arrive,
    make_body,
    make_event,
    make_mandate,
    make_member,
    make_user,
)

pytestmark = pytest.mark.django_db
Kind = AttendanceEvent.Kind
Place = AttendanceEvent.Place


def test_presence_and_place_follow_the_last_event(
    live_meeting, chair, councillor, other_councillors
):
    first, second = other_councillors[:2]
    arrive(live_meeting, chair, place=Place.ROOM)
    arrive(live_meeting, councillor)
    arrive(live_meeting, first)
    make_event(live_meeting, first, Kind.LEFT)
    make_event(live_meeting, second, Kind.EXCUSED)
    register = Register.of(live_meeting)
    assert register.is_present(chair.pk) and register.in_room(chair.pk)
    assert register.place_of(councillor.pk) == Place.REMOTE
    assert not register.in_room(councillor.pk)
    assert not register.is_present(first.pk) and register.place_of(first.pk) is None
    assert register.last_event(first.pk) == (Kind.LEFT, Place.REMOTE)
    assert register.last_event(second.pk) == (Kind.EXCUSED, Place.REMOTE)
    assert register.last_event(other_councillors[2].pk) is None
    assert register.present_ids() == {chair.pk, councillor.pk}
    assert register.room_ids() == {chair.pk}
    assert register.remote_ids() == {councillor.pk}
    assert register.status_of(chair.pk) is Status.ROOM
    assert register.status_of(councillor.pk) is Status.REMOTE
    assert register.status_of(first.pk) is Status.LEFT
    assert register.status_of(second.pk) is Status.EXCUSED
    assert register.status_of(other_councillors[2].pk) is Status.NOT_ARRIVED
    for person in (chair, councillor, first, second, other_councillors[2]):
        assert place_now(live_meeting, person.pk) == register.place_of(person.pk)
        assert is_present_now(live_meeting, person.pk) is register.is_present(person.pk)


def test_people_without_a_voting_mandate_are_present_but_not_counted(
    live_meeting, chair, clerk, director_general, outsider
):
    arrive(live_meeting, chair)
    arrive(live_meeting, director_general)
    arrive(live_meeting, outsider)
    register = Register.of(live_meeting)
    assert register.is_present(director_general.pk)
    assert register.is_present(outsider.pk)
    assert register.present_ids() == {chair.pk}
    assert director_general.pk not in register.in_office_ids
    assert clerk.pk not in register.in_office_ids
    assert register.quorum().present == 1


def test_the_register_as_it_stood_at_a_moment(live_meeting, chair, councillor):
    start = timezone.now() - datetime.timedelta(hours=1)

    def at(minutes):
        return start + datetime.timedelta(minutes=minutes)

    arrive(live_meeting, chair, at=at(0))
    arrive(live_meeting, councillor, at=at(10))
    make_event(live_meeting, councillor, Kind.LEFT, at=at(20))
    assert Register.of(live_meeting, at(5)).present_ids() == {chair.pk}
    assert Register.of(live_meeting, at(15)).present_ids() == {chair.pk, councillor.pk}
    assert Register.of(live_meeting, at(25)).present_ids() == {chair.pk}
    assert Register.of(live_meeting).present_ids() == {chair.pk}


def test_quorum_counts_members_in_office_and_leaves_out_the_recused(
    live_meeting, items, chair, councillor, other_councillors, clerk
):
    arrive(live_meeting, chair, councillor, *other_councillors[:3])
    arrive(live_meeting, clerk)  # not a member: never counted
    Recusal.objects.create(item=items["public"], person=councillor, at=timezone.now())
    register = Register.of(live_meeting)
    assert register.quorum() == Quorum(in_office=9, present=5, required=5, exempt=False)
    public = register.quorum(items["public"])
    assert (public.present, public.reached) == (4, False)
    assert register.quorum(items["closed"]).reached
    assert register.quorum(items["third"]).exempt
    assert register.recused_ids(items["public"]) == {councillor.pk}
    assert register.recused_ids(items["closed"]) == frozenset()
    assert register.eligible_ids(items["public"]) == register.present_ids() - {
        councillor.pk
    }
    assert not register.may_vote(items["public"], councillor.pk)
    assert register.may_vote(items["closed"], councillor.pk)
    assert public.as_dict() == {
        "in_office": 9,
        "present": 4,
        "required": 5,
        "exempt": False,
        "reached": False,
    }


@pytest.mark.parametrize("present", [2, 30])
def test_the_register_is_read_in_three_queries(
    live_meeting, items, body, chair, present
):
    others = [make_member(body) for _ in range(present)]
    for person in others:
        arrive(live_meeting, person)
        Recusal.objects.create(item=items["public"], person=person, at=timezone.now())
    meeting = Meeting.objects.select_related("body").get(pk=live_meeting.pk)
    with CaptureQueriesContext(connection) as queries:
        register = Register.of(meeting)
        register.quorum(items["public"])
        register.eligible_ids(items["closed"])
        register.room_ids()
    assert len(queries) == 3
    assert len(register.present_ids()) == present


def test_each_part_of_the_register_is_read_once_and_only_when_asked(
    live_meeting, items, chair
):
    arrive(live_meeting, chair)
    meeting = Meeting.objects.select_related("body").get(pk=live_meeting.pk)
    register = Register.of(meeting)
    with CaptureQueriesContext(connection) as queries:
        assert register.is_present(chair.pk)
        assert register.place_of(chair.pk) == Place.REMOTE
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        register.present_ids()
        register.quorum()
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        register.recused_ids(items["public"])
        register.eligible_ids(items["closed"])
    assert len(queries) == 1


def test_one_persons_checks_are_one_query(live_meeting, items, councillor):
    arrive(live_meeting, councillor)
    for check in (
        lambda: place_now(live_meeting, councillor.pk),
        lambda: is_present_now(live_meeting, councillor.pk),
        lambda: may_vote_now(items["public"], councillor),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert check()
        assert len(queries) == 1


def test_may_vote_now_agrees_with_the_register(
    live_meeting, items, chair, councillor, clerk, outsider
):
    item = items["public"]
    people = [chair, councillor, clerk, outsider]

    def agree():
        register = Register.of(live_meeting)
        for person in people:
            assert may_vote_now(item, person) is register.may_vote(item, person.pk)

    agree()
    arrive(live_meeting, *people)
    agree()
    make_event(live_meeting, chair, Kind.LEFT)
    Recusal.objects.create(item=item, person=councillor, at=timezone.now())
    agree()
    assert not may_vote_now(item, chair) and not may_vote_now(item, councillor)
    assert may_vote_now(items["closed"], councillor)
    assert may_vote_now(item, AnonymousUser()) is False
    assert may_vote_now(item, None) is False


def test_minutes_attendance_of_a_person(live_meeting, councillor, chair):
    start = timezone.now() - datetime.timedelta(hours=1)
    arrive(live_meeting, councillor, place=Place.ROOM, at=start)
    make_event(
        live_meeting, councillor, Kind.LEFT, at=start + datetime.timedelta(1 / 24)
    )
    make_event(live_meeting, chair, Kind.EXCUSED, at=start)
    register = Register.of(live_meeting)
    own = register.attendance_of(councillor.pk)
    assert own.attended and not own.excused
    assert own.arrived_at == start and own.left_at is not None
    assert own.place == Place.ROOM and own.departures == 1
    assert register.attendance_of(chair.pk).excused
    assert not register.attendance_of(chair.pk).attended
    assert register.person_ids() == {councillor.pk, chair.pk}


# ---- the sitting's day in the body's time zone -----------------------------------


def test_sitting_day_is_the_bodys_day_whatever_the_server_zone(settings):
    """Convocations and quorum agree on who is in office on the sitting's day."""
    settings.TIME_ZONE = "America/New_York"
    body = make_body(time_zone="Europe/Brussels")
    # 00:30 in Brussels on the 11th is still the 10th in New York.
    starts = datetime.datetime(2030, 3, 11, 0, 30, tzinfo=ZoneInfo("Europe/Brussels"))
    meeting = Meeting.objects.create(
        body=body,
        number=1,
        title="Séance de minuit",
        starts_at=starts,
        state=Meeting.State.IN_SESSION,
    )
    assert timezone.localdate(meeting.starts_at) == datetime.date(2030, 3, 10)
    assert meeting.sitting_day == datetime.date(2030, 3, 11)
    sworn_in = make_user(first_name="Entrante")
    make_mandate(sworn_in, body, start=datetime.date(2030, 3, 11))
    stepped_down = make_user(first_name="Sortante")
    make_mandate(
        stepped_down,
        body,
        start=datetime.date(2024, 1, 1),
        end=datetime.date(2030, 3, 10),
    )
    staying = make_member(body)
    expected = {sworn_in.pk, staying.pk}

    assert set(meeting.members_in_office().values_list("pk", flat=True)) == expected
    convocations_prepare(meeting=meeting, now=timezone.now())
    convened = set(meeting.convocations.values_list("person_id", flat=True))
    register = Register.of(meeting)
    assert convened == register.in_office_ids == expected
    assert register.quorum().in_office == 2

    arrive(meeting, sworn_in, stepped_down)
    item = meeting.items.create(position=1, title="Point")
    register = Register.of(meeting)
    assert register.present_ids() == {sworn_in.pk}
    assert register.quorum(item).present == 1
    assert may_vote_now(item, sworn_in)
    assert not may_vote_now(item, stepped_down)
    assert Mandate.objects.filter(person=stepped_down).exists()
