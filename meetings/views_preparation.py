"""Pages before the sitting: the clerk's editor, the members' page, the public
calendar and agenda, the documents and the iCalendar feed.

Each view checks the role of the person asking, reads a form and calls one
service; times are shown and read in the body's time zone.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from council.models import Body
from council.permissions import NOT_ALLOWED, Action, can, require
from council.refusals import show_refusal
from meetings.calendars import body_feed_ics
from meetings.forms import (
    ConveneForm,
    DeclineForm,
    DocumentForm,
    ItemForm,
    MeetingForm,
    SubmissionForm,
)
from meetings.models import AgendaItem, Convocation, Document, ItemSubmission, Meeting
from meetings.services import agenda, convocations, documents, submissions
from meetings.services import meetings as meeting_services
from meetings.services.compliance import year_compliance
from meetings.services.deadlines import (
    deadline_for,
    required_convocation_days,
)


def _posted(request):
    # An empty POST is still a submission: ``request.POST or None`` would
    # treat it as a first visit and silently skip the service's checks.
    return request.POST if request.method == "POST" else None


def _meeting(pk: int) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("body"), pk=pk)


def _item(pk: int) -> AgendaItem:
    return get_object_or_404(AgendaItem.objects.select_related("meeting__body"), pk=pk)


def _apply_errors(form, error: ValidationError) -> None:
    """Put a service's refusal on the form: per field when it names one."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in field_errors:
                form.add_error(target, item)
    else:
        form.add_error(None, error)


def _documents_prefetch() -> Prefetch:
    return Prefetch("documents", queryset=Document.objects.order_by("uploaded_at"))


def _agenda(meeting: Meeting, *, closed: bool):
    items = meeting.items.select_related("rapporteur").order_by("position")
    if not closed:
        # The public never receives a closed item's title, note or documents.
        return items.prefetch_related(
            Prefetch(
                "documents",
                queryset=Document.objects.filter(
                    item__session=AgendaItem.Session.PUBLIC
                ).order_by("uploaded_at"),
            )
        )
    return items.prefetch_related(_documents_prefetch())


# ---- the clerk -----------------------------------------------------------------


@login_required
@require_GET
def body_meetings(request, slug: str):
    body = get_object_or_404(Body, slug=slug)
    require(request.user, Action.VIEW_MEMBER_AREA, body)
    prepares = can(request.user, Action.PREPARE_MEETINGS, body)
    preparation = can(request.user, Action.VIEW_PREPARATION, body)
    meetings = body.meetings.annotate(item_count=Count("items")).order_by("-starts_at")
    if not preparation:
        meetings = meetings.published()
    with timezone.override(body.time_zone):
        return render(
            request,
            "meetings/body_meetings.html",
            {
                "body": body,
                "meetings": meetings,
                "prepares": prepares,
                "compliance": year_compliance(body) if preparation else None,
            },
        )


