import dataclasses
import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from council.models import Mandate
from meetings.models import AttendanceEvent, Meeting
from minutes import services
from minutes.models import Minutes, MinutesVersion
from minutes.records import attendance_data, minutes_content
from minutes.text import outcome_lines
from tests.factories import (
    make_body,
    make_mandate,
    make_meeting,
    make_member,
    make_user,
)

pytestmark = pytest.mark.django_db


def _item(minutes, item):
    return next(i for i in minutes.content["items"] if i["id"] == item.pk)


def test_attendance_gives_arrival_and_departure_times(drafted, sitting):
    present = {p["name"]: p for p in drafted.content["attendance"]["present"]}
    councillor = sitting.present[1]
    assert set(present) == {p.display_name for p in sitting.present}
    assert present[councillor.display_name]["arrived"] == "2026-03-02T19:01:00+00:00"
    assert present[councillor.display_name]["left"] == "2026-03-02T20:35:00+00:00"
    assert present[sitting.present[0].display_name]["left"] is None
    assert present[sitting.present[0].display_name]["group"] == "GA"


def test_excused_and_absent_members_are_listed_apart(drafted, sitting):
    attendance = drafted.content["attendance"]
    assert [p["name"] for p in attendance["excused"]] == [sitting.excused.display_name]
    assert [p["name"] for p in attendance["absent"]] == [sitting.absent.display_name]


def test_recusal_rapporteur_and_debate_in_speaking_order(drafted, sitting):
    item = _item(drafted, sitting.budget)
    assert item["rapporteur"] == sitting.present[0].display_name
    assert item["recusals"] == [
        {"name": sitting.recused.display_name, "reason": "intérêt personnel"}
    ]
    assert [s["name"] for s in item["speeches"]] == ["First Speaker", "Second Speaker"]
    assert [s["seconds"] for s in item["speeches"]] == [240, 95]


def test_public_vote_names_those_against_and_abstaining(drafted, sitting):
    vote = _item(drafted, sitting.budget)["vote"]
    lines = outcome_lines(vote)
    text = " ".join(lines)
    assert (vote["yes"], vote["no"], vote["abstain"]) == (4, 1, 1)
    assert sitting.against.display_name in text
    assert sitting.abstaining.display_name in text
    assert "4" in lines[0] and "1" in lines[0]


def test_secret_ballot_keeps_totals_only(drafted, sitting):
    item = _item(drafted, sitting.appointment)
    assert item["closed"] is True
    assert item["vote"]["names_against"] == []
    assert item["vote"]["names_abstaining"] == []
    text = " ".join(outcome_lines(item["vote"]))
    assert sitting.against.display_name not in text
    assert "Camille Lenoir" in text and "5" in text


def test_decision_text_only_for_voted_items(drafted, sitting):
    assert _item(drafted, sitting.budget)["decision"].startswith("Article 1er")
    assert _item(drafted, sitting.info)["decision"] == ""
    assert _item(drafted, sitting.info)["vote"] is None


def test_unannounced_secret_result_is_not_written(
    sitting, outcomes, clerk, monkeypatch
):
    hidden = {
        k: dataclasses.replace(v, announced=False) if v.secret else v
        for k, v in outcomes.items()
    }
    monkeypatch.setattr("minutes.records.item_outcomes", lambda meeting: hidden)
    minutes = services.minutes_generate(meeting=sitting.meeting, by=clerk)
    lines = outcome_lines(_item(minutes, sitting.appointment)["vote"])
    assert lines[0] == "Secret ballot: the result has not been announced yet."
    assert "Camille Lenoir" not in " ".join(lines)


def test_open_sitting_cannot_be_minuted(body, clerk, outcomes):
    meeting = make_meeting(body, number=9, state=Meeting.State.IN_SESSION)
    with pytest.raises(ValidationError) as exc:
        services.minutes_generate(meeting=meeting, by=clerk)
    assert str(services.MEETING_NOT_CLOSED) in exc.value.messages
    assert not Minutes.objects.filter(meeting=meeting).exists()


def test_only_the_clerk_drafts(sitting, outcomes, councillor, director_general):
    for person in (councillor, director_general):
        with pytest.raises(PermissionDenied):
            services.minutes_generate(meeting=sitting.meeting, by=person)
    assert not Minutes.objects.exists()


def test_redraft_keeps_summaries_and_adds_a_version(drafted, sitting, clerk):
    services.minutes_edit(
        minutes=drafted, by=clerk, summaries={sitting.budget.pk: "Long débat."}
    )
    again = services.minutes_generate(meeting=sitting.meeting, by=clerk)
    assert _item(again, sitting.budget)["summary"] == "Long débat."
    # Nothing new in the record: no new version.
    assert MinutesVersion.objects.filter(minutes=again).count() == 2
    AttendanceEvent.objects.create(
        meeting=sitting.meeting,
        person=sitting.absent,
        kind=AttendanceEvent.Kind.ARRIVED,
        at=sitting.meeting.starts_at,
    )
    again = services.minutes_generate(meeting=sitting.meeting, by=clerk)
    assert MinutesVersion.objects.filter(minutes=again).count() == 3
    assert _item(again, sitting.budget)["summary"] == "Long débat."


def test_attendance_takes_members_in_office_on_the_bodys_sitting_day(settings):
    """A mandate starting or ending that day counts as the convocations count it."""
    settings.TIME_ZONE = "America/New_York"
    body = make_body(time_zone="Europe/Brussels")
    # 00:30 in Brussels on the 11th is still the 10th in New York.
    meeting = make_meeting(
        body,
        starts_at=datetime.datetime(
            2030, 3, 11, 0, 30, tzinfo=ZoneInfo(body.time_zone)
        ),
        state=Meeting.State.CLOSED,
    )
    sworn_in = make_user(last_name="Entrante")
    make_mandate(sworn_in, body, start=datetime.date(2030, 3, 11))
    make_mandate(sworn_in, body, Mandate.Role.CHAIR, start=datetime.date(2030, 3, 11))
    stepped_down = make_user(last_name="Sortante")
    make_mandate(
        stepped_down,
        body,
        start=datetime.date(2024, 1, 1),
        end=datetime.date(2030, 3, 10),
    )
    staying = make_member(body, last_name="Restante")
    for person in (sworn_in, stepped_down):
        AttendanceEvent.objects.create(
            meeting=meeting,
            person=person,
            kind=AttendanceEvent.Kind.ARRIVED,
            place=AttendanceEvent.Place.ROOM,
            at=meeting.starts_at,
        )
    attendance = attendance_data(meeting)
    present = {p["id"]: p["member"] for p in attendance["present"]}
    assert present == {sworn_in.pk: True, stepped_down.pk: False}
    assert [p["id"] for p in attendance["absent"]] == [staying.pk]
    content = minutes_content(meeting)
    assert content["signatories"]["chair"] == sworn_in.display_name
    assert timezone.localdate(meeting.starts_at) < meeting.sitting_day
