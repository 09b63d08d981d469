"""Thin views: role check, form, service call, redirect (or a PDF)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from council.audit import (
    audit_head,
    audit_last_verification,
    audit_verify_and_record,
)
from council.models import Body
from council.permissions import NOT_ALLOWED, Action, can, require
from council.refusals import show_refusal
from meetings.models import Meeting
from minutes import forms, pdf, selectors, services
from minutes.models import DecisionRecord, Minutes, PrintJob
from minutes.text import clock, duration, outcome_lines, summary_html
from voting.keyholders import key_alarms


def _meeting(meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("body"), pk=meeting_id)


def _minutes(meeting: Meeting) -> Minutes:
    return get_object_or_404(
        Minutes.objects.select_related("meeting__body", "approval_item__meeting"),
        meeting=meeting,
    )


def _may_read_minutes(user, minutes: Minutes) -> bool:
    """Members see the minutes once the DG releases them; staff see the drafts."""
    body = minutes.meeting.body
    if can(user, Action.VIEW_DRAFT_MINUTES, body):
        return True
    return can(user, Action.VIEW_MEMBER_AREA, body) and not minutes.is_draft


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _attendance_rows(content: dict) -> list[dict]:
    """Arrival and departure in the body's local time, as the PDF prints them."""
    if not content:
        return []
    tz = content["meeting"]["time_zone"]
    return [
        {
            **person,
            "arrived_at": clock(person["arrived"], tz),
            "left_at": clock(person.get("left"), tz),
        }
        for person in content["attendance"]["present"]
    ]


def _item_views(content: dict) -> list[dict]:
    return [
        {
            **item,
            "summary_html": summary_html(item.get("summary", "")),
            "speeches": [
                {**speech, "duration": duration(speech["seconds"])}
                for speech in item.get("speeches", [])
            ],
            "outcome": outcome_lines(item.get("vote")),
        }
        for item in content.get("items", [])
    ]


# ---- minutes ------------------------------------------------------------------------