@login_required
def meeting_create(request, slug: str):
    body = get_object_or_404(Body, slug=slug)
    require(request.user, Action.PREPARE_MEETINGS, body)
    with timezone.override(body.time_zone):
        form = MeetingForm(_posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                meeting = meeting_services.meeting_create(
                    body=body, by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("The meeting was created."))
                return redirect("meetings:meeting_edit", meeting.pk)
        return render(
            request,
            "meetings/meeting_form.html",
            {"body": body, "form": form, "meeting": None},
        )


def _convocations(meeting: Meeting) -> dict:
    """Each member's convocation and how many are sent, waiting, failed."""
    rows = list(
        Convocation.objects.filter(meeting=meeting)
        .select_related("person")
        .order_by("person__last_name", "person__first_name")
    )
    progress = dict.fromkeys(Convocation.Status.values, 0)
    for row in rows:
        progress[row.status] += 1
    # A pending row with an error failed once and waits for its next attempt.
    progress["retrying"] = sum(
        1 for row in rows if row.status == Convocation.Status.PENDING and row.error
    )
    return {"convocations": rows, "convocation_progress": progress}


@login_required
def meeting_edit(request, pk: int):
    """The clerk's editor: details, agenda, documents, members' items, convening."""
    meeting = _meeting(pk)
    body = meeting.body
    require(request.user, Action.PREPARE_MEETINGS, body)
    with timezone.override(body.time_zone):
        form = MeetingForm(_posted(request), instance=meeting)
        if meeting.state == Meeting.State.CONVENED:
            # The convocation announced these; they are shown, not edited.
            for name in meeting_services.CONVENED_FIELDS:
                form.fields[name].disabled = True
        if request.method == "POST" and form.is_valid():
            try:
                meeting_services.meeting_update(
                    meeting=meeting,
                    by=request.user,
                    **{name: form.cleaned_data[name] for name in form.fields},
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("The meeting was saved."))
                return redirect("meetings:meeting_edit", meeting.pk)
        items = list(_agenda(meeting, closed=True))
        pending = (
            meeting.submissions.filter(status=ItemSubmission.Status.PENDING)
            .select_related("submitted_by")
            .order_by("submitted_at")
        )
        return render(
            request,
            "meetings/meeting_editor.html",
            {
                "body": body,
                "meeting": meeting,
                "form": form,
                "items": items,
                "pending": pending,
                **_convocations(meeting),
                "decline_form": DeclineForm(),
                "document_form": DocumentForm(),
                "remote_ok": meeting_services.remote_statement_complete(meeting),
            },
        )


@login_required
def item_create(request, pk: int):
    meeting = _meeting(pk)
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    members = meeting.members_in_office()
    form = ItemForm(_posted(request), members=members)
    if request.method == "POST" and form.is_valid():
        try:
            item = agenda.item_create(
                meeting=meeting, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The item was added to the agenda."))
            return redirect(f"{meeting_edit_url(meeting)}#item-{item.pk}")
    return render(
        request,
        "meetings/item_form.html",
        {"meeting": meeting, "body": meeting.body, "form": form, "item": None},
    )


def meeting_edit_url(meeting: Meeting) -> str:
    return reverse("meetings:meeting_edit", args=[meeting.pk])


@login_required
def item_edit(request, pk: int):
    item = _item(pk)
    meeting = item.meeting
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    members = meeting.members_in_office()
    form = ItemForm(_posted(request), instance=item, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            agenda.item_update(item=item, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The item was saved."))
            return redirect(f"{meeting_edit_url(meeting)}#item-{item.pk}")
    return render(
        request,
        "meetings/item_form.html",
        {
            "meeting": meeting,
            "body": meeting.body,
            "form": form,
            "item": item,
            "documents": item.documents.all(),
            "document_form": DocumentForm(),
        },
    )


@login_required
@require_POST
def item_delete(request, pk: int):
    item = _item(pk)
    meeting = item.meeting
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    try:
        agenda.item_delete(item=item, by=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The item was removed from the agenda."))
    return redirect("meetings:meeting_edit", meeting.pk)


@login_required
@require_POST
def item_move(request, pk: int):
    item = _item(pk)
    meeting = item.meeting
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    try:
        moved = agenda.item_move(
            item=item, by=request.user, direction=request.POST.get("direction", "")
        )
    except ValidationError as error:
        show_refusal(request, error)
        return redirect(f"{meeting_edit_url(meeting)}#item-{item.pk}")
    messages.success(
        request,
        _("“%(title)s” is now item %(position)s.")
        % {"title": moved.title, "position": moved.position},
    )
    return redirect(f"{meeting_edit_url(meeting)}#item-{item.pk}")


@login_required
@require_POST
def document_upload(request, pk: int):
    item = _item(pk)
    meeting = item.meeting
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("meetings:item_edit", item.pk)
    upload = form.cleaned_data["file"]
    try:
        # Refused before reading a byte of it when it is too large.
        documents.check_size(upload.size)
        document = documents.document_upload(
            item=item,
            by=request.user,
            name=upload.name,
            data=upload.read(documents.MAX_UPLOAD_BYTES + 1),
            title=form.cleaned_data["title"],
        )
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            _("“%(name)s” was attached.") % {"name": document.original_name},
        )
    return redirect("meetings:item_edit", item.pk)


@login_required
@require_POST
def document_delete(request, pk: int):
    document = get_object_or_404(
        Document.objects.select_related("item__meeting__body"), pk=pk
    )
    require(request.user, Action.PREPARE_MEETINGS, document.item.meeting.body)
    try:
        documents.document_delete(document=document, by=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The document was removed."))
    return redirect("meetings:item_edit", document.item_id)


@login_required
def meeting_convene(request, pk: int):
    meeting = _meeting(pk)
    body = meeting.body
    require(request.user, Action.PREPARE_MEETINGS, body)
    form = ConveneForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            meeting_services.meeting_convene(
                meeting=meeting,
                by=request.user,
                urgent=form.cleaned_data["urgent"],
                urgency_reason=form.cleaned_data["urgency_reason"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request, _("The meeting is convened; the members are being emailed.")
            )
            return redirect("meetings:meeting_edit", meeting.pk)
    required = required_convocation_days(
        third_convocation=meeting.convocation_round == 3
    )
    with timezone.override(body.time_zone):
        return render(
            request,
            "meetings/convene.html",
            {
                "body": body,
                "meeting": meeting,
                "form": form,
                "required_days": required,
                "last_day": meeting_services.convocation_last_day(meeting),
                "too_late": timezone.now()
                >= deadline_for(meeting.starts_at, body.time_zone, required),
                "remote_ok": meeting_services.remote_statement_complete(meeting),
                "item_count": meeting.items.count(),
                "member_count": meeting.members_in_office().count(),
            },
        )


@login_required
@require_GET
def convocations_progress(request, pk: int):
    """The editor's convocations part alone, which its script refreshes."""
    meeting = _meeting(pk)
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    with timezone.override(meeting.body.time_zone):
        return render(
            request,
            "meetings/_convocations.html",
            {"meeting": meeting, **_convocations(meeting)},
        )


@login_required
@require_POST
def convocations_resend(request, pk: int):
    """The clerk's "send again": the failed convocations go back in the queue."""
    meeting = _meeting(pk)
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    try:
        count = convocations.convocations_retry(meeting=meeting, by=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s convocation will be sent again.",
                "%(count)s convocations will be sent again.",
                count,
            )
            % {"count": count},
        )
    return redirect(f"{meeting_edit_url(meeting)}#convocations-title")


@login_required
@require_POST
def submission_decide(request, pk: int):
    submission = get_object_or_404(
        ItemSubmission.objects.select_related("meeting__body"), pk=pk
    )
    meeting = submission.meeting
    require(request.user, Action.PREPARE_MEETINGS, meeting.body)
    try:
        if request.POST.get("decision") == "accept":
            submissions.submission_accept(submission=submission, by=request.user)
            messages.success(request, _("The member's item was added to the agenda."))
        elif request.POST.get("decision") == "decline":
            submissions.submission_decline(
                submission=submission,
                by=request.user,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("The member's item was declined."))
        else:
            messages.error(request, _("Accept or decline the item."))
    except ValidationError as error:
        show_refusal(request, error)
    return redirect(f"{meeting_edit_url(meeting)}#submissions")


# ---- members -------------------------------------------------------------------


@login_required
@require_GET
def meeting_detail(request, pk: int):
    """The members' page: the whole agenda with documents, and their own items."""
    meeting = _meeting(pk)
    body = meeting.body
    require(request.user, Action.VIEW_MEMBER_AREA, body)
    if not documents.may_read_meeting(request.user, meeting):
        raise PermissionDenied(NOT_ALLOWED)
    may_submit = can(request.user, Action.SUBMIT_ITEM, body)
    own = (
        meeting.submissions.filter(submitted_by=request.user).order_by("submitted_at")
        if may_submit
        else ItemSubmission.objects.none()
    )
    with timezone.override(body.time_zone):
        return render(
            request,
            "meetings/meeting_detail.html",
            {
                "body": body,
                "meeting": meeting,
                "items": _agenda(meeting, closed=True),
                "own_submissions": own,
                "may_submit": may_submit,
                "submission_open": may_submit
                and submissions.submission_is_open(meeting),
                "submission_last_day": submissions.submission_last_day(meeting),
                "prepares": can(request.user, Action.PREPARE_MEETINGS, body),
            },
        )


@login_required
def submission_create(request, pk: int):
    meeting = _meeting(pk)
    body = meeting.body
    require(request.user, Action.SUBMIT_ITEM, body)
    if not meeting.is_published:
        raise PermissionDenied(NOT_ALLOWED)
    form = SubmissionForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            submissions.submission_create(
                meeting=meeting, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Your item was sent to the clerk."))
            return redirect("meetings:meeting_detail", meeting.pk)
    with timezone.override(body.time_zone):
        return render(
            request,
            "meetings/submission_form.html",
            {
                "body": body,
                "meeting": meeting,
                "form": form,
                "last_day": submissions.submission_last_day(meeting),
                "is_open": submissions.submission_is_open(meeting),
            },
        )


# ---- documents -----------------------------------------------------------------


@require_GET
def document_download(request, pk: int, name: str):
    document = get_object_or_404(
        Document.objects.select_related("item__meeting__body"), pk=pk
    )
    if not documents.may_read_document(request.user, document):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(NOT_ALLOWED)
    handle = documents.document_open(document=document, by=request.user)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    # Closed-session papers must not linger in shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


# ---- the public ----------------------------------------------------------------


def _public_meetings(body: Body):
    return body.meetings.published().select_related("body")


@require_GET
def public_calendar(request, slug: str):
    body = get_object_or_404(Body, slug=slug)
    now = timezone.now()
    meetings = _public_meetings(body).annotate(
        public_items=Count("items", filter=Q(items__session="public"))
    )
    with timezone.override(body.time_zone):
        return render(
            request,
            "meetings/public_calendar.html",
            {
                "body": body,
                "upcoming": meetings.filter(starts_at__gte=now).order_by("starts_at"),
                "past": meetings.filter(starts_at__lt=now).order_by("-starts_at")[:50],
            },
        )


@require_GET
def public_agenda(request, slug: str, pk: int):
    body = get_object_or_404(Body, slug=slug)
    meeting = get_object_or_404(_public_meetings(body), pk=pk)
    with timezone.override(body.time_zone):
        return render(
            request,
            "meetings/public_agenda.html",
            {"body": body, "meeting": meeting, "items": _agenda(meeting, closed=False)},
        )


@require_GET
def calendar_feed(request, slug: str):
    body = get_object_or_404(Body, slug=slug)
    meetings = _public_meetings(body).order_by("starts_at")
    response = HttpResponse(
        body_feed_ics(body, meetings), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="{body.slug}.ics"'
    return response
