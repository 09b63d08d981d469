"""Services of the live sitting: the chair's console, the register and the floor.

Every write checks the role of the person asking (council.permissions), runs
in one transaction, writes an audit entry and calls ``sitting_changed`` so that
every screen follows.
"""

import datetime
from collections.abc import Collection

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.models import Mandate
from council.permissions import NOT_ALLOWED, Action, can, require
from council.refusals import Refusal
from meetings.live import queue_order, sitting_changed
from meetings.models import (
    AgendaItem,
    AttendanceEvent,
    FloorRequest,
    LiveConnection,
    Meeting,
    Recusal,
)
from meetings.open_votes import close_votes as open_votes_close
from meetings.open_votes import open_votes
from meetings.register import Register, is_present_now, place_now, presence_now
from meetings.services.meetings import (
    meeting_close,
    meeting_suspend,
)

NOT_IN_SESSION = _("The sitting is not in session.")
NOT_LIVE = _("The sitting is not open.")
ITEM_OF_ANOTHER_MEETING = _("This item is not on the agenda of this meeting.")
ITEM_NEEDS_CLOSED_SESSION = _(
    "This item is discussed in closed session: enter closed session first."
)
CLOSED_ITEM_IS_CURRENT = _(
    "The current item is a closed-session item: move to a public item first."
)
ALREADY_CLOSED_SESSION = _("The sitting is already in closed session.")
NOT_CLOSED_SESSION = _("The sitting is not in closed session.")
NO_CURRENT_ITEM = _("No item is under discussion.")
NOT_PRESENT = _("Only members present in the sitting may ask for the floor.")
RECUSED = _("You are recused for this item.")
ALREADY_ASKED = _("You have already asked for the floor on this item.")
NO_REQUEST = _("There is no such request for the floor.")
QUEUE_EMPTY = _("Nobody is waiting for the floor.")
NOBODY_SPEAKING = _("Nobody has the floor.")
NOT_A_MEMBER = _("This person is not a member of the body.")
ALREADY_PRESENT = _("This member is already recorded present.")
NOT_PRESENT_NOW = _("This member is not recorded present.")
ALREADY_RECUSED = _("This member is already recused for this item.")
NOT_RECUSED = _("This member is not recused for this item.")
BAD_KIND = _("Unknown kind of request.")
OPEN_VOTE_AT_CLOSE = _(
    "A vote is still open: close it first, or confirm that closing the sitting "
    "closes it with the ballots cast so far."
)
OPEN_VOTES_CHANGED = _(
    "A vote was opened after you confirmed: nothing was closed. Review the open "
    "votes and confirm again."
)
SITTING_CLOSED = _(
    "The sitting is closed: its register and recusals can no longer change."
)
PRESENCE_BY_THE_CLERK = _(
    "This sitting is held in person: the clerk records who is present in the room."
)


def _lock(meeting: Meeting) -> Meeting:
    """Re-read the meeting under a row lock: console actions don't interleave."""
    return Meeting.objects.lock(meeting.pk)


def _audit(by, action: str, meeting: Meeting, obj=None, **details) -> None:
    audit_record(
        by=by,
        action=action,
        obj=obj if obj is not None else meeting,
        body=meeting.body,
        details={"meeting": meeting.pk, **details},
    )


def _is_member(person, meeting: Meeting) -> bool:
    return meeting.members_in_office().filter(pk=person.pk).exists()


def _group_of(person, meeting: Meeting) -> str:
    mandate = (
        Mandate.objects.in_office(on=meeting.sitting_day)
        .voting()
        .filter(person=person, body=meeting.body, group__isnull=False)
        .select_related("group")
        .first()
    )
    return mandate.group.short_name if mandate else ""


def _end_speech(meeting: Meeting, now: datetime.datetime) -> FloorRequest | None:
    speech = FloorRequest.objects.filter(
        meeting=meeting, status=FloorRequest.Status.SPEAKING
    ).first()
    if speech is not None:
        speech.status = FloorRequest.Status.SPOKEN
        speech.ended_at = now
        speech.seconds = max(0, int((now - speech.granted_at).total_seconds()))
        speech.save(update_fields=["status", "ended_at", "seconds"])
    return speech


