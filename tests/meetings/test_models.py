"""What a meeting and an agenda item answer about themselves."""

import pathlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.forms import ItemForm
from meetings.models import AgendaItem, Meeting
from meetings.services import agenda
from tests.factories import make_item, make_meeting

pytestmark = pytest.mark.django_db

State = Meeting.State


@pytest.fixture
def one_of_each(body):
    return {state: make_meeting(body, state=state) for state in State}


def _states(queryset) -> set[str]:
    return set(queryset.values_list("state", flat=True))


def test_published_meetings_are_every_one_but_the_drafts(one_of_each):
    assert _states(Meeting.objects.published()) == set(State) - {State.DRAFT}
    for meeting in one_of_each.values():
        published = Meeting.objects.published().filter(pk=meeting.pk).exists()
        assert published == meeting.is_published


def test_upcoming_meetings_are_convened_or_running(one_of_each):
    assert _states(Meeting.objects.upcoming()) == {
        State.CONVENED,
        State.IN_SESSION,
        State.SUSPENDED,
    }


def test_editable_meetings_are_those_whose_agenda_may_change(one_of_each):
    assert _states(Meeting.objects.editable()) == {State.DRAFT, State.CONVENED}
    for meeting in one_of_each.values():
        editable = Meeting.objects.editable().filter(pk=meeting.pk).exists()
        assert editable == meeting.is_editable


def test_the_filters_follow_the_body_relation(body, one_of_each):
    assert _states(body.meetings.published()) == set(State) - {State.DRAFT}


def test_lock_reads_the_meeting_with_its_body_and_current_item(body):
    meeting = make_meeting(body, state=State.IN_SESSION)
    item = make_item(meeting)
    Meeting.objects.filter(pk=meeting.pk).update(current_item=item)
    with CaptureQueriesContext(connection) as queries:
        locked = Meeting.objects.lock(meeting.pk)
        assert (locked.body.slug, locked.current_item.title) == (
            body.slug,
            item.title,
        )
    assert len(queries) == 1
    if connection.features.has_select_for_update_of:
        # Only the meeting's own row, and not its key (see the deadlock test
        # in test_concurrency.py).
        assert 'FOR NO KEY UPDATE OF "meetings_meeting"' in queries[0]["sql"]


def test_appointments_are_forced_closed_and_secret_by_one_rule(
    body, clerk, monkeypatch
):
    """The model's rule is the one the save, the form and the agenda apply."""

    def forced(kind):
        if kind == AgendaItem.Kind.URGENCY:
            return {"session": "closed", "vote_kind": "none"}
        return {}

    monkeypatch.setattr(AgendaItem, "forced_by_kind", staticmethod(forced))
    meeting = make_meeting(body)
    saved = make_item(meeting, kind=AgendaItem.Kind.URGENCY)
    assert (saved.session, saved.vote_kind) == ("closed", "none")
    appended = agenda.item_create(
        meeting=meeting, by=clerk, title="Urgence", kind=AgendaItem.Kind.URGENCY
    )
    appended.refresh_from_db()
    assert (appended.session, appended.vote_kind) == ("closed", "none")
    form = ItemForm(
        data={
            "title": "Urgence",
            "session": "public",
            "kind": "urgency",
            "vote_kind": "public",
        },
        members=body.members_in_office(),
    )
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["session"], form.cleaned_data["vote_kind"]) == (
        "closed",
        "none",
    )
    # Without a rule of its own, an appointment is now like any other item.
    item = make_item(meeting, kind=AgendaItem.Kind.APPOINTMENT)
    assert (item.session, item.vote_kind) == ("public", "public")


ROOT = pathlib.Path(__file__).resolve().parents[2]
# A meeting's draft state named outside the model, or a meeting's state
# compared to a string in a template.
DRAFT_SPELLINGS = re.compile(
    r"Meeting\.State\.DRAFT|meeting__state=|meeting\.state\s*[!=]=\s*[\"']"
)


@pytest.mark.django_db(False)
def test_only_the_model_knows_which_states_are_published():
    found = []
    for app in ("council", "meetings", "voting", "minutes", "templates"):
        for path in (ROOT / app).rglob("*"):
            if path.suffix not in {".py", ".html"} or "migrations" in path.parts:
                continue
            if path.is_relative_to(ROOT / "meetings" / "models"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if DRAFT_SPELLINGS.search(line) and "draft" in line.lower():
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []
