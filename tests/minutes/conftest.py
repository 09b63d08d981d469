"""A recorded, closed sitting with patched outcomes and speaking log."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone, translation

from meetings.live import Speech
from meetings.models import AgendaItem, AttendanceEvent, Meeting, Recusal
from minutes import services
from tests.factories import arrive, leave, make_event, make_item, make_meeting
from voting.results import ItemOutcome, Round

START = datetime.datetime(2026, 3, 2, 19, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast has a dozen people; real hashing would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_pages(settings):
    """Pages in English (the site default is French); PDFs keep the body's language."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def at(minutes: int) -> datetime.datetime:
    return START + datetime.timedelta(minutes=minutes)


@pytest.fixture
def sitting(body, cast, other_councillors):
    chair, councillor = cast["chair"], cast["councillor"]
    meeting = make_meeting(
        body,
        number=1,
        title="Séance n° 1",
        starts_at=START,
        state=Meeting.State.CLOSED,
        mode=Meeting.Mode.HYBRID,
        place="Hôtel de ville, salle du conseil",
        opened_at=at(2),
        closed_at=at(150),
    )
    budget = make_item(
        meeting,
        title="Modification budgétaire n° 1 de l’exercice 2026",
        rapporteur=chair,
        explanatory_note="Vu le Code de la démocratie locale;",
        draft_decision="Article 1er. Le conseil approuve la modification budgétaire.",
    )
    appointment = make_item(
        meeting,
        title="Désignation d’un directeur financier",
        kind=AgendaItem.Kind.APPOINTMENT,
        draft_decision="Le conseil désigne le directeur financier.",
    )
    info = make_item(
        meeting,
        title="Communications du collège",
        kind=AgendaItem.Kind.INFORMATION,
        vote_kind=AgendaItem.VoteKind.NONE,
    )
    present = [chair, councillor, *other_councillors[:5]]
    for index, person in enumerate(present):
        place = (
            AttendanceEvent.Place.ROOM if index % 2 else AttendanceEvent.Place.REMOTE
        )
        arrive(meeting, person, place=place, at=at(index))
    leave(meeting, councillor, at=at(95))
    excused = other_councillors[5]
    make_event(meeting, excused, AttendanceEvent.Kind.EXCUSED, at=at(0), note="maladie")
    recused = other_councillors[0]
    Recusal.objects.create(
        item=budget, person=recused, reason="intérêt personnel", at=at(10)
    )
    return SimpleNamespace(
        meeting=meeting,
        budget=budget,
        appointment=appointment,
        info=info,
        present=present,
        excused=excused,
        absent=other_councillors[6],
        recused=recused,
        against=other_councillors[1],
        abstaining=other_councillors[2],
    )


@pytest.fixture
def outcomes(monkeypatch, sitting):
    """Voting's and the live sitting's contracts, answered as they will be."""
    against, abstaining = sitting.against, sitting.abstaining
    result = {
        sitting.budget.pk: ItemOutcome(
            item_id=sitting.budget.pk,
            secret=False,
            decision="adopted",
            yes=4,
            no=1,
            abstain=1,
            participants=6,
            names_against=[against.display_name],
            names_abstaining=[abstaining.display_name],
        ),
        sitting.appointment.pk: ItemOutcome(
            item_id=sitting.appointment.pk,
            secret=True,
            decision="appointed",
            participants=7,
            blank=1,
            appointed="Camille Lenoir",
            # A careless producer must not make names leak from a secret ballot.
            names_against=[against.display_name],
            rounds=[
                Round(number=1, counts={"Camille Lenoir": 5, "Paul Henry": 1}, blank=1)
            ],
        ),
    }
    speeches = [
        Speech(
            sitting.budget.pk,
            2,
            sitting.present[1].pk,
            "Second Speaker",
            "GA",
            95,
            "reply",
        ),
        Speech(
            sitting.budget.pk,
            1,
            sitting.present[0].pk,
            "First Speaker",
            "GA",
            240,
            "contribution",
        ),
    ]
    monkeypatch.setattr(
        "minutes.records.item_outcomes",
        lambda meeting: dict(result) if meeting.pk == sitting.meeting.pk else {},
    )
    monkeypatch.setattr(
        "minutes.records.speaking_log",
        lambda meeting: list(speeches) if meeting.pk == sitting.meeting.pk else [],
    )
    return result


@pytest.fixture
def drafted(sitting, outcomes, clerk):
    return services.minutes_generate(meeting=sitting.meeting, by=clerk)


@pytest.fixture
def issued(drafted, sitting, clerk):
    return services.decision_records_issue(meeting=sitting.meeting, by=clerk)


@pytest.fixture
def next_meeting(body):
    return make_meeting(
        body,
        number=2,
        title="Séance suivante",
        starts_at=START + datetime.timedelta(days=28),
        state=Meeting.State.CONVENED,
    )


def now():
    return timezone.now()
