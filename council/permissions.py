"""The one place that answers "may this person do this on this body?".

Views, consumers and services all ask here. A role comes from a mandate in
office on the day asked about; the administrator flag grants only the
management of bodies, people and mandates, never a look at sealed ballots,
and being a Django superuser grants nothing here either.
"""

import datetime
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.models import Body, Mandate

Role = Mandate.Role


class Action(StrEnum):
    VIEW_MEMBER_AREA = "view_member_area"  # agenda, documents, closed items
    VIEW_CLOSED_SESSION = "view_closed_session"
    VIEW_BIRTH_DATES = "view_birth_dates"
    ATTEND = "attend"  # be registered present in a sitting
    REQUEST_FLOOR = "request_floor"
    VOTE = "vote"
    SUBMIT_ITEM = "submit_item"
    CHAIR_SITTING = "chair_sitting"  # open/suspend/close, floor, closed session
    OPEN_VOTE = "open_vote"
    PREPARE_MEETINGS = "prepare_meetings"  # meetings, agenda, documents, convene
    RECORD_ATTENDANCE = "record_attendance"  # in-room presence, proxy votes
    DRAFT_MINUTES = "draft_minutes"
    PRINT_RECORDS = "print_records"
    RECORD_SIGNATURES = "record_signatures"
    APPROVE_MINUTES = "approve_minutes"
    HOLD_SEALING_KEY = "hold_sealing_key"  # set up a key, unseal
    ANNOUNCE_RESULT = "announce_result"
    OVERSEE = "oversee"  # the DG's oversight page and the audit log
    MANAGE_COUNCIL = "manage_council"  # bodies, people, mandates


_MEMBER = {Role.COUNCILLOR, Role.CHAIR}
_DG = {Role.DIRECTOR_GENERAL, Role.DEPUTY_DIRECTOR_GENERAL}
_STAFF = _DG | {Role.CLERK}

ROLES_FOR_ACTION: dict[Action, frozenset[str]] = {
    Action.VIEW_MEMBER_AREA: frozenset(_MEMBER | _STAFF),
    Action.VIEW_CLOSED_SESSION: frozenset(_MEMBER | _STAFF),
    Action.VIEW_BIRTH_DATES: frozenset(_STAFF),
    Action.ATTEND: frozenset(_MEMBER),
    Action.REQUEST_FLOOR: frozenset(_MEMBER),
    Action.VOTE: frozenset(_MEMBER),
    Action.SUBMIT_ITEM: frozenset(_MEMBER),
    Action.CHAIR_SITTING: frozenset({Role.CHAIR}),
    Action.OPEN_VOTE: frozenset({Role.CHAIR}),
    Action.PREPARE_MEETINGS: frozenset({Role.CLERK}),
    Action.RECORD_ATTENDANCE: frozenset({Role.CLERK}),
    Action.DRAFT_MINUTES: frozenset({Role.CLERK}),
    Action.PRINT_RECORDS: frozenset({Role.CLERK}),
    Action.RECORD_SIGNATURES: frozenset({Role.CLERK}),
    Action.APPROVE_MINUTES: frozenset({Role.DIRECTOR_GENERAL}),
    Action.HOLD_SEALING_KEY: frozenset(_DG),
    Action.ANNOUNCE_RESULT: frozenset({Role.DIRECTOR_GENERAL}),
    Action.OVERSEE: frozenset(_DG),
    Action.MANAGE_COUNCIL: frozenset(),  # the administrator flag alone
}

NOT_ALLOWED = _("You are not allowed to do this.")


def roles(user, body: Body, on: datetime.date | None = None) -> set[str]:
    """The roles the user holds on the body on the day (today by default)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = getattr(user, "_council_roles", None)
    key = (body.pk, on or timezone.localdate())
    if cache is None:
        cache = user._council_roles = {}
    if key not in cache:
        cache[key] = set(
            Mandate.objects.in_office(on=key[1])
            .filter(person=user, body_id=body.pk)
            .values_list("role", flat=True)
        )
    return cache[key]


def remember_roles(
    user, body: Body, held: set[str], on: datetime.date | None = None
) -> None:
    """Seed the per-request cache from mandates the caller already loaded."""
    if getattr(user, "is_authenticated", False):
        cache = getattr(user, "_council_roles", None)
        if cache is None:
            cache = user._council_roles = {}
        cache[(body.pk, on or timezone.localdate())] = set(held)


def can(user, action: Action, body: Body, on: datetime.date | None = None) -> bool:
    if action is Action.MANAGE_COUNCIL:
        return bool(getattr(user, "is_authenticated", False) and user.is_administrator)
    return bool(roles(user, body, on) & ROLES_FOR_ACTION[action])


def require(user, action: Action, body: Body, on: datetime.date | None = None) -> None:
    """Raise PermissionDenied unless the user may do the action."""
    if not can(user, action, body, on):
        raise PermissionDenied(NOT_ALLOWED)


def is_member(user, body: Body, on: datetime.date | None = None) -> bool:
    return bool(roles(user, body, on) & _MEMBER)


def bodies_of(user, on: datetime.date | None = None):
    """Bodies where the user holds any mandate in office."""
    if not getattr(user, "is_authenticated", False):
        return Body.objects.none()
    return Body.objects.filter(
        mandates__in=Mandate.objects.in_office(on=on).filter(person=user)
    ).distinct()