def _drop_waiting(meeting: Meeting, **filters) -> int:
    return FloorRequest.objects.filter(
        meeting=meeting, status=FloorRequest.Status.WAITING, **filters
    ).update(status=FloorRequest.Status.DROPPED)


# ---- the chair's console -------------------------------------------------------------


# The state machine itself (who may, from which state, the audit entry) is
# meetings.services.meetings'; opening and resuming are its functions alone,
# suspending and closing add what the floor needs.


@transaction.atomic
def sitting_suspend(*, meeting: Meeting, by) -> Meeting:
    meeting = meeting_suspend(meeting=meeting, by=by)
    _end_speech(meeting, timezone.now())
    return meeting


@transaction.atomic
def sitting_close(
    *, meeting: Meeting, by, close_votes: Collection[int] = ()
) -> Meeting:
    """Close the sitting; a sitting does not close with a vote open.

    ``close_votes`` are the open votes the chair's confirmation named: they
    are closed first, with the ballots cast so far. Without it an open vote
    refuses the close, and so does a vote opened since the confirmation.
    """
    require(by, Action.CHAIR_SITTING, meeting.body)
    # The votes are closed (and locked) before the meeting's row is: a cast
    # holds its poll, then the meeting.
    open_ids = {vote.id for vote in open_votes(meeting)}
    if open_ids - set(close_votes):
        raise Refusal(OPEN_VOTES_CHANGED if close_votes else OPEN_VOTE_AT_CLOSE)
    open_votes_close(vote_ids=sorted(open_ids), by=by)
    _lock(meeting)
    if open_votes(meeting):  # opened between the list and the lock
        raise Refusal(OPEN_VOTES_CHANGED if close_votes else OPEN_VOTE_AT_CLOSE)
    meeting = meeting_close(meeting=meeting, by=by)
    _end_speech(meeting, meeting.closed_at or timezone.now())
    _drop_waiting(meeting)
    return meeting


@transaction.atomic
def sitting_move_to_item(*, meeting: Meeting, item: AgendaItem, by) -> Meeting:
    require(by, Action.CHAIR_SITTING, meeting.body)
    meeting = _lock(meeting)
    if not meeting.is_live:
        raise Refusal(NOT_LIVE)
    if item.meeting_id != meeting.pk:
        raise Refusal(ITEM_OF_ANOTHER_MEETING)
    # The public must never see a closed item: the chair declares closed
    # session first, explicitly (L1122-21).
    if item.is_closed_session and not meeting.closed_session:
        raise Refusal(ITEM_NEEDS_CLOSED_SESSION)
    if meeting.current_item_id != item.pk:
        _end_speech(meeting, timezone.now())
        _drop_waiting(meeting)
    meeting.current_item = item
    meeting.save(update_fields=["current_item"])
    _audit(by, "sitting.move_to_item", meeting, item=item.pk)
    sitting_changed(meeting)
    return meeting


@transaction.atomic
def sitting_enter_closed_session(*, meeting: Meeting, by) -> Meeting:
    require(by, Action.CHAIR_SITTING, meeting.body)
    meeting = _lock(meeting)
    if not meeting.is_live:
        raise Refusal(NOT_LIVE)
    if meeting.closed_session:
        raise Refusal(ALREADY_CLOSED_SESSION)
    meeting.closed_session = True
    meeting.save(update_fields=["closed_session"])
    _audit(by, "sitting.closed_session.enter", meeting)
    sitting_changed(meeting)
    return meeting