@login_required
@require_GET
def minutes_detail(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    body = meeting.body
    require(request.user, Action.VIEW_MEMBER_AREA, body)
    minutes = (
        Minutes.objects.filter(meeting=meeting)
        .select_related("approval_item__meeting", "approved_by")
        .first()
    )
    if minutes is not None and not _may_read_minutes(request.user, minutes):
        minutes = None
    content = minutes.content if minutes else {}
    return render(
        request,
        "minutes/minutes_detail.html",
        {
            "meeting": meeting,
            "body": body,
            "minutes": minutes,
            "content": content,
            "items": _item_views(content),
            "attendance": _attendance_rows(content),
            "introduction_html": summary_html(content.get("introduction", "")),
            "objections": minutes.objections.select_related("member")
            if minutes
            else [],
            "may_draft": can(request.user, Action.DRAFT_MINUTES, body),
            "may_approve": can(request.user, Action.APPROVE_MINUTES, body),
            "may_object": can(request.user, Action.VOTE, body)
            and minutes is not None
            and services.objections_open(minutes),
            "may_place": can(request.user, Action.PLACE_MINUTES, body),
            "may_adopt": can(request.user, Action.ADOPT_MINUTES, body),
            "may_see_records": can(request.user, Action.VIEW_RECORDS, body),
            "may_oversee": can(request.user, Action.OVERSEE, body),
            "objection_form": forms.ObjectionForm(),
            "adopt_form": forms.AdoptForm(),
            "reopen_form": forms.ReopenForm(),
            "closed_meeting": meeting.state == Meeting.State.CLOSED,
        },
    )


@login_required
@require_POST
def minutes_generate(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.DRAFT_MINUTES, meeting.body)
    try:
        services.minutes_generate(meeting=meeting, by=request.user)
        messages.success(request, _("The draft minutes were drawn from the sitting."))
    except ValidationError as exc:
        show_refusal(request, exc)
    return redirect("minutes:minutes", meeting.pk)


@login_required
def minutes_edit(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.DRAFT_MINUTES, meeting.body)
    minutes = _minutes(meeting)
    items = minutes.content.get("items", [])
    initial = {f"summary_{i['id']}": i.get("summary", "") for i in items}
    initial["introduction"] = minutes.content.get("introduction", "")
    form = forms.SummariesForm(request.POST or None, items=items, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.minutes_edit(
                minutes=minutes,
                by=request.user,
                summaries=form.summaries(),
                introduction=form.cleaned_data["introduction"],
            )
            messages.success(request, _("The summaries were saved."))
            return redirect("minutes:minutes", meeting.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request,
        "minutes/minutes_edit.html",
        {"meeting": meeting, "minutes": minutes, "form": form},
    )


def _minutes_action(request, meeting_id: int, call, success: str):
    meeting = _meeting(meeting_id)
    minutes = _minutes(meeting)
    try:
        call(minutes)
        messages.success(request, success)
    except ValidationError as exc:
        show_refusal(request, exc)
    return redirect("minutes:minutes", meeting.pk)


@login_required
@require_POST
def minutes_approve(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.APPROVE_MINUTES, meeting.body)
    return _minutes_action(
        request,
        meeting_id,
        lambda m: services.minutes_approve(minutes=m, by=request.user),
        _("The minutes are approved and placed for adoption at the next sitting."),
    )


@login_required
@require_POST
def minutes_place(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.PLACE_MINUTES, meeting.body)
    return _minutes_action(
        request,
        meeting_id,
        lambda m: services.minutes_place(minutes=m, by=request.user),
        _("The approval of the minutes is on the agenda of the next sitting."),
    )


@login_required
@require_POST
def minutes_reopen(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.APPROVE_MINUTES, meeting.body)
    form = forms.ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for reopening the draft."))
        return redirect("minutes:minutes", meeting.pk)
    return _minutes_action(
        request,
        meeting_id,
        lambda m: services.minutes_reopen(
            minutes=m, by=request.user, reason=form.cleaned_data["reason"]
        ),
        _("The minutes are a draft again."),
    )


@login_required
@require_POST
def minutes_object(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.VOTE, meeting.body)
    form = forms.ObjectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write what you object to."))
        return redirect("minutes:minutes", meeting.pk)
    return _minutes_action(
        request,
        meeting_id,
        lambda m: services.objection_lodge(
            minutes=m, by=request.user, text=form.cleaned_data["text"]
        ),
        _("Your objection was recorded."),
    )


@login_required
@require_POST
def minutes_adopt(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.ADOPT_MINUTES, meeting.body)
    form = forms.AdoptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the minutes were adopted."))
        return redirect("minutes:minutes", meeting.pk)
    return _minutes_action(
        request,
        meeting_id,
        lambda m: services.minutes_adopt(
            minutes=m, by=request.user, method=form.cleaned_data["method"]
        ),
        _("The minutes are adopted and can no longer be changed."),
    )


@login_required
@require_GET
def minutes_versions(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    minutes = _minutes(meeting)
    if not _may_read_minutes(request.user, minutes):
        raise PermissionDenied(NOT_ALLOWED)
    versions = list(minutes.versions.select_related("created_by").order_by("-number"))
    by_number = {v.number: v for v in versions}
    diff = None
    try:
        a, b = int(request.GET.get("a", 0)), int(request.GET.get("b", 0))
    except ValueError:
        a = b = 0
    if a in by_number and b in by_number:
        diff = selectors.diff_table(
            by_number[a].content,
            by_number[b].content,
            _("Version %(n)d") % {"n": a},
            _("Version %(n)d") % {"n": b},
        )
    return render(
        request,
        "minutes/minutes_versions.html",
        {
            "meeting": meeting,
            "minutes": minutes,
            "versions": versions,
            "diff": diff,
            "a": a,
            "b": b,
        },
    )


@login_required
@require_GET
def minutes_pdf(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    minutes = _minutes(meeting)
    if not _may_read_minutes(request.user, minutes):
        raise PermissionDenied(NOT_ALLOWED)
    # GET shows: the head is printed, and anchored outside the database by
    # the POSTs that print or verify (print jobs, marking printed, checks).
    data = pdf.minutes_document(
        minutes.content,
        draft=not minutes.is_adopted,
        version=minutes.version,
        audit_head=audit_head(),
    )
    return _pdf(data, f"minutes-{meeting.body.slug}-{meeting.number}.pdf")


@login_required
@require_GET
def register_pdf(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.VIEW_RECORDS, meeting.body)
    minutes = _minutes(meeting)
    data = pdf.attendance_register(minutes.content)
    return _pdf(data, f"register-{meeting.body.slug}-{meeting.number}.pdf")


# ---- decision records ---------------------------------------------------------------


@login_required
@require_GET
def decisions(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.VIEW_RECORDS, meeting.body)
    found = list(
        DecisionRecord.objects.filter(meeting=meeting)
        .select_related("superseded_by", "item")
        .order_by("item__position", "sequence")
    )
    rows = []
    for record in found:
        try:
            replaced_by = record.superseded_by
        except DecisionRecord.DoesNotExist:
            replaced_by = None
        rows.append((record, replaced_by))
    return render(
        request,
        "minutes/decisions.html",
        {
            "meeting": meeting,
            "rows": rows,
            "may_print": can(request.user, Action.PRINT_RECORDS, meeting.body),
            "may_sign": can(request.user, Action.RECORD_SIGNATURES, meeting.body),
            "jobs": meeting.print_jobs.order_by("-created_at")[:5],
            "closed_meeting": meeting.state == Meeting.State.CLOSED,
        },
    )


@login_required
@require_POST
def decisions_issue(request, meeting_id: int):
    meeting = _meeting(meeting_id)
    require(request.user, Action.PRINT_RECORDS, meeting.body)
    try:
        made = services.decision_records_issue(meeting=meeting, by=request.user)
        messages.success(
            request,
            _("%(count)d decision records registered.") % {"count": len(made)},
        )
    except ValidationError as exc:
        show_refusal(request, exc)
    return redirect("minutes:decisions", meeting.pk)


def _record(pk: int) -> DecisionRecord:
    return get_object_or_404(
        DecisionRecord.objects.select_related("body", "meeting"), pk=pk
    )


@login_required
@require_GET
def record_pdf(request, pk: int):
    record = _record(pk)
    require(request.user, Action.VIEW_RECORDS, record.body)
    # Opening is not printing: link prefetchers and mail scanners open links.
    data = pdf.decision_extract(services.extract_of(record, audit_head=audit_head()))
    return _pdf(data, f"{record.reference.replace('/', '-')}.pdf")


@login_required
@require_POST
def record_mark_printed(request, pk: int):
    record = _record(pk)
    require(request.user, Action.PRINT_RECORDS, record.body)
    try:
        services.decision_record_mark_printed(record=record, by=request.user)
        messages.success(
            request,
            _("Record %(reference)s is marked printed.")
            % {"reference": record.reference},
        )
    except ValidationError as exc:
        show_refusal(request, exc)
    return redirect("minutes:decisions", record.meeting_id)


@login_required
@require_GET
def record_scan(request, pk: int):
    record = _record(pk)
    require(request.user, Action.VIEW_RECORDS, record.body)
    if not record.scan:
        raise Http404
    return FileResponse(record.scan.open("rb"), as_attachment=True)


@login_required
def record_sign(request, pk: int):
    record = _record(pk)
    require(request.user, Action.RECORD_SIGNATURES, record.body)
    form = forms.SignatureForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "signatories": ", ".join(
                n for n in record.content.get("signatories", {}).values() if n
            )
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.decision_record_sign(
                record=record,
                by=request.user,
                signed_on=form.cleaned_data["signed_on"],
                signatories=form.cleaned_data["signatories"],
                scan=form.cleaned_data["scan"],
            )
            messages.success(request, _("The signature was recorded."))
            return redirect("minutes:decisions", record.meeting_id)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "minutes/record_sign.html", {"record": record, "form": form})


@login_required
def record_correct(request, pk: int):
    record = _record(pk)
    require(request.user, Action.PRINT_RECORDS, record.body)
    form = forms.CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.decision_record_correct(
                record=record,
                by=request.user,
                reason=form.cleaned_data["reason"],
                decision_text=form.cleaned_data["decision_text"] or None,
            )
            messages.success(
                request,
                _("Record %(new)s replaces %(old)s.")
                % {"new": new.reference, "old": record.reference},
            )
            return redirect("minutes:decisions", record.meeting_id)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request, "minutes/record_correct.html", {"record": record, "form": form}
    )


# ---- print jobs ---------------------------------------------------------------------


@login_required
@require_POST
def print_start(request, meeting_id: int, kind: str):
    meeting = _meeting(meeting_id)
    require(request.user, Action.PRINT_RECORDS, meeting.body)
    try:
        job = services.print_job_start(meeting=meeting, by=request.user, kind=kind)
    except ValidationError as exc:
        show_refusal(request, exc)
        return redirect("minutes:decisions", meeting.pk)
    return redirect(job)


def _job(request, pk: int) -> PrintJob:
    job = get_object_or_404(PrintJob.objects.select_related("meeting__body"), pk=pk)
    require(request.user, Action.VIEW_RECORDS, job.meeting.body)
    return job


def _job_status(job: PrintJob) -> dict:
    return {
        "state": job.state,
        "label": job.get_state_display(),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "error": job.error,
        "file": job.file.name and reverse_job_file(job),
    }


def reverse_job_file(job: PrintJob) -> str:
    return reverse("minutes:print_job_file", args=[job.pk])


@login_required
@require_GET
def print_job(request, pk: int):
    job = _job(request, pk)
    return render(
        request, "minutes/print_job.html", {"job": job, "status": _job_status(job)}
    )


@login_required
@require_GET
def print_job_status(request, pk: int):
    return JsonResponse(_job_status(_job(request, pk)))


@login_required
@require_GET
def print_job_file(request, pk: int):
    job = _job(request, pk)
    if job.state != PrintJob.State.DONE or not job.file:
        raise Http404
    return FileResponse(
        job.file.open("rb"),
        content_type="application/pdf",
        filename=job.file.name.rsplit("/", 1)[-1],
    )


# ---- verification and oversight ---------------------------------------------------


@require_GET
def verify(request, public_id):
    """Open to anyone holding the paper; closed items show no content to outsiders."""
    record = get_object_or_404(
        DecisionRecord.objects.select_related("body", "meeting", "supersedes"),
        public_id=public_id,
    )
    try:
        replaced_by = record.superseded_by
    except DecisionRecord.DoesNotExist:
        replaced_by = None
    may_see = not record.closed_session or can(
        request.user, Action.VIEW_CLOSED_SESSION, record.body
    )
    return render(
        request,
        "minutes/verify.html",
        {
            "record": record,
            "replaced_by": replaced_by,
            "may_see": may_see,
            "content": record.content if may_see else None,
            "outcome": outcome_lines(record.content.get("vote")) if may_see else [],
        },
    )


@login_required
@require_GET
def oversight(request, slug: str):
    body = get_object_or_404(Body, slug=slug)
    require(request.user, Action.OVERSEE, body)
    form = forms.AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.audit_entries(
        body,
        action=filters.get("action") or "",
        actor=filters.get("actor") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    ).select_related("actor")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "minutes/oversight.html",
        {
            "body": body,
            "records": selectors.records_with_state(body),
            "pending": selectors.minutes_pending(body),
            "sealed": selectors.sealed_polls(body),
            "warnings": selectors.compliance_warnings(body),
            "year": selectors.ten_meetings(body),
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "verification": audit_last_verification(),
            "key_alarms": key_alarms(body),
        },
    )


@login_required
@require_POST
def oversight_verify(request, slug: str):
    """Walk the whole audit chain now; the result is recorded for the page."""
    body = get_object_or_404(Body, slug=slug)
    require(request.user, Action.OVERSEE, body)
    report = audit_verify_and_record(by=request.user, body=body)
    if report.intact:
        messages.success(
            request,
            ngettext(
                "The audit chain is intact: %(count)d entry checked.",
                "The audit chain is intact: %(count)d entries checked.",
                report.entries,
            )
            % {"count": report.entries},
        )
    else:
        count = len(report.problems)
        messages.error(
            request,
            ngettext(
                "The audit chain is broken: %(count)d problem found.",
                "The audit chain is broken: %(count)d problems found.",
                count,
            )
            % {"count": count},
        )
    return redirect("minutes:oversight", body.slug)
