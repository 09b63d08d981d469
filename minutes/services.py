"""Writes: drafting, approving and adopting minutes; registering, printing,
signing and correcting decision records; background print jobs."""

import copy
import datetime
import logging
import zoneinfo

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from council.audit import AuditHead, audit_anchor, audit_record
from council.models import Body
from council.permissions import Action, require
from council.refusals import Refusal
from council.tasks import audit_anchor_soon, enqueue_on_commit
from meetings.live import sitting_changed
from meetings.models import AgendaItem, Meeting
from meetings.services import agenda
from minutes import pdf, records
from minutes.models import (
    DecisionRecord,
    Minutes,
    MinutesVersion,
    Objection,
    PrintJob,
    fingerprint_of,
)

logger = logging.getLogger(__name__)

MEETING_NOT_CLOSED = gettext_lazy("The sitting must be closed before its minutes.")
NOT_DRAFT = gettext_lazy(
    "Only draft minutes can be changed; these were approved by the DG."
)
ALREADY_ADOPTED = gettext_lazy("Adopted minutes can no longer be changed.")
NOT_AWAITING = gettext_lazy("These minutes are not awaiting adoption.")
UNKNOWN_ITEM = gettext_lazy("This item is not part of the minutes.")
SUMMARY_TOO_LONG = gettext_lazy("A summary may hold at most 20,000 characters.")
OBJECTION_EMPTY = gettext_lazy("Write what you object to.")
OBJECTION_TOO_LATE = gettext_lazy(
    "Objections are lodged before or during the sitting that approves the minutes."
)
OBJECTIONS_PENDING = gettext_lazy(
    "Members objected: the minutes are adopted by a vote, not by no objection."
)
VOTE_NOT_ADOPTED = gettext_lazy(
    "The approval vote has not adopted the minutes (or was not held yet)."
)
NOT_PLACED = gettext_lazy("The approval is not on the agenda of a sitting yet.")
ALREADY_PLACED = gettext_lazy("The approval is already on the agenda of a sitting.")
NO_NEXT_SITTING = gettext_lazy(
    "There is no next sitting in preparation: create it, then place the approval."
)
NOTHING_DECIDED = gettext_lazy("No item of this sitting has a decision to register.")
RECORD_SIGNED = gettext_lazy("A signed decision record can no longer be changed.")
RECORD_SUPERSEDED = gettext_lazy("This record was replaced by a correction.")
SIGNATURE_DATE_INVALID = gettext_lazy(
    "The signature date must be on or after the sitting and not in the future."
)
SIGNATORIES_REQUIRED = gettext_lazy("Name who signed the paper.")
SCAN_INVALID = gettext_lazy("The scan must be a PDF, PNG or JPEG file under 20 MB.")
CORRECTION_REASON_REQUIRED = gettext_lazy("Explain what the correction changes.")
MAX_SCAN_BYTES = 20 * 1024 * 1024
MAX_SUMMARY = 20_000


def _minutes_locked(minutes: Minutes) -> Minutes:
    # The minutes' own row only: a meeting is locked by Meeting.objects.lock.
    return (
        Minutes.objects.select_for_update(of=("self",))
        .select_related("meeting__body")
        .get(pk=minutes.pk)
    )


def _new_version(minutes: Minutes, by, note: str) -> None:
    minutes.version += 1
    MinutesVersion.objects.create(
        minutes=minutes,
        number=minutes.version,
        content=minutes.content,
        created_by=by if getattr(by, "pk", None) else None,
        note=note,
    )


# ---- minutes ----------------------------------------------------------------------