@transaction.atomic
def sitting_leave_closed_session(*, meeting: Meeting, by) -> Meeting:
    require(by, Action.CHAIR_SITTING, meeting.body)
    meeting = _lock(meeting)
    if not meeting.closed_session:
        raise Refusal(NOT_CLOSED_SESSION)
    if meeting.current_item is not None and meeting.current_item.is_closed_session:
        raise Refusal(CLOSED_ITEM_IS_CURRENT)
    meeting.closed_session = False
    meeting.save(update_fields=["closed_session"])
    _audit(by, "sitting.closed_session.leave", meeting)
    sitting_changed(meeting)
    return meeting


# ---- the floor -----------------------------------------------------------------------


@transaction.atomic
def floor_request(
    *, meeting: Meeting, by, kind: str = FloorRequest.Kind.CONTRIBUTION
) -> FloorRequest:
    require(by, Action.REQUEST_FLOOR, meeting.body)
    if kind not in FloorRequest.Kind.values:
        raise Refusal(BAD_KIND)
    meeting = _lock(meeting)
    if meeting.state != Meeting.State.IN_SESSION:
        raise Refusal(NOT_IN_SESSION)
    item = meeting.current_item
    if item is None:
        raise Refusal(NO_CURRENT_ITEM)
    register = Register.of(meeting)
    if not register.is_present(by.pk):
        raise Refusal(NOT_PRESENT)
    if by.pk in register.recused_ids(item):
        raise Refusal(RECUSED)
    if FloorRequest.objects.filter(
        item=item, person=by, status=FloorRequest.Status.WAITING
    ).exists():
        raise Refusal(ALREADY_ASKED)
    request = FloorRequest.objects.create(
        meeting=meeting,
        item=item,
        person=by,
        group=_group_of(by, meeting),
        kind=kind,
        requested_at=timezone.now(),
    )
    _audit(by, "floor.request", meeting, obj=request, kind=kind, item=item.pk)
    sitting_changed(meeting)
    return request


@transaction.atomic
def floor_withdraw(*, meeting: Meeting, by) -> FloorRequest:
    """Withdraw one's own waiting request on the current item."""
    meeting = _lock(meeting)
    request = FloorRequest.objects.filter(
        meeting=meeting,
        item_id=meeting.current_item_id,
        person=by,
        status=FloorRequest.Status.WAITING,
    ).first()
    if request is None:
        raise Refusal(NO_REQUEST)
    request.status = FloorRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    _audit(by, "floor.withdraw", meeting, obj=request)
    sitting_changed(meeting)
    return request


@transaction.atomic
def floor_grant(
    *, meeting: Meeting, by, request: FloorRequest | None = None
) -> FloorRequest:
    """Give the floor to the next in the queue, or to a chosen request."""
    require(by, Action.CHAIR_SITTING, meeting.body)
    meeting = _lock(meeting)
    if meeting.state != Meeting.State.IN_SESSION:
        raise Refusal(NOT_IN_SESSION)
    waiting = queue_order(
        list(
            FloorRequest.objects.filter(
                meeting=meeting,
                item_id=meeting.current_item_id,
                status=FloorRequest.Status.WAITING,
            )
        )
    )
    if request is None:
        if not waiting:
            raise Refusal(QUEUE_EMPTY)
        chosen = waiting[0]
    else:
        chosen = next((r for r in waiting if r.pk == request.pk), None)
        if chosen is None:
            raise Refusal(NO_REQUEST)
    now = timezone.now()
    _end_speech(meeting, now)
    chosen.status = FloorRequest.Status.SPEAKING
    chosen.granted_at = now
    chosen.granted_by = by
    chosen.limit_seconds = meeting.body.speaking_time_seconds
    chosen.out_of_turn = chosen.pk != waiting[0].pk
    chosen.save(
        update_fields=[
            "status",
            "granted_at",
            "granted_by",
            "limit_seconds",
            "out_of_turn",
        ]
    )
    _audit(
        by,
        "floor.grant",
        meeting,
        obj=chosen,
        person=chosen.person_id,
        out_of_turn=chosen.out_of_turn,
    )
    sitting_changed(meeting)
    return chosen


