"""Members' own items (L1122-24): submitted in time, accepted or declined."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import Action, require
from council.refusals import Refusal
from meetings.models import AgendaItem, ItemSubmission, Meeting
from meetings.services import agenda, deadlines

SUBMISSION_TOO_LATE = _(
    "Too late: members' items must reach the clerk at least %(days)s clear days "
    "before the sitting (last day: %(last_day)s)."
)
SUBMISSION_NOT_OPEN = _("Items can be submitted only to a convened meeting.")
ALREADY_DECIDED = _("The clerk has already decided on this item.")
DECLINE_REASON_MISSING = _("Give the reason for declining the item.")
TITLE_MISSING = _("Give the item a title.")
NOTE_MISSING = _("Explain the item in a note.")


def submission_last_day(meeting: Meeting) -> datetime.date:
    return deadlines.last_day_for(
        meeting.starts_at, meeting.body.time_zone, deadlines.SUBMISSION_CLEAR_DAYS
    )


def submission_is_open(meeting: Meeting, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return meeting.state == Meeting.State.CONVENED and deadlines.is_in_time(
        sent=now,
        sitting=meeting.starts_at,
        zone=meeting.body.time_zone,
        clear_days=deadlines.SUBMISSION_CLEAR_DAYS,
    )


def submission_create(
    *,
    meeting: Meeting,
    by,
    title: str,
    explanatory_note: str,
    draft_decision: str = "",
    now: datetime.datetime | None = None,
) -> ItemSubmission:
    require(by, Action.SUBMIT_ITEM, meeting.body)
    now = now or timezone.now()
    title, explanatory_note = title.strip(), explanatory_note.strip()
    if not title:
        raise Refusal({"title": TITLE_MISSING})
    if not explanatory_note:
        raise Refusal({"explanatory_note": NOTE_MISSING})
    with transaction.atomic():
        locked = Meeting.objects.lock(meeting.pk)
        if locked.state != Meeting.State.CONVENED:
            raise Refusal(SUBMISSION_NOT_OPEN, code="not_open")
        if not submission_is_open(locked, now):
            raise Refusal(
                SUBMISSION_TOO_LATE,
                code="late",
                params={
                    "days": deadlines.SUBMISSION_CLEAR_DAYS,
                    "last_day": submission_last_day(locked).isoformat(),
                },
            )
        submission = ItemSubmission.objects.create(
            meeting=locked,
            submitted_by=by,
            submitted_at=now,
            title=title[:500],
            explanatory_note=explanatory_note,
            draft_decision=draft_decision.strip(),
        )
        audit_record(
            by=by,
            action="item_submission.create",
            obj=submission,
            body=locked.body,
            details={"meeting": locked.pk, "title": submission.title},
        )
    return submission


def _lock_pending(submission: ItemSubmission) -> tuple[ItemSubmission, Meeting]:
    meeting = Meeting.objects.lock(submission.meeting_id)
    fresh = ItemSubmission.objects.select_for_update().get(pk=submission.pk)
    if fresh.status != ItemSubmission.Status.PENDING:
        raise Refusal(ALREADY_DECIDED, code="decided")
    return fresh, meeting


def submission_accept(*, submission: ItemSubmission, by) -> ItemSubmission:
    """Put the member's item at the end of the agenda, in public session."""
    require(by, Action.PREPARE_MEETINGS, submission.meeting.body)
    with transaction.atomic():
        fresh, meeting = _lock_pending(submission)
        if not meeting.is_editable:
            raise Refusal(SUBMISSION_NOT_OPEN, code="not_open")
        item = agenda.item_append(
            meeting=meeting,
            by=by,
            title=fresh.title,
            kind=AgendaItem.Kind.DELIBERATION,
            rapporteur=fresh.submitted_by,
            explanatory_note=fresh.explanatory_note,
            draft_decision=fresh.draft_decision,
        )
        fresh.status = ItemSubmission.Status.ACCEPTED
        fresh.decided_by = by
        fresh.decided_at = timezone.now()
        fresh.item = item
        fresh.save(update_fields=["status", "decided_by", "decided_at", "item"])
        audit_record(
            by=by,
            action="item_submission.accept",
            obj=fresh,
            body=meeting.body,
            details={"item": item.pk, "position": item.position},
        )
    return fresh


def submission_decline(
    *, submission: ItemSubmission, by, reason: str
) -> ItemSubmission:
    require(by, Action.PREPARE_MEETINGS, submission.meeting.body)
    reason = reason.strip()
    if not reason:
        raise Refusal({"reason": DECLINE_REASON_MISSING})
    with transaction.atomic():
        fresh, meeting = _lock_pending(submission)
        fresh.status = ItemSubmission.Status.DECLINED
        fresh.decided_by = by
        fresh.decided_at = timezone.now()
        fresh.decline_reason = reason
        fresh.save(
            update_fields=["status", "decided_by", "decided_at", "decline_reason"]
        )
        audit_record(
            by=by,
            action="item_submission.decline",
            obj=fresh,
            body=meeting.body,
            details={"reason": reason},
        )
    return fresh