@transaction.atomic
def minutes_generate(*, meeting: Meeting, by) -> Minutes:
    """Draft (or redraft) the minutes from what the sitting recorded.

    A redraft keeps the summaries the clerk already wrote.
    """
    if by is not None:
        require(by, Action.DRAFT_MINUTES, meeting.body)
    if meeting.state != Meeting.State.CLOSED:
        raise Refusal(MEETING_NOT_CLOSED)
    content = records.minutes_content(meeting)
    minutes, created = Minutes.objects.get_or_create(meeting=meeting)
    minutes = _minutes_locked(minutes)
    if not minutes.is_draft:
        raise Refusal(NOT_DRAFT)
    if not created:
        summaries = {i["id"]: i.get("summary", "") for i in minutes.content["items"]}
        for item in content["items"]:
            item["summary"] = summaries.get(item["id"], "")
        content["introduction"] = minutes.content.get("introduction", "")
        if content == minutes.content:
            return minutes
    minutes.content = content
    _new_version(minutes, by, _("Drafted from the sitting's record"))
    minutes.save()
    audit_record(
        by=by,
        action="minutes.generate",
        obj=minutes,
        body=meeting.body,
        details={"meeting": meeting.pk, "version": minutes.version},
    )
    return minutes


@transaction.atomic
def minutes_edit(
    *,
    minutes: Minutes,
    by,
    summaries: dict[int, str],
    introduction: str | None = None,
) -> Minutes:
    """Save the clerk's debate summaries (stored as typed; rendered safely)."""
    minutes = _minutes_locked(minutes)
    require(by, Action.DRAFT_MINUTES, minutes.meeting.body)
    if minutes.is_adopted:
        raise Refusal(ALREADY_ADOPTED)
    if not minutes.is_draft:
        raise Refusal(NOT_DRAFT)
    content = copy.deepcopy(minutes.content)
    by_id = {item["id"]: item for item in content["items"]}
    for item_id, summary in summaries.items():
        if item_id not in by_id:
            raise Refusal(UNKNOWN_ITEM)
        if len(summary) > MAX_SUMMARY:
            raise Refusal(SUMMARY_TOO_LONG)
        by_id[item_id]["summary"] = summary.strip()
    if introduction is not None:
        if len(introduction) > MAX_SUMMARY:
            raise Refusal(SUMMARY_TOO_LONG)
        content["introduction"] = introduction.strip()
    if content == minutes.content:
        return minutes
    minutes.content = content
    _new_version(minutes, by, _("Summaries edited"))
    minutes.save()
    audit_record(
        by=by,
        action="minutes.edit",
        obj=minutes,
        body=minutes.meeting.body,
        details={"version": minutes.version, "items": sorted(summaries)},
    )
    return minutes


def next_sitting(meeting: Meeting) -> Meeting | None:
    """The body's next meeting still in preparation, by start time."""
    return (
        Meeting.objects.editable()
        .filter(body=meeting.body, starts_at__gt=meeting.starts_at)
        .order_by("starts_at", "pk")
        .first()
    )


def _place(minutes: Minutes, by) -> AgendaItem | None:
    target = next_sitting(minutes.meeting)
    if target is None:
        return None
    body = minutes.meeting.body
    with override(body.language):
        title = _("Approval of the minutes of the sitting of %(date)s") % {
            "date": _long(minutes.meeting.starts_at, body)
        }
    item = agenda.item_append(
        meeting=target,
        by=by,
        title=title,
        kind=AgendaItem.Kind.MINUTES_APPROVAL,
        session=AgendaItem.Session.PUBLIC,
        vote_kind=AgendaItem.VoteKind.PUBLIC,
        draft_decision=title,
    )
    minutes.approval_item = item
    sitting_changed(target)
    audit_record(
        by=by,
        action="minutes.place",
        obj=minutes,
        body=body,
        details={"meeting": target.pk, "item": item.pk},
    )
    return item


def _long(moment: datetime.datetime, body: Body) -> str:
    local = timezone.localtime(moment, timezone=_zone(body))
    return formats.date_format(local, "DATE_FORMAT")


def _zone(body: Body) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(body.time_zone)


@transaction.atomic
def minutes_approve(*, minutes: Minutes, by) -> Minutes:
    """The DG approves the draft; it goes on the agenda of the next sitting."""
    minutes = _minutes_locked(minutes)
    require(by, Action.APPROVE_MINUTES, minutes.meeting.body)
    if not minutes.is_draft:
        raise Refusal(NOT_DRAFT)
    minutes.state = Minutes.State.AWAITING_ADOPTION
    minutes.approved_by = by
    minutes.approved_at = timezone.now()
    _new_version(minutes, by, _("Approved by the director-general"))
    if minutes.approval_item_id is None:
        _place(minutes, by)
    minutes.save()
    audit_record(
        by=by,
        action="minutes.approve",
        obj=minutes,
        body=minutes.meeting.body,
        details={"version": minutes.version, "item": minutes.approval_item_id},
    )
    return minutes


