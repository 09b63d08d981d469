"""Pages of the live sitting: member, chair's console, clerk's register,
public gallery and room display. Thin: permission, form, service, redirect."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from council.permissions import Action, can, require
from council.refusals import show_refusal
from meetings import live
from meetings.models import AgendaItem, AttendanceEvent, FloorRequest, Meeting, Recusal
from meetings.open_votes import open_votes
from meetings.register import Register, is_present_now, register_lines
from meetings.services import sitting as services
from meetings.services.meetings import meeting_open, meeting_resume


def _meeting(pk: int) -> Meeting:
    return get_object_or_404(
        Meeting.objects.select_related("body", "current_item"), pk=pk
    )


def _labels() -> dict:
    """Words the script shows, translated here: the snapshot carries codes."""
    return {
        "status": {value: str(label) for value, label in Meeting.State.choices},
        "kind": {value: str(label) for value, label in FloorRequest.Kind.choices},
        "nobody": _("Nobody has the floor."),
        "queue_empty": _("Nobody is waiting for the floor."),
        "no_item": _("No item is under discussion."),
        "closed_session": _("Closed session"),
        "closed_hidden": _(
            "The sitting is in closed session: the public part will resume later."
        ),
        "quorum_reached": _("Quorum reached"),
        "quorum_missing": _("No quorum"),
        "quorum_exempt": _("Third convocation: no quorum required"),
        "quorum_counts": _("%(present)s present of %(in_office)s; %(required)s needed"),
        "attendance_counts": _(
            "%(present)s present (%(room)s in the room, %(remote)s remote)"
        ),
        "has_floor": _("%(name)s has the floor."),
        "floor_free": _("The floor is free."),
        "now_item": _("Now discussing item %(position)s: %(title)s."),
        "time_up": _("Speaking time is up."),
        # Whole sentences: word order and punctuation differ between languages.
        "remaining": _("Time left: %(clock)s"),
        "overtime": _("Over time: +%(clock)s"),
        "you_waiting": _("You are in the queue."),
        "you_speaking": _("You have the floor."),
        "you_absent": _("You are not recorded present."),
        "you_recused": _("You are recused for this item."),
        "reconnecting": _("Connection lost: reconnecting…"),
        "connected": _("Live"),
        "grant": _("Give the floor"),
        "stream_link": _("Watch the livestream"),
        "present_room": _("Present in the room"),
        "present_remote": _("Present (remote)"),
        "not_present": _("Not present"),
    }


def _video(meeting: Meeting, user) -> dict | None:
    if meeting.video_provider == Meeting.VideoProvider.JITSI:
        # Display name and settings travel in the fragment: never sent to a server.
        name = quote(f'"{user.display_name}"')
        return {
            "kind": "jitsi",
            "url": f"https://{settings.JITSI_DOMAIN}/{meeting.video_room}"
            f"#userInfo.displayName={name}&config.prejoinPageEnabled=false",
        }
    if meeting.video_provider == Meeting.VideoProvider.EXTERNAL and meeting.video_url:
        return {"kind": "external", "url": meeting.video_url}
    return None


def _context(request: HttpRequest, meeting: Meeting, audience: str) -> dict:
    snapshot = live.build_snapshot(meeting, audience)
    items = meeting.items.all()
    if audience == live.PUBLIC:
        items = items.filter(session=AgendaItem.Session.PUBLIC)
    return {
        "meeting": meeting,
        "item": meeting.current_item if audience == live.MEMBERS else None,
        "snapshot": snapshot,
        "agenda": list(items.order_by("position")),
        "labels": _labels(),
        "audience": audience,
        "ws_path": f"/ws/sitting/{meeting.pk}/"
        + ("public/" if audience == live.PUBLIC else ""),
        "kinds": FloorRequest.Kind.choices,
    }


def _member_page_access(request: HttpRequest, pk: int) -> Meeting:
    meeting = _meeting(pk)
    require(request.user, Action.VIEW_MEMBER_AREA, meeting.body)
    return meeting


@login_required
@require_GET
def sitting_page(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _member_page_access(request, pk)
    context = _context(request, meeting, live.MEMBERS)
    user = request.user
    waiting = None
    if meeting.current_item_id:
        waiting = FloorRequest.objects.filter(
            item_id=meeting.current_item_id,
            person=user,
            status=FloorRequest.Status.WAITING,
        ).first()
    context |= {
        "attends": can(user, Action.ATTEND, meeting.body),
        "present": is_present_now(meeting, user.pk),
        "my_request": waiting,
        "video": _video(meeting, user),
        "sitting_panels": live.sitting_panels(),
    }
    return render(request, "meetings/sitting/member.html", context)


def _run(request: HttpRequest, function, success: str, **kwargs) -> None:
    try:
        function(**kwargs)
    except ValidationError as exc:
        show_refusal(request, exc)
    else:
        if success:
            messages.success(request, success)


@login_required
@require_POST
def sitting_join(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _member_page_access(request, pk)
    require(request.user, Action.ATTEND, meeting.body)
    _run(request, services.attendance_join, "", meeting=meeting, by=request.user)
    return redirect("meetings:sitting", pk=pk)


@login_required
@require_POST
def sitting_leave(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _member_page_access(request, pk)
    require(request.user, Action.ATTEND, meeting.body)
    _run(
        request,
        services.attendance_leave,
        _("You have left the sitting."),
        meeting=meeting,
        by=request.user,
    )
    return redirect("meetings:sitting", pk=pk)


@login_required
@require_POST
def sitting_ask_floor(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _member_page_access(request, pk)
    require(request.user, Action.REQUEST_FLOOR, meeting.body)
    _run(
        request,
        services.floor_request,
        _("You asked for the floor."),
        meeting=meeting,
        by=request.user,
        kind=request.POST.get("kind", FloorRequest.Kind.CONTRIBUTION),
    )
    return redirect("meetings:sitting", pk=pk)


@login_required
@require_POST
def sitting_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _member_page_access(request, pk)
    require(request.user, Action.REQUEST_FLOOR, meeting.body)
    _run(
        request,
        services.floor_withdraw,
        _("Your request for the floor was withdrawn."),
        meeting=meeting,
        by=request.user,
    )
    return redirect("meetings:sitting", pk=pk)


# ---- the chair's console ---------------------------------------------------------


@login_required
@require_GET
def console_page(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(pk)
    require(request.user, Action.CHAIR_SITTING, meeting.body)
    context = _context(request, meeting, live.MEMBERS)
    people, groups = live.speaking_totals(meeting)
    # Other apps' panels (the vote) belong on the chair's console too.
    context |= {
        "speaking_people": people,
        "speaking_groups": groups,
        "sitting_panels": live.sitting_panels(),
    }
    return render(request, "meetings/sitting/console.html", context)


def _item_from_post(request: HttpRequest, meeting: Meeting) -> AgendaItem:
    try:
        return meeting.items.get(pk=int(request.POST.get("item", "")))
    except (ValueError, AgendaItem.DoesNotExist):
        raise ValidationError(services.ITEM_OF_ANOTHER_MEETING) from None


def _request_from_post(request: HttpRequest, meeting: Meeting) -> FloorRequest | None:
    raw = request.POST.get("request", "")
    if not raw:
        return None
    try:
        return FloorRequest.objects.get(pk=int(raw), meeting=meeting)
    except (ValueError, FloorRequest.DoesNotExist):
        raise ValidationError(services.NO_REQUEST) from None


def _ids_from_post(request: HttpRequest, name: str) -> list[int]:
    try:
        return [int(value) for value in request.POST.getlist(name)]
    except ValueError:
        raise ValidationError(services.BAD_KIND) from None


def _close_confirmation(request: HttpRequest, meeting: Meeting) -> HttpResponse:
    """Closing is final: say what it does, open votes included, and ask."""
    return render(
        request,
        "meetings/sitting/close_confirm.html",
        {"meeting": meeting, "open_votes": open_votes(meeting)},
    )


CONSOLE_ACTIONS = {
    "open": (meeting_open, False),
    "suspend": (services.sitting_suspend, False),
    "resume": (meeting_resume, False),
    "close": (services.sitting_close, False),
    "move": (services.sitting_move_to_item, True),
    "closed-on": (services.sitting_enter_closed_session, False),
    "closed-off": (services.sitting_leave_closed_session, False),
    "grant": (services.floor_grant, False),
    "take": (services.floor_take, False),
}


@login_required
@require_POST
def console_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    meeting = _meeting(pk)
    require(request.user, Action.CHAIR_SITTING, meeting.body)
    if action not in CONSOLE_ACTIONS:
        raise Http404
    function, needs_item = CONSOLE_ACTIONS[action]
    if action == "close" and not request.POST.get("confirm"):
        return _close_confirmation(request, meeting)
    try:
        kwargs = {"meeting": meeting, "by": request.user}
        if needs_item:
            kwargs["item"] = _item_from_post(request, meeting)
        if action == "grant":
            kwargs["request"] = _request_from_post(request, meeting)
        if action == "close":
            kwargs["close_votes"] = _ids_from_post(request, "close_vote")
        function(**kwargs)
    except ValidationError as exc:
        show_refusal(request, exc)
    return redirect("meetings:sitting_console", pk=pk)


# ---- the clerk's register --------------------------------------------------------


@login_required
@require_GET
def register_page(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(pk)
    require(request.user, Action.RECORD_ATTENDANCE, meeting.body)
    context = _context(request, meeting, live.MEMBERS)
    register = Register.of(meeting)
    members = list(meeting.members_in_office().order_by("last_name", "first_name"))
    rows = [
        {
            "person": member,
            "present": register.is_present(member.pk),
            "status": register.status_of(member.pk),
        }
        for member in members
    ]
    context |= {
        "rows": rows,
        "events": register_lines(meeting),
        "recusals": Recusal.objects.filter(item__meeting=meeting)
        .select_related("person", "item")
        .order_by("item__position"),
        "members": members,
        "all_items": meeting.items.order_by("position"),
    }
    return render(request, "meetings/sitting/register.html", context)


def _person_from_post(request: HttpRequest):
    try:
        return get_user_model().objects.get(pk=int(request.POST.get("person", "")))
    except (ValueError, get_user_model().DoesNotExist):
        raise ValidationError(services.NOT_A_MEMBER) from None


@login_required
@require_POST
def register_record(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(pk)
    require(request.user, Action.RECORD_ATTENDANCE, meeting.body)
    try:
        services.attendance_record(
            meeting=meeting,
            person=_person_from_post(request),
            kind=request.POST.get("kind", ""),
            place=request.POST.get("place", AttendanceEvent.Place.ROOM),
            note=request.POST.get("note", ""),
            by=request.user,
        )
    except ValidationError as exc:
        show_refusal(request, exc)
    return redirect("meetings:sitting_register", pk=pk)


@login_required
@require_POST
def register_recusal(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(pk)
    require(request.user, Action.RECORD_RECUSAL, meeting.body)
    cancel = request.POST.get("cancel") == "1"
    try:
        item = _item_from_post(request, meeting)
        person = _person_from_post(request)
        if cancel:
            services.recusal_cancel(item=item, person=person, by=request.user)
        else:
            services.recusal_record(
                item=item,
                person=person,
                reason=request.POST.get("reason", ""),
                by=request.user,
            )
    except ValidationError as exc:
        show_refusal(request, exc)
    if can(request.user, Action.RECORD_ATTENDANCE, meeting.body):
        return redirect("meetings:sitting_register", pk=pk)
    return redirect("meetings:sitting_console", pk=pk)


# ---- public gallery and room display ---------------------------------------------


@require_GET
def public_page(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(pk)
    if not meeting.is_published:
        raise Http404
    return render(
        request,
        "meetings/sitting/public.html",
        _context(request, meeting, live.PUBLIC),
    )


@login_required
@require_GET
def display_page(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _member_page_access(request, pk)
    return render(
        request,
        "meetings/sitting/display.html",
        _context(request, meeting, live.MEMBERS),
    )
