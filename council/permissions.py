"""The one place that answers "may this person do this on this body?".

Views, consumers, services, templates and the Django admin all ask here. A
role comes from a mandate in office on the day asked about; the administrator
flag grants only the management of bodies, people and mandates, never a look
at sealed ballots, and being a Django superuser grants nothing here either.
Two actions are never joined with ``or`` at a call site: the table names the
combination as an action of its own.
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
    CONFIRM_KEYHOLDER = "confirm_keyholder"  # make a deputy's mandate count
    ANNOUNCE_RESULT = "announce_result"
    OVERSEE = "oversee"  # the DG's oversight page and the audit log
    MANAGE_COUNCIL = "manage_council"  # bodies, people, mandates; asked with no body
    VIEW_PREPARATION = "view_preparation"  # unconvened drafts, the ten-meetings count
    RECORD_RECUSAL = "record_recusal"  # for another member, or cancel one
    MANAGE_CANDIDATES = "manage_candidates"  # the candidates of an appointment
    VIEW_DRAFT_MINUTES = "view_draft_minutes"  # minutes before the DG releases them
    PLACE_MINUTES = "place_minutes"  # put their adoption on the next sitting
    ADOPT_MINUTES = "adopt_minutes"  # record how the sitting adopted them
    VIEW_RECORDS = "view_records"  # decision records, their scans, print jobs


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
    Action.CONFIRM_KEYHOLDER: frozenset({Role.DIRECTOR_GENERAL}),
    Action.ANNOUNCE_RESULT: frozenset({Role.DIRECTOR_GENERAL}),
    Action.OVERSEE: frozenset(_DG),
    Action.MANAGE_COUNCIL: frozenset(),  # the administrator flag alone
    Action.VIEW_PREPARATION: frozenset(_STAFF),
    Action.RECORD_RECUSAL: frozenset({Role.CLERK, Role.CHAIR}),
    Action.MANAGE_CANDIDATES: frozenset({Role.CLERK, Role.CHAIR}),
    Action.VIEW_DRAFT_MINUTES: frozenset(_STAFF),
    Action.PLACE_MINUTES: frozenset({Role.CLERK, Role.DIRECTOR_GENERAL}),
    Action.ADOPT_MINUTES: frozenset({Role.CLERK, Role.CHAIR}),
    Action.VIEW_RECORDS: frozenset(_STAFF),
}

# The models of the Django admin that each action opens, with every verb
# (view, add, change, delete). The admin asks this through
# council.backends.CouncilPermissionBackend; no permission is stored.
ADMIN_MODELS_FOR_ACTION: dict[Action, frozenset[str]] = {
    Action.MANAGE_COUNCIL: frozenset(
        {"council.body", "council.user", "council.politicalgroup", "council.mandate"}
    ),
}
ADMIN_VERBS = ("view", "add", "change", "delete")

# Keyholders (whoever may hold a sealing key) are never made in the admin, by
# anyone: their mandates are set by the keyholder_mandate command alone, and a
# deputy's counts once the director-general confirms it (council.keyholders).
KEYHOLDER_ROLES: frozenset[str] = ROLES_FOR_ACTION[Action.HOLD_SEALING_KEY]
ADMIN_ASSIGNABLE_ROLES: tuple[str, ...] = tuple(
    role for role in Role.values if role not in KEYHOLDER_ROLES
)


def admin_may_edit_mandate(mandate: Mandate | None) -> bool:
    """Whether the admin may change or delete this mandate (None: add one)."""
    return mandate is None or mandate.role not in KEYHOLDER_ROLES


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


def can(
    user, action: Action, body: Body | None, on: datetime.date | None = None
) -> bool:
    """Whether the user may do the action on the body on the day (today).

    MANAGE_COUNCIL is held on no body (the administrator flag) and may be asked
    with ``body=None``; every other action is held on a body, and on none
    without one.
    """
    if action is Action.MANAGE_COUNCIL:
        return bool(getattr(user, "is_authenticated", False) and user.is_administrator)
    if body is None:
        return False
    return bool(roles(user, body, on) & ROLES_FOR_ACTION[action])


def allowed(
    user, body: Body | None, on: datetime.date | None = None
) -> dict[str, bool]:
    """Every action by name, for templates: ``{% if may.chair_sitting %}``."""
    return {action.value: can(user, action, body, on) for action in Action}


def require(user, action: Action, body: Body, on: datetime.date | None = None) -> None:
    """Raise PermissionDenied unless the user may do the action."""
    if not can(user, action, body, on):
        raise PermissionDenied(NOT_ALLOWED)


def admin_permissions(user) -> frozenset[str]:
    """The Django permissions ("council.change_mandate") the table gives the user."""
    if not getattr(user, "is_active", False):
        return frozenset()
    granted = set()
    for action, labels in ADMIN_MODELS_FOR_ACTION.items():
        if can(user, action, None):
            for label in labels:
                app_label, model = label.split(".")
                granted.update(f"{app_label}.{verb}_{model}" for verb in ADMIN_VERBS)
    return frozenset(granted)


def may_use_admin(user) -> bool:
    """Whether the Django admin opens: for what the table gives, or a superuser."""
    if not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or admin_permissions(user))


def is_member(user, body: Body, on: datetime.date | None = None) -> bool:
    return bool(roles(user, body, on) & _MEMBER)


def bodies_of(user, on: datetime.date | None = None):
    """Bodies where the user holds any mandate in office."""
    if not getattr(user, "is_authenticated", False):
        return Body.objects.none()
    return Body.objects.filter(
        mandates__in=Mandate.objects.in_office(on=on).filter(person=user)
    ).distinct()