@transaction.atomic
def floor_take(*, meeting: Meeting, by) -> FloorRequest:
    """End the current speech; its length is recorded for the minutes."""
    require(by, Action.CHAIR_SITTING, meeting.body)
    meeting = _lock(meeting)
    speech = _end_speech(meeting, timezone.now())
    if speech is None:
        raise Refusal(NOBODY_SPEAKING)
    _audit(by, "floor.take", meeting, obj=speech, seconds=speech.seconds)
    sitting_changed(meeting)
    return speech


# ---- the register --------------------------------------------------------------------


def _record(
    meeting: Meeting,
    person,
    kind: str,
    place: str,
    cause: str,
    at: datetime.datetime,
    by=None,
    note: str = "",
) -> AttendanceEvent:
    event = AttendanceEvent.objects.create(
        meeting=meeting,
        person=person,
        kind=kind,
        place=place,
        cause=cause,
        at=at,
        recorded_by=by if getattr(by, "pk", None) else None,
        note=note,
    )
    if kind != AttendanceEvent.Kind.ARRIVED:
        # Someone who is not here cannot stay in the queue.
        _drop_waiting(meeting, person=person)
        speech = FloorRequest.objects.filter(
            meeting=meeting, person=person, status=FloorRequest.Status.SPEAKING
        ).exists()
        if speech:
            _end_speech(meeting, at)
    _audit(
        by,
        f"attendance.{kind}",
        meeting,
        obj=event,
        person=person.pk,
        place=place,
        cause=cause,
    )
    sitting_changed(meeting)
    return event


@transaction.atomic
def attendance_join(*, meeting: Meeting, by) -> AttendanceEvent | None:
    """A member opened the sitting: recorded present (remote) unless already so.

    Refused in an in-person sitting: presence in the room is the clerk's to
    record, and there is no remote presence to record.
    """
    if not can(by, Action.ATTEND, meeting.body):
        return None
    if not meeting.is_remote_or_hybrid:
        raise Refusal(PRESENCE_BY_THE_CLERK)
    if is_present_now(meeting, by.pk):
        # Most connects are reconnects: answer them without queueing for the
        # meeting's lock; the check is repeated under it below.
        return None
    meeting = _lock(meeting)
    if not meeting.is_live:
        return None
    if is_present_now(meeting, by.pk):
        return None
    return _record(
        meeting,
        by,
        AttendanceEvent.Kind.ARRIVED,
        AttendanceEvent.Place.REMOTE,
        AttendanceEvent.Cause.JOINED,
        timezone.now(),
        by=by,
    )


@transaction.atomic
def attendance_leave(*, meeting: Meeting, by) -> AttendanceEvent | None:
    """A member leaves the sitting (the button): recorded absent now.

    Not in an in-person sitting, where the clerk records who leaves the room.
    """
    if not meeting.is_remote_or_hybrid:
        raise Refusal(PRESENCE_BY_THE_CLERK)
    meeting = _lock(meeting)
    place = place_now(meeting, by.pk)
    if place is None:
        raise Refusal(NOT_PRESENT_NOW)
    return _record(
        meeting,
        by,
        AttendanceEvent.Kind.LEFT,
        place,
        AttendanceEvent.Cause.LEFT_BUTTON,
        timezone.now(),
        by=by,
    )


@transaction.atomic
def attendance_connection_lost(
    *, meeting: Meeting, person, disconnected_at: datetime.datetime
) -> AttendanceEvent | None:
    """After the grace period: absent since the disconnect, unless back online.

    Back online means a lease of the member on this sitting that has not
    expired (any page of the sitting holds one). Only a remote presence ends
    this way; the clerk records departures from the room. Asked twice, it
    records once.
    """
    meeting = _lock(meeting)
    if not meeting.is_live:
        return None
    if LiveConnection.objects.online().filter(meeting=meeting, person=person).exists():
        return None
    place, since = presence_now(meeting, person.pk)
    if place != AttendanceEvent.Place.REMOTE:
        return None
    # Never before the presence it ends (an arrival after the lost page).
    at = max(disconnected_at, since) if since else disconnected_at
    return _record(
        meeting,
        person,
        AttendanceEvent.Kind.LEFT,
        AttendanceEvent.Place.REMOTE,
        AttendanceEvent.Cause.CONNECTION_LOST,
        at,
        by=None,
    )