@transaction.atomic
def minutes_place(*, minutes: Minutes, by) -> AgendaItem:
    """Put the approval on the next sitting once that sitting has been created."""
    minutes = _minutes_locked(minutes)
    require(by, Action.PLACE_MINUTES, minutes.meeting.body)
    if minutes.state != Minutes.State.AWAITING_ADOPTION:
        raise Refusal(NOT_AWAITING)
    if minutes.approval_item_id is not None:
        raise Refusal(ALREADY_PLACED)
    item = _place(minutes, by)
    if item is None:
        raise Refusal(NO_NEXT_SITTING)
    minutes.save()
    return item


@transaction.atomic
def minutes_reopen(*, minutes: Minutes, by, reason: str) -> Minutes:
    """The DG sends approved-but-not-adopted minutes back to draft (an objection)."""
    minutes = _minutes_locked(minutes)
    require(by, Action.APPROVE_MINUTES, minutes.meeting.body)
    if minutes.state != Minutes.State.AWAITING_ADOPTION:
        raise Refusal(NOT_AWAITING)
    minutes.state = Minutes.State.DRAFT
    minutes.approved_by = None
    minutes.approved_at = None
    _new_version(
        minutes, by, _("Returned to draft: %(reason)s") % {"reason": reason[:150]}
    )
    minutes.save()
    audit_record(
        by=by,
        action="minutes.reopen",
        obj=minutes,
        body=minutes.meeting.body,
        details={"reason": reason[:300]},
    )
    return minutes


def objections_open(minutes: Minutes) -> bool:
    """Before or during the approving sitting; not once it is closed."""
    if minutes.state != Minutes.State.AWAITING_ADOPTION:
        return False
    item = minutes.approval_item
    return item is None or item.meeting.state != Meeting.State.CLOSED


@transaction.atomic
def objection_lodge(*, minutes: Minutes, by, text: str) -> Objection:
    minutes = _minutes_locked(minutes)
    require(by, Action.VOTE, minutes.meeting.body)
    text = (text or "").strip()
    if not text:
        raise Refusal(OBJECTION_EMPTY)
    if len(text) > MAX_SUMMARY:
        raise Refusal(SUMMARY_TOO_LONG)
    if not objections_open(minutes):
        raise Refusal(OBJECTION_TOO_LATE)
    objection = Objection.objects.create(minutes=minutes, member=by, text=text)
    if minutes.approval_item_id is not None:
        sitting_changed(minutes.approval_item.meeting)
    audit_record(
        by=by,
        action="minutes.objection",
        obj=minutes,
        body=minutes.meeting.body,
        details={"objection": objection.pk},
    )
    return objection


@transaction.atomic
def minutes_adopt(*, minutes: Minutes, by, method: str) -> Minutes:
    """Fix the minutes: by "no objection" (none lodged) or by the approval vote."""
    minutes = _minutes_locked(minutes)
    body = minutes.meeting.body
    require(by, Action.ADOPT_MINUTES, body)
    if minutes.state != Minutes.State.AWAITING_ADOPTION:
        raise Refusal(NOT_AWAITING)
    if minutes.approval_item_id is None:
        raise Refusal(NOT_PLACED)
    if method == Minutes.AdoptionMethod.NO_OBJECTION:
        if minutes.objections.exists():
            raise Refusal(OBJECTIONS_PENDING)
    elif method == Minutes.AdoptionMethod.VOTE:
        item = minutes.approval_item
        outcome = records.item_results(item.meeting).get(item.pk)
        if outcome is None or outcome.decision != "adopted":
            raise Refusal(VOTE_NOT_ADOPTED)
    else:
        raise Refusal(_("Unknown way of adopting the minutes."))
    minutes.state = Minutes.State.ADOPTED
    minutes.adopted_at = timezone.now()
    minutes.adoption_method = method
    minutes.save()
    sitting_changed(minutes.approval_item.meeting)
    audit_record(
        by=by,
        action="minutes.adopt",
        obj=minutes,
        body=body,
        details={"method": method, "version": minutes.version},
    )
    return minutes


