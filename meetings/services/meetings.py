"""Meetings and their state machine: draft -> convened -> in session <-> suspended
-> closed.

Every transition locks the meeting row, asks the meeting whether it may take
it (``Meeting.can_transition``, whose table is ``Meeting.TRANSITIONS``) and is
refused with one of the messages below, changing nothing, when it may not. The
live transitions (open, suspend, resume, close) are called from the chair's
console and announce themselves to the sitting.
"""

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.models import Body
from council.permissions import Action, require
from council.refusals import Refusal
from meetings import live
from meetings.models import Meeting
from meetings.services import convocations, deadlines

State = Meeting.State

ILLEGAL_TRANSITION = _("This meeting cannot go from “%(current)s” to “%(target)s”.")
REMOTE_STATEMENT_MISSING = _(
    "A remote or hybrid sitting's convocation must state why it is held "
    "remotely, the tool used and how to connect."
)
EMPTY_AGENDA = _("A meeting without any agenda item cannot be convened.")
LATE_CONVOCATION = _(
    "Too late: the convocation must be sent at least %(days)s clear days before "
    "the sitting (last day: %(last_day)s). Mark it urgent and give the reason."
)
URGENCY_REASON_MISSING = _("An urgent convocation needs a written reason.")
NOT_EDITABLE = _("This meeting can no longer be changed.")
RESCHEDULE_AFTER_CONVENING = _(
    "The members were convened for this date and mode: a change needs a new "
    "meeting and a new convocation."
)
# What the convocation told the members; changing it would void the notice.
CONVENED_FIELDS = ("starts_at", "mode", "convocation_round")
END_BEFORE_START = _("The expected end must come after the start.")
EXTERNAL_LINK_MISSING = _("An external video link is required for this provider.")

MEETING_FIELDS = (
    "title",
    "starts_at",
    "expected_end",
    "mode",
    "place",
    "video_provider",
    "video_url",
    "livestream_url",
    "remote_reason",
    "remote_tool",
    "remote_instructions",
    "convocation_round",
)


def _check_transition(meeting: Meeting, name: str) -> str:
    """The state the transition leads to; refused if the meeting may not take it."""
    target = Meeting.TRANSITIONS[name][1]
    if not meeting.can_transition(name):
        raise Refusal(
            ILLEGAL_TRANSITION,
            code="illegal_transition",
            params={
                "current": meeting.get_state_display(),
                "target": State(target).label,
            },
        )
    return target


def _refresh(meeting: Meeting, fresh: Meeting) -> None:
    # Callers keep using the object they passed in.
    for field in fresh._meta.concrete_fields:
        setattr(meeting, field.attname, getattr(fresh, field.attname))


def _validate(meeting: Meeting) -> None:
    if meeting.expected_end and meeting.expected_end <= meeting.starts_at:
        raise Refusal({"expected_end": END_BEFORE_START})
    if (
        meeting.video_provider == Meeting.VideoProvider.EXTERNAL
        and not meeting.video_url
    ):
        raise Refusal({"video_url": EXTERNAL_LINK_MISSING})


def remote_statement_complete(meeting: Meeting) -> bool:
    if not meeting.is_remote_or_hybrid:
        return True
    return all(
        value.strip()
        for value in (
            meeting.remote_reason,
            meeting.remote_tool,
            meeting.remote_instructions,
        )
    )


def meeting_create(*, body: Body, by, **fields: Any) -> Meeting:
    require(by, Action.PREPARE_MEETINGS, body)
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise TypeError(f"Unknown meeting fields: {sorted(unknown)}")
    with transaction.atomic():
        # Lock the body so that two clerks never draw the same number.
        Body.objects.select_for_update().get(pk=body.pk)
        last = Meeting.objects.filter(body=body).aggregate(n=Max("number"))["n"]
        meeting = Meeting(body=body, number=(last or 0) + 1, **fields)
        _validate(meeting)
        meeting.full_clean(exclude=["current_item"])
        meeting.save()
        audit_record(
            by=by,
            action="meeting.create",
            obj=meeting,
            body=body,
            details={"number": meeting.number, "title": meeting.title},
        )
    return meeting