@transaction.atomic
def attendance_record(
    *,
    meeting: Meeting,
    person,
    kind: str,
    by,
    place: str = AttendanceEvent.Place.ROOM,
    note: str = "",
) -> AttendanceEvent:
    """The clerk records an arrival in the room, a departure or an excuse."""
    require(by, Action.RECORD_ATTENDANCE, meeting.body)
    if kind not in AttendanceEvent.Kind.values:
        raise Refusal(BAD_KIND)
    if place not in AttendanceEvent.Place.values:
        raise Refusal(BAD_KIND)
    meeting = _lock(meeting)
    if meeting.state == Meeting.State.CLOSED:
        raise Refusal(SITTING_CLOSED)
    if not _is_member(person, meeting):
        raise Refusal(NOT_A_MEMBER)
    now_at = place_now(meeting, person.pk)
    if kind == AttendanceEvent.Kind.ARRIVED and now_at == place:
        raise Refusal(ALREADY_PRESENT)
    if kind == AttendanceEvent.Kind.LEFT:
        if now_at is None:
            raise Refusal(NOT_PRESENT_NOW)
        place = now_at
    return _record(
        meeting,
        person,
        kind,
        place,
        AttendanceEvent.Cause.CLERK,
        timezone.now(),
        by=by,
        note=note[:300],
    )


def _may_record_recusal(by, person, meeting: Meeting) -> bool:
    return by.pk == person.pk or can(by, Action.RECORD_RECUSAL, meeting.body)


@transaction.atomic
def recusal_record(*, item: AgendaItem, person, by, reason: str = "") -> Recusal:
    """A member with a direct interest leaves the item (L1122-19)."""
    meeting = item.meeting
    if not _may_record_recusal(by, person, meeting):
        raise PermissionDenied(NOT_ALLOWED)
    meeting = _lock(meeting)
    if meeting.state == Meeting.State.CLOSED:
        raise Refusal(SITTING_CLOSED)
    if not _is_member(person, meeting):
        raise Refusal(NOT_A_MEMBER)
    try:
        with transaction.atomic():
            recusal = Recusal.objects.create(
                item=item,
                person=person,
                reason=reason[:300],
                at=timezone.now(),
                recorded_by=by,
            )
    except IntegrityError:
        raise Refusal(ALREADY_RECUSED) from None
    _drop_waiting(meeting, person=person, item=item)
    if (
        meeting.current_item_id == item.pk
        and FloorRequest.objects.filter(
            meeting=meeting, person=person, status=FloorRequest.Status.SPEAKING
        ).exists()
    ):
        _end_speech(meeting, timezone.now())
    _audit(by, "recusal.record", meeting, obj=recusal, person=person.pk, item=item.pk)
    sitting_changed(meeting)
    return recusal


@transaction.atomic
def recusal_cancel(*, item: AgendaItem, person, by) -> None:
    """Undo a recusal recorded in error (the clerk or the chair)."""
    meeting = item.meeting
    require(by, Action.RECORD_RECUSAL, meeting.body)
    meeting = _lock(meeting)
    if meeting.state == Meeting.State.CLOSED:
        raise Refusal(SITTING_CLOSED)
    recusal = Recusal.objects.filter(item=item, person=person).first()
    if recusal is None:
        raise Refusal(NOT_RECUSED)
    _audit(by, "recusal.cancel", meeting, person=person.pk, item=item.pk)
    recusal.delete()
    sitting_changed(meeting)


def grace_seconds() -> float:
    return float(getattr(settings, "ATTENDANCE_GRACE_SECONDS", 60))