# ---- decision records ---------------------------------------------------------------


def _allocate(body: Body, year: int) -> tuple[int, str]:
    # Lock the body row: two clerks printing at once get distinct numbers.
    Body.objects.select_for_update().filter(pk=body.pk).first()
    top = DecisionRecord.objects.filter(body=body, year=year).aggregate(
        top=Max("sequence")
    )["top"]
    sequence = (top or 0) + 1
    return sequence, f"{year}/{body.slug}/{sequence:04d}"


def _register(
    *,
    meeting: Meeting,
    item_id: int,
    minutes_content: dict,
    by,
    supersedes: DecisionRecord | None = None,
    reason: str = "",
    decision_text: str | None = None,
) -> DecisionRecord:
    year = meeting.sitting_day.year
    sequence, reference = _allocate(meeting.body, year)
    content = records.decision_content(
        minutes=minutes_content,
        item_id=item_id,
        reference=reference,
        supersedes=supersedes.reference if supersedes else None,
        correction_reason=reason,
        decision_text=decision_text,
    )
    record = DecisionRecord.objects.create(
        body=meeting.body,
        meeting=meeting,
        item_id=item_id,
        year=year,
        sequence=sequence,
        reference=reference,
        closed_session=content["item"]["session"] == AgendaItem.Session.CLOSED,
        content=content,
        fingerprint=fingerprint_of(content),
        supersedes=supersedes,
        correction_reason=reason,
    )
    audit_record(
        by=by,
        action="record.register",
        obj=record,
        body=meeting.body,
        details={
            "reference": reference,
            "fingerprint": record.fingerprint,
            "supersedes": supersedes.reference if supersedes else None,
        },
    )
    return record


def _current_content(meeting: Meeting) -> dict:
    minutes = Minutes.objects.filter(meeting=meeting).first()
    return minutes.content if minutes else records.minutes_content(meeting)


@transaction.atomic
def decision_records_issue(*, meeting: Meeting, by) -> list[DecisionRecord]:
    """Register a record for every decided item that has none yet."""
    if by is not None:
        require(by, Action.PRINT_RECORDS, meeting.body)
    if meeting.state != Meeting.State.CLOSED:
        raise Refusal(MEETING_NOT_CLOSED)
    content = _current_content(meeting)
    decided = [
        item
        for item in content["items"]
        if item.get("vote") and item["vote"].get("announced", True)
    ]
    if not decided:
        raise Refusal(NOTHING_DECIDED)
    existing = set(
        DecisionRecord.objects.filter(meeting=meeting).values_list("item_id", flat=True)
    )
    return [
        _register(meeting=meeting, item_id=item["id"], minutes_content=content, by=by)
        for item in decided
        if item["id"] not in existing
    ]


def _locked_records(pks: list[int]) -> list[DecisionRecord]:
    return list(
        DecisionRecord.objects.select_for_update(of=("self",))
        .select_related("body")
        .filter(pk__in=pks)
        .order_by("sequence", "pk")
    )


def _stamp_printed(record: DecisionRecord, by, at: datetime.datetime) -> None:
    # One record, or each record of a batch: the same mark, the same entry.
    if record.printed_at is not None or record.is_signed:
        return
    record.printed_at = at
    record.save(update_fields=["printed_at"])
    audit_record(
        by=by,
        action="record.print",
        obj=record,
        body=record.body,
        details={"reference": record.reference},
    )


@transaction.atomic
def decision_record_mark_printed(*, record: DecisionRecord, by) -> DecisionRecord:
    """The clerk says the paper was printed; once, and never for a signed record."""
    require(by, Action.PRINT_RECORDS, record.body)
    (record,) = _locked_records([record.pk])
    _stamp_printed(record, by, timezone.now())
    # The paper now carries a head at or below this one: the worker anchors it.
    audit_anchor_soon()
    return record


_SCAN_TYPES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def _scan_type(scan) -> str | None:
    """The file's type from its first bytes, not from its name or browser's word."""
    if scan.size > MAX_SCAN_BYTES or scan.size < 8:
        return None
    head = scan.read(8)
    scan.seek(0)
    return next(
        (ext for magic, ext in _SCAN_TYPES.items() if head.startswith(magic)), None
    )