def meeting_update(*, meeting: Meeting, by, **fields: Any) -> Meeting:
    require(by, Action.PREPARE_MEETINGS, meeting.body)
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise TypeError(f"Unknown meeting fields: {sorted(unknown)}")
    with transaction.atomic():
        fresh = Meeting.objects.lock(meeting.pk)
        if not fresh.is_editable:
            raise Refusal(NOT_EDITABLE, code="not_editable")
        changed = {
            name: str(value)
            for name, value in fields.items()
            if getattr(fresh, name) != value
        }
        if fresh.state == State.CONVENED and set(changed) & set(CONVENED_FIELDS):
            raise Refusal(RESCHEDULE_AFTER_CONVENING, code="convened")
        for name, value in fields.items():
            setattr(fresh, name, value)
        _validate(fresh)
        if fresh.state == State.CONVENED and not remote_statement_complete(fresh):
            raise Refusal(REMOTE_STATEMENT_MISSING, code="remote_statement")
        fresh.full_clean(exclude=["current_item"])
        fresh.save()
        audit_record(
            by=by,
            action="meeting.update",
            obj=fresh,
            body=fresh.body,
            details={"changed": changed},
        )
        _refresh(meeting, fresh)
    return meeting


def convocation_last_day(meeting: Meeting) -> datetime.date:
    return deadlines.last_day_for(
        meeting.starts_at,
        meeting.body.time_zone,
        deadlines.required_convocation_days(
            third_convocation=meeting.convocation_round == 3
        ),
    )


def meeting_convene(
    *,
    meeting: Meeting,
    by,
    urgent: bool = False,
    urgency_reason: str = "",
    now: datetime.datetime | None = None,
) -> Meeting:
    """Convene the members: checks the legal notice, then queues their emails."""
    require(by, Action.PREPARE_MEETINGS, meeting.body)
    now = now or timezone.now()
    urgency_reason = urgency_reason.strip()
    with transaction.atomic():
        fresh = Meeting.objects.lock(meeting.pk)
        target = _check_transition(fresh, "convene")
        if not remote_statement_complete(fresh):
            raise Refusal(REMOTE_STATEMENT_MISSING, code="remote_statement")
        if not fresh.items.exists():
            raise Refusal(EMPTY_AGENDA, code="empty_agenda")
        zone = fresh.body.time_zone
        required = deadlines.required_convocation_days(
            third_convocation=fresh.convocation_round == 3
        )
        clear = deadlines.clear_days_between(now, fresh.starts_at, zone)
        in_time = clear >= required
        if not in_time and not urgent:
            raise Refusal(
                LATE_CONVOCATION,
                code="late",
                params={
                    "days": required,
                    "last_day": convocation_last_day(fresh).isoformat(),
                },
            )
        if urgent and not urgency_reason:
            raise Refusal(URGENCY_REASON_MISSING, code="urgency_reason")
        fresh.state = target
        fresh.convened_at = now
        fresh.convened_by = by
        fresh.urgent = bool(urgent)
        fresh.urgency_reason = urgency_reason if urgent else ""
        fresh.save(
            update_fields=[
                "state",
                "convened_at",
                "convened_by",
                "urgent",
                "urgency_reason",
            ]
        )
        recipients = convocations.convocations_prepare(meeting=fresh, now=now)
        audit_record(
            by=by,
            action="meeting.convene",
            obj=fresh,
            body=fresh.body,
            details={
                "clear_days": clear,
                "required_clear_days": required,
                "in_time": in_time,
                "urgent": bool(urgent),
                "urgency_reason": fresh.urgency_reason,
                "recipients": recipients,
            },
        )
        convocations.convocations_dispatch(meeting=fresh)
        _refresh(meeting, fresh)
    return meeting


def _live_transition(meeting: Meeting, by, name: str, **stamps: Any) -> Meeting:
    require(by, Action.CHAIR_SITTING, meeting.body)
    with transaction.atomic():
        fresh = Meeting.objects.lock(meeting.pk)
        previous = fresh.state
        fresh.state = _check_transition(fresh, name)
        update = ["state"]
        for field, value in stamps.items():
            if getattr(fresh, field) is None:
                setattr(fresh, field, value)
                update.append(field)
        if name == "close":
            # Nothing is discussed any more once the sitting is closed.
            fresh.current_item = None
            fresh.closed_session = False
            update += ["current_item", "closed_session"]
        fresh.save(update_fields=update)
        audit_record(
            by=by,
            action=f"meeting.{name}",
            obj=fresh,
            body=fresh.body,
            details={"from": previous, "to": fresh.state},
        )
        live.sitting_changed(fresh)
        _refresh(meeting, fresh)
    return meeting


def meeting_open(*, meeting: Meeting, by) -> Meeting:
    return _live_transition(meeting, by, "open", opened_at=timezone.now())


def meeting_suspend(*, meeting: Meeting, by) -> Meeting:
    return _live_transition(meeting, by, "suspend")


def meeting_resume(*, meeting: Meeting, by) -> Meeting:
    return _live_transition(meeting, by, "resume")


def meeting_close(*, meeting: Meeting, by) -> Meeting:
    return _live_transition(meeting, by, "close", closed_at=timezone.now())
