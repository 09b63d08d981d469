import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from council.models import AuditEntry
from meetings.models import Meeting
from meetings.services import meetings as svc
from tests.conftest import client_for
from tests.factories import make_item
from tests.meetings.conftest import set_state

pytestmark = pytest.mark.django_db

State = Meeting.State
ALL_STATES = list(State)
LEGAL = {
    ("convene", State.DRAFT): State.CONVENED,
    ("open", State.CONVENED): State.IN_SESSION,
    ("suspend", State.IN_SESSION): State.SUSPENDED,
    ("resume", State.SUSPENDED): State.IN_SESSION,
    ("close", State.IN_SESSION): State.CLOSED,
    ("close", State.SUSPENDED): State.CLOSED,
}
SERVICES = {
    "convene": svc.meeting_convene,
    "open": svc.meeting_open,
    "suspend": svc.meeting_suspend,
    "resume": svc.meeting_resume,
    "close": svc.meeting_close,
}


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(svc.live, "sitting_changed", lambda m: seen.append(m.pk))
    return seen


def _actor(name, clerk, chair):
    return clerk if name == "convene" else chair


@pytest.mark.parametrize("name", list(SERVICES))
@pytest.mark.parametrize("state", ALL_STATES)
def test_every_transition_from_every_state(
    name, state, meeting, members, clerk, chair, calls
):
    make_item(meeting)
    set_state(meeting, state)
    before = AuditEntry.objects.count()
    expected = LEGAL.get((name, state))
    if expected is None:
        with pytest.raises(ValidationError) as refused:
            SERVICES[name](meeting=meeting, by=_actor(name, clerk, chair))
        assert refused.value.code == "illegal_transition"
        assert refused.value.messages == [
            str(svc.ILLEGAL_TRANSITION)
            % {
                "current": State(state).label,
                "target": State(Meeting.TRANSITIONS[name][1]).label,
            }
        ]
        meeting.refresh_from_db()
        assert meeting.state == state
        assert AuditEntry.objects.count() == before
        assert calls == []
    else:
        SERVICES[name](meeting=meeting, by=_actor(name, clerk, chair))
        meeting.refresh_from_db()
        assert meeting.state == expected
        entry = AuditEntry.objects.order_by("-sequence").first()
        assert entry.action == f"meeting.{name}"
        assert entry.object_id == str(meeting.pk)
        assert calls == ([] if name == "convene" else [meeting.pk])


def test_the_whole_life_of_a_meeting_stamps_its_times(meeting, members, clerk, chair):
    make_item(meeting)
    svc.meeting_convene(meeting=meeting, by=clerk)
    assert meeting.convened_at is not None and meeting.convened_by == clerk
    svc.meeting_open(meeting=meeting, by=chair)
    opened = meeting.opened_at
    assert opened is not None
    svc.meeting_suspend(meeting=meeting, by=chair)
    svc.meeting_resume(meeting=meeting, by=chair)
    assert meeting.opened_at == opened  # a resumption is not a new opening
    svc.meeting_close(meeting=meeting, by=chair)
    meeting.refresh_from_db()
    assert meeting.state == State.CLOSED
    assert meeting.closed_at >= opened


@pytest.mark.parametrize("name", ["open", "suspend", "resume", "close"])
def test_only_the_chair_runs_the_sitting(name, meeting, clerk, councillor, chair):
    source = next(state for (n, state) in LEGAL if n == name)
    set_state(meeting, source)
    for intruder in (clerk, councillor):
        with pytest.raises(PermissionDenied):
            SERVICES[name](meeting=meeting, by=intruder)
    meeting.refresh_from_db()
    assert meeting.state == source


def test_only_the_clerk_convenes(meeting, agenda, chair, councillor, director_general):
    for intruder in (chair, councillor, director_general):
        with pytest.raises(PermissionDenied):
            svc.meeting_convene(meeting=meeting, by=intruder)
    meeting.refresh_from_db()
    assert meeting.state == State.DRAFT


@pytest.mark.parametrize("mode", [Meeting.Mode.REMOTE, Meeting.Mode.HYBRID])
@pytest.mark.parametrize(
    "missing", ["remote_reason", "remote_tool", "remote_instructions"]
)
def test_remote_or_hybrid_convocation_needs_the_statement(
    mode, missing, meeting, agenda, clerk
):
    statement = {
        "remote_reason": "Mesures sanitaires",
        "remote_tool": "Jitsi Meet",
        "remote_instructions": "Cliquez sur le lien de la convocation.",
    }
    statement[missing] = "   "
    Meeting.objects.filter(pk=meeting.pk).update(mode=mode, **statement)
    meeting.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        svc.meeting_convene(meeting=meeting, by=clerk)
    assert refused.value.messages == [str(svc.REMOTE_STATEMENT_MISSING)]
    meeting.refresh_from_db()
    assert meeting.state == State.DRAFT
    setattr(meeting, missing, "Complété")
    meeting.save()
    svc.meeting_convene(meeting=meeting, by=clerk)
    assert meeting.state == State.CONVENED


