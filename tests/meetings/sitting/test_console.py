"""Every console action, for every role: only the chair may."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from council.models import AuditEntry
from meetings.models import AgendaItem, FloorRequest, Meeting
from meetings.services import sitting as services
from meetings.services.meetings import ILLEGAL_TRANSITION, meeting_open, meeting_resume
from tests.conftest import client_for
from tests.factories import arrive

pytestmark = pytest.mark.django_db

OTHER_ROLES = [
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
    "administrator",
    "outsider",
]


def _waiting(meeting, person):
    arrive(meeting, person)
    return services.floor_request(meeting=meeting, by=person)


def _speaking(meeting, person, chair):
    _waiting(meeting, person)
    return services.floor_grant(meeting=meeting, by=chair)


# action -> (state to prepare, POST data, check after the chair's action)
CASES = {
    "open": (
        lambda m, c: None,
        lambda m, items: {},
        lambda m: m.state == Meeting.State.IN_SESSION and m.opened_at is not None,
    ),
    "suspend": (
        "live",
        lambda m, items: {},
        lambda m: m.state == Meeting.State.SUSPENDED,
    ),
    "resume": (
        "suspended",
        lambda m, items: {},
        lambda m: m.state == Meeting.State.IN_SESSION,
    ),
    "close": (
        "live",
        lambda m, items: {"confirm": "1"},
        lambda m: m.state == Meeting.State.CLOSED and m.closed_at is not None,
    ),
    "move": (
        "live",
        lambda m, items: {"item": items["third"].pk},
        lambda m: m.current_item.position == 3,
    ),
    "closed-on": ("live", lambda m, items: {}, lambda m: m.closed_session),
    "closed-off": ("closed", lambda m, items: {}, lambda m: not m.closed_session),
    "grant": (
        "queue",
        lambda m, items: {},
        lambda m: FloorRequest.objects.filter(
            meeting=m, status=FloorRequest.Status.SPEAKING
        ).exists(),
    ),
    "take": (
        "speaking",
        lambda m, items: {},
        lambda m: (
            not FloorRequest.objects.filter(
                meeting=m, status=FloorRequest.Status.SPEAKING
            ).exists()
        ),
    ),
}


def _prepare(kind, meeting, items, chair, councillor):
    if kind is None or callable(kind):
        return
    meeting.state = Meeting.State.IN_SESSION
    meeting.current_item = items["public"]
    if kind == "suspended":
        meeting.state = Meeting.State.SUSPENDED
    if kind == "closed":
        meeting.closed_session = True
    meeting.save()
    if kind == "queue":
        _waiting(meeting, councillor)
    if kind == "speaking":
        _speaking(meeting, councillor, chair)


@pytest.mark.parametrize("action", CASES)
def test_chair_runs_every_console_action(action, meeting, items, chair, councillor):
    prepare, data, check = CASES[action]
    _prepare(prepare, meeting, items, chair, councillor)
    before = AuditEntry.objects.count()
    response = client_for(chair).post(
        reverse("meetings:sitting_console_action", args=[meeting.pk, action]),
        data(meeting, items),
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert check(meeting)
    assert AuditEntry.objects.count() > before


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("action", CASES)
def test_no_one_else_runs_a_console_action(
    action, role, cast, meeting, items, chair, councillor
):
    prepare, data, check = CASES[action]
    _prepare(prepare, meeting, items, chair, councillor)
    response = client_for(cast[role]).post(
        reverse("meetings:sitting_console_action", args=[meeting.pk, action]),
        data(meeting, items),
    )
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert not check(meeting)


@pytest.mark.parametrize("action", CASES)
def test_anonymous_console_action_goes_to_login(action, meeting, items):
    response = client_for(None).post(
        reverse("meetings:sitting_console_action", args=[meeting.pk, action])
    )
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "service",
    [
        meeting_open,
        services.sitting_suspend,
        meeting_resume,
        services.sitting_close,
        services.sitting_enter_closed_session,
        services.sitting_leave_closed_session,
        services.floor_grant,
        services.floor_take,
    ],
)
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_console_services_refuse_everyone_but_the_chair(service, role, cast, meeting):
    with pytest.raises(PermissionDenied):
        service(meeting=meeting, by=cast[role])


def test_state_checks_have_clear_errors(meeting, items, chair):
    def refused(service) -> ValidationError:
        with pytest.raises(ValidationError) as exc:
            service(meeting=meeting, by=chair)
        assert exc.value.code == "illegal_transition"
        return exc.value

    state = Meeting.State.CONVENED
    meeting.refresh_from_db()
    assert meeting.state == state
    refused(services.sitting_suspend)
    meeting.state = Meeting.State.DRAFT
    meeting.save()
    error = refused(meeting_open)
    assert str(Meeting.State.DRAFT.label) in error.messages[0]
    assert str(Meeting.State.IN_SESSION.label) in error.messages[0]
    meeting.state = Meeting.State.CONVENED
    meeting.save()
    meeting_open(meeting=meeting, by=chair)
    refused(meeting_resume)
    services.sitting_close(meeting=meeting, by=chair)
    refused(services.sitting_close)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.CLOSED


def test_closed_item_needs_closed_session_declared_first(live_meeting, items, chair):
    with pytest.raises(ValidationError) as exc:
        services.sitting_move_to_item(
            meeting=live_meeting, item=items["closed"], by=chair
        )
    assert services.ITEM_NEEDS_CLOSED_SESSION in exc.value.messages
    services.sitting_enter_closed_session(meeting=live_meeting, by=chair)
    services.sitting_move_to_item(meeting=live_meeting, item=items["closed"], by=chair)
    with pytest.raises(ValidationError) as exc:
        services.sitting_leave_closed_session(meeting=live_meeting, by=chair)
    assert services.CLOSED_ITEM_IS_CURRENT in exc.value.messages


def test_item_of_another_meeting_is_refused(live_meeting, body, chair):
    other = Meeting.objects.create(
        body=body, number=2, title="Autre", starts_at=timezone.now()
    )
    foreign = AgendaItem.objects.create(meeting=other, position=1, title="X")
    with pytest.raises(ValidationError):
        services.sitting_move_to_item(meeting=live_meeting, item=foreign, by=chair)


def test_console_shows_the_error_and_changes_nothing(meeting, chair):
    client = client_for(chair)
    response = client.post(
        reverse("meetings:sitting_console_action", args=[meeting.pk, "suspend"]),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.CONVENED
    with translation.override("en"):
        expected = ILLEGAL_TRANSITION % {
            "current": Meeting.State.CONVENED.label,
            "target": Meeting.State.SUSPENDED.label,
        }
    assert escape(expected) in response.content.decode()


def test_unknown_console_action_is_not_found(meeting, chair):
    response = client_for(chair).post(
        reverse("meetings:sitting_console_action", args=[meeting.pk, "dissolve"])
    )
    assert response.status_code == 404


def _console_buttons(chair, meeting) -> dict[str, bool]:
    """Each console button's label -> whether it can be pressed."""
    html = (
        client_for(chair)
        .get(
            reverse("meetings:sitting_console", args=[meeting.pk]),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        .content.decode()
    )
    buttons = re.findall(
        r"<button type=\"submit\"[^>]*?( disabled)?>([^<]+)</button>", html
    )
    return {label.strip(): not disabled for disabled, label in buttons}


def test_console_offers_only_the_transitions_the_state_allows(meeting, items, chair):
    buttons = _console_buttons(chair, meeting)
    assert buttons["Open the sitting"] and not buttons["Suspend"]
    assert not buttons["Resume"] and not buttons["Close the sitting"]
    assert not buttons["Enter closed session"]
    meeting_open(meeting=meeting, by=chair)
    buttons = _console_buttons(chair, meeting)
    assert not buttons["Open the sitting"] and buttons["Suspend"]
    assert buttons["Close the sitting"] and buttons["Enter closed session"]
    assert not buttons["Leave closed session"]
    services.sitting_suspend(meeting=meeting, by=chair)
    buttons = _console_buttons(chair, meeting)
    assert buttons["Resume"] and not buttons["Suspend"]
