import datetime
import os

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from council.models import AuditEntry
from meetings.forms import ItemForm
from meetings.models import AgendaItem, ItemSubmission, Meeting
from meetings.services import agenda as svc
from meetings.services import submissions
from meetings.services.documents import document_upload
from minutes import services as minutes_services
from minutes.models import Minutes
from tests.factories import make_user
from tests.meetings.conftest import pdf_bytes, set_state

pytestmark = pytest.mark.django_db


def _titles(meeting):
    return list(meeting.items.order_by("position").values_list("position", "title"))


@pytest.fixture
def five(meeting, clerk):
    return [
        svc.item_create(meeting=meeting, by=clerk, title=f"Point {letter}")
        for letter in "ABCDE"
    ]


def test_items_are_numbered_in_order(meeting, five):
    assert _titles(meeting) == [(n, f"Point {c}") for n, c in zip(range(1, 6), "ABCDE")]


def test_appointment_items_are_forced_closed_and_secret(meeting, clerk):
    item = svc.item_create(
        meeting=meeting,
        by=clerk,
        title="Désignation d'un directeur financier",
        kind=AgendaItem.Kind.APPOINTMENT,
        session=AgendaItem.Session.PUBLIC,
        vote_kind=AgendaItem.VoteKind.PUBLIC,
    )
    item.refresh_from_db()
    assert item.session == AgendaItem.Session.CLOSED
    assert item.vote_kind == AgendaItem.VoteKind.SECRET
    svc.item_update(item=item, by=clerk, session="public", vote_kind="none")
    item.refresh_from_db()
    assert (item.session, item.vote_kind) == ("closed", "secret")


def test_item_form_forces_appointments_too(body):
    form = ItemForm(
        data={
            "title": "Nomination",
            "session": "public",
            "kind": "appointment",
            "vote_kind": "public",
        },
        members=body.members_in_office(),
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["session"] == "closed"
    assert form.cleaned_data["vote_kind"] == "secret"


def test_rapporteur_must_be_a_member(meeting, clerk, councillor):
    stranger = make_user()
    with pytest.raises(ValidationError):
        svc.item_create(meeting=meeting, by=clerk, title="X", rapporteur=stranger)
    assert not meeting.items.exists()
    item = svc.item_create(meeting=meeting, by=clerk, title="X", rapporteur=councillor)
    assert item.rapporteur == councillor


def test_move_up_and_down(meeting, five, clerk):
    svc.item_move(item=five[2], by=clerk, direction=svc.UP)
    assert [t for _, t in _titles(meeting)] == [f"Point {c}" for c in "ACBDE"]
    svc.item_move(item=five[0], by=clerk, direction=svc.DOWN)
    assert [t for _, t in _titles(meeting)] == [f"Point {c}" for c in "CABDE"]
    assert [n for n, _ in _titles(meeting)] == [1, 2, 3, 4, 5]
    assert AuditEntry.objects.filter(action="agenda_item.move").count() == 2


@pytest.mark.parametrize(("index", "direction"), [(0, "up"), (4, "down")])
def test_cannot_move_past_the_ends(meeting, five, clerk, index, direction):
    before = _titles(meeting)
    with pytest.raises(ValidationError) as refused:
        svc.item_move(item=five[index], by=clerk, direction=direction)
    assert refused.value.messages == [str(svc.CANNOT_MOVE)]
    assert _titles(meeting) == before


def test_bad_direction_is_refused(meeting, five, clerk):
    with pytest.raises(ValidationError):
        svc.item_move(item=five[1], by=clerk, direction="sideways")


def test_moves_from_stale_pages_never_lose_or_duplicate_numbers(meeting, five, clerk):
    # Two clerks loaded the page when E was last; both move it up.
    stale_a = AgendaItem.objects.get(pk=five[4].pk)
    stale_b = AgendaItem.objects.get(pk=five[4].pk)
    svc.item_move(item=stale_a, by=clerk, direction=svc.UP)
    svc.item_move(item=stale_b, by=clerk, direction=svc.UP)
    assert [t for _, t in _titles(meeting)] == [f"Point {c}" for c in "ABECD"]
    assert [n for n, _ in _titles(meeting)] == [1, 2, 3, 4, 5]


def test_deleting_renumbers_without_gaps(meeting, five, clerk):
    svc.item_delete(item=five[1], by=clerk)
    assert _titles(meeting) == [
        (1, "Point A"),
        (2, "Point C"),
        (3, "Point D"),
        (4, "Point E"),
    ]
    svc.item_create(meeting=meeting, by=clerk, title="Point F")
    assert _titles(meeting)[-1] == (5, "Point F")


@pytest.mark.parametrize(
    "state", [Meeting.State.IN_SESSION, Meeting.State.SUSPENDED, Meeting.State.CLOSED]
)
def test_agenda_is_locked_once_the_sitting_opened(meeting, five, clerk, state):
    set_state(meeting, state)
    before = _titles(meeting)
    for call in (
        lambda: svc.item_create(meeting=meeting, by=clerk, title="Tard"),
        lambda: svc.item_move(item=five[1], by=clerk, direction="up"),
        lambda: svc.item_update(item=five[1], by=clerk, title="Changé"),
        lambda: svc.item_delete(item=five[1], by=clerk),
    ):
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.messages == [str(svc.AGENDA_LOCKED)]
    assert _titles(meeting) == before


def test_only_the_clerk_changes_the_agenda(meeting, five, chair, director_general):
    for intruder in (chair, director_general):
        with pytest.raises(PermissionDenied):
            svc.item_create(meeting=meeting, by=intruder, title="X")
        with pytest.raises(PermissionDenied):
            svc.item_move(item=five[1], by=intruder, direction="up")
    assert meeting.items.count() == 5


def test_deleting_an_item_removes_its_files_after_commit(
    meeting, clerk, media_root, django_capture_on_commit_callbacks
):
    item = svc.item_create(meeting=meeting, by=clerk, title="Avec annexe")
    document = document_upload(item=item, by=clerk, name="a.pdf", data=pdf_bytes())
    path = document.file.path
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        svc.item_delete(item=item, by=clerk)
    assert os.path.exists(path)  # not before the commit
    for callback in callbacks:
        callback()
    assert not os.path.exists(path)


def test_members_items_and_the_minutes_join_the_agenda_through_item_append(
    meeting, clerk, councillor, monkeypatch
):
    appended = []
    real = svc.item_append

    def spy(**kwargs):
        item = real(**kwargs)
        appended.append(item.title)
        return item

    monkeypatch.setattr(svc, "item_append", spy)
    svc.item_create(meeting=meeting, by=clerk, title="Point du greffe")
    submission = ItemSubmission.objects.create(
        meeting=meeting,
        submitted_by=councillor,
        submitted_at=timezone.now(),
        title="Point d'un membre",
        explanatory_note="Note",
    )
    submissions.submission_accept(submission=submission, by=clerk)
    earlier = Meeting.objects.create(
        body=meeting.body,
        number=99,
        title="Séance passée",
        starts_at=meeting.starts_at - datetime.timedelta(days=30),
        state=Meeting.State.CLOSED,
    )
    minutes = Minutes.objects.create(
        meeting=earlier, state=Minutes.State.AWAITING_ADOPTION
    )
    placed = minutes_services.minutes_place(minutes=minutes, by=clerk)
    assert appended == ["Point du greffe", "Point d'un membre", placed.title]
    assert _titles(meeting) == [
        (1, "Point du greffe"),
        (2, "Point d'un membre"),
        (3, placed.title),
    ]
    assert AuditEntry.objects.filter(action="agenda_item.create").count() == 3