@transaction.atomic
def decision_record_sign(
    *,
    record: DecisionRecord,
    by,
    signed_on: datetime.date,
    signatories: str,
    scan=None,
) -> DecisionRecord:
    """Record that the paper copy was signed in ink; the record is then final."""
    require(by, Action.RECORD_SIGNATURES, record.body)
    record = (
        DecisionRecord.objects.select_for_update()
        .select_related("meeting")
        .get(pk=record.pk)
    )
    if record.is_signed:
        raise Refusal(RECORD_SIGNED)
    if DecisionRecord.objects.filter(supersedes=record).exists():
        raise Refusal(RECORD_SUPERSEDED)
    if not (record.meeting.sitting_day <= signed_on <= timezone.localdate()):
        raise Refusal(SIGNATURE_DATE_INVALID)
    signatories = (signatories or "").strip()
    if not signatories:
        raise Refusal(SIGNATORIES_REQUIRED)
    if scan is not None:
        ext = _scan_type(scan)
        if ext is None:
            raise Refusal(SCAN_INVALID)
        name = f"{record.reference.replace('/', '-')}-signed.{ext}"
        record.scan.save(name, scan, save=False)
    record.signed_on = signed_on
    record.signatories = signatories[:500]
    record.signature_recorded_by = by
    record.signature_recorded_at = timezone.now()
    if record.printed_at is None:
        record.printed_at = record.signature_recorded_at
    record.save()
    audit_record(
        by=by,
        action="record.sign",
        obj=record,
        body=record.body,
        details={
            "reference": record.reference,
            "signed_on": signed_on.isoformat(),
            "signatories": record.signatories,
            "scan": bool(scan),
        },
    )
    return record


@transaction.atomic
def decision_record_correct(
    *,
    record: DecisionRecord,
    by,
    reason: str,
    decision_text: str | None = None,
) -> DecisionRecord:
    """A correction is a new record, with a new reference, that supersedes the old."""
    require(by, Action.PRINT_RECORDS, record.body)
    record = DecisionRecord.objects.select_for_update().get(pk=record.pk)
    if DecisionRecord.objects.filter(supersedes=record).exists():
        raise Refusal(RECORD_SUPERSEDED)
    reason = (reason or "").strip()
    if not reason:
        raise Refusal(CORRECTION_REASON_REQUIRED)
    return _register(
        meeting=record.meeting,
        item_id=record.item_id,
        minutes_content=_current_content(record.meeting),
        by=by,
        supersedes=record,
        reason=reason[:2000],
        decision_text=decision_text,
    )


def extract_of(
    record: DecisionRecord, *, audit_head: AuditHead | None = None
) -> pdf.Extract:
    """What the printer needs of a record; ``audit_head`` is printed on it."""
    return pdf.Extract(
        content=record.content,
        fingerprint=record.fingerprint,
        verify_url=record.verification_url(),
        audit_head=audit_head,
    )


# ---- print jobs -------------------------------------------------------------------

PRINT_INTERRUPTED = gettext_lazy(
    "The rendering was interrupted several times; ask for the document again."
)


@transaction.atomic
def print_job_start(*, meeting: Meeting, by, kind: str) -> PrintJob:
    """Queue a batch PDF; the worker renders it after the commit."""
    require(by, Action.PRINT_RECORDS, meeting.body)
    if kind not in PrintJob.Kind.values:
        raise Refusal(_("Unknown document."))
    total = 1
    if kind == PrintJob.Kind.DECISIONS:
        total = DecisionRecord.objects.filter(meeting=meeting).current().count()
        if not total:
            raise Refusal(NOTHING_DECIDED)
    elif not Minutes.objects.filter(meeting=meeting).exists():
        raise Refusal(_("Draft the minutes first."))
    job = PrintJob.objects.create(
        meeting=meeting, kind=kind, total=total, requested_by=by
    )
    audit_record(
        by=by,
        action="print.start",
        obj=job,
        body=meeting.body,
        details={"kind": kind, "parts": total},
    )
    print_job_queue(job.pk)
    return job