def test_in_person_meeting_needs_no_remote_statement(meeting, agenda, clerk):
    svc.meeting_convene(meeting=meeting, by=clerk)
    assert meeting.state == State.CONVENED


def test_empty_agenda_cannot_be_convened(meeting, clerk):
    with pytest.raises(ValidationError) as refused:
        svc.meeting_convene(meeting=meeting, by=clerk)
    assert refused.value.messages == [str(svc.EMPTY_AGENDA)]
    meeting.refresh_from_db()
    assert meeting.state == State.DRAFT


def test_meeting_numbers_follow_each_other_per_body(body, clerk):
    start = timezone.now() + datetime.timedelta(days=30)
    first = svc.meeting_create(body=body, by=clerk, title="A", starts_at=start)
    second = svc.meeting_create(body=body, by=clerk, title="B", starts_at=start)
    assert (first.number, second.number) == (1, 2)
    assert first.state == State.DRAFT


def test_expected_end_before_start_is_refused(body, clerk):
    start = timezone.now() + datetime.timedelta(days=30)
    with pytest.raises(ValidationError):
        svc.meeting_create(
            body=body,
            by=clerk,
            title="A",
            starts_at=start,
            expected_end=start - datetime.timedelta(hours=1),
        )
    assert not Meeting.objects.exists()


def test_closed_meeting_can_no_longer_be_edited(meeting, clerk):
    set_state(meeting, State.CLOSED)
    with pytest.raises(ValidationError) as refused:
        svc.meeting_update(meeting=meeting, by=clerk, title="Autre")
    assert refused.value.messages == [str(svc.NOT_EDITABLE)]
    meeting.refresh_from_db()
    assert meeting.title != "Autre"


def test_convened_meeting_keeps_its_date_mode_and_round(meeting, agenda, clerk):
    svc.meeting_convene(meeting=meeting, by=clerk)
    for change in (
        {"starts_at": meeting.starts_at + datetime.timedelta(days=1)},
        {"mode": Meeting.Mode.REMOTE},
        {"convocation_round": 3},
    ):
        with pytest.raises(ValidationError) as refused:
            svc.meeting_update(meeting=meeting, by=clerk, **change)
        assert refused.value.messages == [str(svc.RESCHEDULE_AFTER_CONVENING)]
    svc.meeting_update(
        meeting=meeting,
        by=clerk,
        place="Salle des mariages",
        starts_at=meeting.starts_at,
    )
    meeting.refresh_from_db()
    assert meeting.place == "Salle des mariages"


@pytest.mark.parametrize("name", list(SERVICES))
@pytest.mark.parametrize("state", ALL_STATES)
def test_the_meeting_says_which_transitions_its_state_allows(name, state):
    meeting = Meeting(state=state)
    assert meeting.can_transition(name) == ((name, state) in LEGAL)
    assert getattr(meeting, f"can_{name}")() == ((name, state) in LEGAL)
    if (name, state) in LEGAL:
        assert Meeting.TRANSITIONS[name][1] == LEGAL[(name, state)]


def test_console_buttons_ask_the_meeting(meeting, chair, monkeypatch):
    make_item(meeting)
    set_state(meeting, State.CONVENED)
    # A table where nothing opens and a convened meeting may close: the
    # console follows the model's answer, not a rule of its own.
    table = dict(Meeting.TRANSITIONS)
    table["open"] = (frozenset(), State.IN_SESSION)
    table["close"] = (frozenset({State.CONVENED}), State.CLOSED)
    monkeypatch.setattr(Meeting, "TRANSITIONS", table)
    html = (
        client_for(chair)
        .get(
            reverse("meetings:sitting_console", args=[meeting.pk]),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        .content.decode()
    )
    buttons = {
        label.strip(): not disabled
        for disabled, label in re.findall(
            r"<button type=\"submit\"[^>]*?( disabled)?>([^<]+)</button>", html
        )
    }
    assert not buttons["Open the sitting"]
    assert buttons["Close the sitting"]
    assert not buttons["Suspend"] and not buttons["Resume"]