def print_job_queue(job_id: int) -> None:
    """After the commit, the worker renders the job (``minutes.tasks``)."""
    from minutes.tasks import print_job_render

    enqueue_on_commit(print_job_render, job_id=job_id)


def print_job_run(job_id: int) -> PrintJob:
    """Render the job's PDF, recording progress as parts are laid out.

    Run by the worker, and again from the start if a restart cut it short:
    a finished job is left as it is, and a record already marked printed is
    not marked (nor audited) twice.
    """
    job = PrintJob.objects.select_related("meeting__body").get(pk=job_id)
    if job.state in {PrintJob.State.DONE, PrintJob.State.FAILED}:
        return job
    PrintJob.objects.filter(pk=job_id).update(
        state=PrintJob.State.RUNNING, done=0, error=""
    )
    try:
        meeting = job.meeting
        if job.kind == PrintJob.Kind.DECISIONS:
            found = list(
                DecisionRecord.objects.filter(meeting=meeting)
                .current()
                .order_by("sequence")
            )

            def progress(done: int) -> None:
                PrintJob.objects.filter(pk=job_id).update(done=done)

            head = audit_anchor()
            data = pdf.decision_extracts(
                [extract_of(r, audit_head=head) for r in found], progress=progress
            )
            # The batch was asked for by a POST: its records are printed by
            # whoever asked, each with the entry a single record gets.
            with transaction.atomic():
                printed_at = timezone.now()
                for record in _locked_records([r.pk for r in found]):
                    _stamp_printed(record, job.requested_by, printed_at)
                audit_anchor_soon()
            name = f"decisions-{meeting.body.slug}-{meeting.number}.pdf"
        else:
            minutes = Minutes.objects.get(meeting=meeting)
            if job.kind == PrintJob.Kind.MINUTES:
                data = pdf.minutes_document(
                    minutes.content,
                    draft=not minutes.is_adopted,
                    version=minutes.version,
                    audit_head=audit_anchor(),
                )
            else:
                data = pdf.attendance_register(minutes.content)
            name = f"{job.kind}-{meeting.body.slug}-{meeting.number}.pdf"
        job.file.save(name, ContentFile(data), save=False)
        PrintJob.objects.filter(pk=job_id).update(
            file=job.file.name,
            done=job.total,
            state=PrintJob.State.DONE,
            finished_at=timezone.now(),
        )
    except Exception as exc:
        logger.exception("print job %s failed", job_id)
        PrintJob.objects.filter(pk=job_id).update(
            state=PrintJob.State.FAILED,
            error=str(exc)[:300],
            finished_at=timezone.now(),
        )
    except BaseException:
        # The worker is being stopped mid-render: the job goes back in the
        # queue for the next worker instead of staying "rendering" for ever.
        PrintJob.objects.filter(pk=job_id).update(state=PrintJob.State.PENDING)
        print_job_queue(job_id)
        raise
    return PrintJob.objects.get(pk=job_id)


def print_jobs_requeue_lost() -> int:
    """Queue again each unfinished print job that no job of the queue holds.

    Called when the worker starts: a job asked for before the queue existed,
    or whose run was pruned, would otherwise wait for ever.
    """
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from minutes.tasks import print_job_render

    held = set(
        DBTaskResult.objects.filter(
            task_path=print_job_render.module_path,
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        ).values_list("args_kwargs__kwargs__job_id", flat=True)
    )
    lost = PrintJob.objects.filter(
        state__in=[PrintJob.State.PENDING, PrintJob.State.RUNNING]
    ).exclude(pk__in=held)
    pks = list(lost.values_list("pk", flat=True))
    for pk in pks:
        print_job_queue(pk)
    return len(pks)


def print_job_interrupted(job_id: int) -> PrintJob:
    """A job whose renderings kept being cut short fails instead of looping."""
    PrintJob.objects.filter(pk=job_id).exclude(state=PrintJob.State.DONE).update(
        state=PrintJob.State.FAILED,
        error=str(PRINT_INTERRUPTED),
        finished_at=timezone.now(),
    )
    return PrintJob.objects.get(pk=job_id)
