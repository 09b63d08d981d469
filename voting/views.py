"""Pages of the voting app: thin wrappers around the services."""

from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from council.auth import logged_in_recently, recent_login_for_writes
from council.keyholders import is_confirmed_keyholder
from council.models import Body, User
from council.permissions import Action, can, require
from council.refusals import Refusal, show_refusal
from meetings.models import AgendaItem, Meeting
from meetings.register import Register
from voting import selectors
from voting.forms import (
    BallotForm,
    CandidateForm,
    KeySetupForm,
    PassphraseForm,
    ProxyVoteForm,
)
from voting.keyholders import body_keyholders, poll_keys
from voting.models import Candidate, Poll, PublicVote, SealingKey
from voting.results import poll_results
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.keys import sealing_key_setup
from voting.services.polls import (
    candidate_add,
    candidate_remove,
    poll_announce,
    poll_close,
    poll_open,
    poll_unseal,
)


def _poll(poll_id: int) -> Poll:
    return get_object_or_404(
        Poll.objects.select_related("item__meeting__body", "winner"), pk=poll_id
    )


def _reauthenticate(request, then: str) -> HttpResponseRedirect:
    # Unlike allauth's decorator, this never stashes the POST in the session:
    # the session table must not keep a ballot's choice or a passphrase.
    return HttpResponseRedirect(
        reverse("account_reauthenticate") + "?" + urlencode({"next": then})
    )


def _render_poll(request, poll: Poll, *, form=None, status=200):
    body = poll.item.meeting.body
    user = request.user
    state = selectors.ballot_state(poll, user)
    if state.offers_ballot and form is None:
        own = state.own_vote
        form = BallotForm(poll=poll, initial={"choice": own.choice} if own else None)
    context = {
        "poll": poll,
        "item": poll.item,
        "meeting": poll.item.meeting,
        "state": state,
        "form": form if state.may_vote else None,
        "needs_recent_login": poll.secret
        and state.may_vote
        and not logged_in_recently(request),
        "is_chair": can(user, Action.OPEN_VOTE, body),
        "is_clerk": can(user, Action.RECORD_ATTENDANCE, body),
        "is_keyholder": can(user, Action.HOLD_SEALING_KEY, body),
        "is_dg": can(user, Action.ANNOUNCE_RESULT, body),
        "keys": poll_keys(poll),
    }
    return render(request, "voting/poll.html", context, status=status)


@login_required
def poll_detail(request, poll_id: int):
    poll = _poll(poll_id)
    require(request.user, Action.VIEW_MEMBER_AREA, poll.item.meeting.body)
    return _render_poll(request, poll)


@login_required
@require_POST
def poll_vote(request, poll_id: int):
    """Step one: a public vote is recorded; a secret choice goes to confirmation."""
    poll = _poll(poll_id)
    require(request.user, Action.VOTE, poll.item.meeting.body)
    form = BallotForm(request.POST, poll=poll)
    if not form.is_valid():
        return _render_poll(request, poll, form=form, status=400)
    if poll.secret:
        if not logged_in_recently(request):
            return _reauthenticate(request, poll.get_absolute_url())
        response = render(
            request,
            "voting/confirm.html",
            {"poll": poll, "item": poll.item, "form": form, "label": form.label_of()},
        )
        # Its size must tell neither the choice (a candidate's name) nor the voter.
        return padded(response, RECEIPT_PAGE_BYTES)
    try:
        public_vote_cast(
            poll=poll, member=request.user, choice=form.cleaned_data["choice"]
        )
    except Refusal as exc:
        show_refusal(request, exc)
        return redirect(poll)
    messages.success(
        request, _("Your vote is recorded: %(label)s.") % {"label": form.label_of()}
    )
    return redirect(poll)


@login_required
@require_POST
@recent_login_for_writes
def _poll_cast(request, poll_id: int):
    """Step two of a secret ballot: seal it. The tracker is shown this once."""
    poll = _poll(poll_id)
    require(request.user, Action.VOTE, poll.item.meeting.body)
    form = BallotForm(request.POST, poll=poll)
    if not poll.secret or not form.is_valid():
        return _render_poll(request, poll, form=form, status=400)
    try:
        result = secret_ballot_cast(
            poll=poll,
            by=request.user,
            choice=form.cleaned_data["choice"],
            receipt_secret=form.cleaned_data["receipt_secret"],
        )
    except Refusal as exc:
        refused = render(
            request,
            "voting/refused.html",
            {"poll": poll, "error": str(exc)},
            status=409,
        )
        return padded(refused, RECEIPT_PAGE_BYTES)
    response = render(request, "voting/receipt.html", {"poll": poll, "result": result})
    return padded(response, RECEIPT_PAGE_BYTES)


# The size of a secret ballot's pages must not tell who is voting (the header
# names the member) nor what they chose (the confirmation names it): the
# confirmation and the receipt are padded to this many bytes, or a multiple.
RECEIPT_PAGE_BYTES = 8192
_PAD_OPEN, _PAD_CLOSE = b"<!--", b"-->"


def padded(response, size: int):
    """Pad an HTML response to ``size`` bytes (or the next multiple of it)."""
    body = response.content
    room = len(_PAD_OPEN) + len(_PAD_CLOSE)
    target = size * max(1, -(-(len(body) + room) // size))
    filler = _PAD_OPEN + b" " * (target - len(body) - room) + _PAD_CLOSE
    end = body.rfind(b"</body>")
    end = len(body) if end < 0 else end
    response.content = body[:end] + filler + body[end:]
    return response


async def poll_cast(request, poll_id: int):
    """Under ASGI, cast on a worker thread of its own, not the one shared thread.

    Django runs every sync view of a process on one thread, so a room voting
    at the same moment queued its ballots one behind the other, each waiting
    for the last one's queries and commit. Here each cast gets a pool thread
    and its own database connection (closed, or handed back to the pool,
    after the call); the service's transaction, the unique constraint and
    the poll's share lock keep it correct side by side. The answer is still
    sent only after the commit. Under WSGI (and Django's test client) the
    request's own thread is free anyway and runs it.
    """
    if isinstance(request, ASGIRequest):
        run = database_sync_to_async(_poll_cast, thread_sensitive=False)
    else:
        run = sync_to_async(_poll_cast, thread_sensitive=True)
    return await run(request, poll_id)


@login_required
def vote_controls(request, meeting_id: int):
    meeting = get_object_or_404(
        Meeting.objects.select_related("body", "current_item"), pk=meeting_id
    )
    require(request.user, Action.OPEN_VOTE, meeting.body)
    poll = selectors.current_poll(meeting)
    return render(
        request,
        "voting/controls.html",
        {
            "meeting": meeting,
            "item": meeting.current_item,
            "poll": poll,
            "voted_count": selectors.voted_count(poll) if poll else 0,
            "eligible_count": selectors.eligible_count(poll) if poll else 0,
        },
    )


@login_required
@require_POST
def vote_open(request, meeting_id: int):
    meeting = get_object_or_404(Meeting.objects.select_related("body"), pk=meeting_id)
    require(request.user, Action.OPEN_VOTE, meeting.body)
    if meeting.current_item_id is None:
        messages.error(request, _("There is no item under discussion."))
        return redirect("voting:controls", meeting_id=meeting.pk)
    try:
        poll_open(item=meeting.current_item, by=request.user)
    except Refusal as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("The vote is open."))
    return redirect("voting:controls", meeting_id=meeting.pk)


@login_required
@require_POST
def vote_close(request, poll_id: int):
    poll = _poll(poll_id)
    require(request.user, Action.OPEN_VOTE, poll.item.meeting.body)
    try:
        poll_close(poll=poll, by=request.user)
    except Refusal as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("The vote is closed."))
    return redirect("voting:controls", meeting_id=poll.item.meeting_id)


@login_required
@require_http_methods(["GET", "POST"])
def proxy_vote(request, poll_id: int):
    """The clerk records the vote a member in the room gave aloud."""
    poll = _poll(poll_id)
    require(request.user, Action.RECORD_ATTENDANCE, poll.item.meeting.body)
    if poll.secret:
        raise PermissionDenied
    register = Register.of(poll.item.meeting)
    in_room = register.eligible_ids(poll.item) & register.room_ids()
    members = list(
        User.objects.filter(pk__in=in_room).order_by("last_name", "first_name")
    )
    form = ProxyVoteForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        member = next(m for m in members if m.pk == form.cleaned_data["member"])
        try:
            public_vote_cast(
                poll=poll,
                member=member,
                choice=form.cleaned_data["choice"],
                by=request.user,
            )
        except Refusal as exc:
            show_refusal(request, exc)
        else:
            messages.success(
                request,
                _("Vote of %(name)s recorded on their behalf.")
                % {"name": member.display_name},
            )
            return redirect("voting:proxy", poll_id=poll.pk)
    votes = {
        v.member_id: v
        for v in PublicVote.objects.filter(poll=poll).select_related("recorded_by")
    }
    rows = [(m, votes.get(m.pk)) for m in members]
    return render(
        request,
        "voting/proxy.html",
        {"poll": poll, "item": poll.item, "form": form, "rows": rows},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def ballot_box(request, poll_id: int):
    """The published box: trackers in hash order, participants next to ballots."""
    poll = _poll(poll_id)
    require(request.user, Action.VIEW_MEMBER_AREA, poll.item.meeting.body)
    if not poll.secret or poll.state == Poll.State.OPEN:
        return render(request, "voting/box.html", {"poll": poll, "trackers": None})
    trackers = selectors.box_of(poll)
    return render(
        request,
        "voting/box.html",
        {
            "poll": poll,
            "item": poll.item,
            "trackers": trackers,
            "mismatch": poll.participants != len(trackers),
            "query": request.GET.get("tracker", "").strip().lower(),
        },
    )


@login_required
@recent_login_for_writes
@require_http_methods(["GET", "POST"])
def unseal(request, poll_id: int):
    poll = _poll(poll_id)
    require(request.user, Action.HOLD_SEALING_KEY, poll.item.meeting.body)
    form = PassphraseForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            poll_unseal(
                poll=poll, by=request.user, passphrase=form.cleaned_data["passphrase"]
            )
        except Refusal as exc:
            form.add_error(None, exc)
            status = 400
        else:
            messages.success(request, _("The ballot box is unsealed."))
            return redirect(poll)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "voting/unseal.html",
        {"poll": poll, "item": poll.item, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def announce(request, poll_id: int):
    poll = _poll(poll_id)
    require(request.user, Action.ANNOUNCE_RESULT, poll.item.meeting.body)
    if request.method == "POST":
        try:
            poll_announce(poll=poll, by=request.user)
        except Refusal as exc:
            show_refusal(request, exc)
        else:
            messages.success(request, _("The result is announced to the sitting."))
            return redirect(poll)
    result = selectors.poll_result(poll) if poll.state == Poll.State.UNSEALED else None
    return render(
        request,
        "voting/announce.html",
        {"poll": poll, "item": poll.item, "result": result},
    )


@login_required
@recent_login_for_writes
@require_http_methods(["GET", "POST"])
def key_setup(request, slug: str):
    body = get_object_or_404(Body, slug=slug)
    require(request.user, Action.HOLD_SEALING_KEY, body)
    form = KeySetupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                sealing_key_setup(
                    body=body,
                    by=request.user,
                    passphrase=form.cleaned_data["passphrase"],
                    confirm=form.cleaned_data["confirm"],
                )
            except Refusal as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Your sealing key is set up."))
                return redirect("voting:key_setup", slug=body.slug)
    key = SealingKey.objects.filter(holder=request.user, body=body, active=True).first()
    return render(
        request,
        "voting/key_setup.html",
        {
            "body": body,
            "form": form,
            "key": key,
            "pending": not is_confirmed_keyholder(request.user, body),
        },
        status=status,
    )


@login_required
def keyholders(request, slug: str):
    """Who holds the keys of the body's secret ballots, with their fingerprints."""
    body = get_object_or_404(Body, slug=slug)
    require(request.user, Action.VIEW_MEMBER_AREA, body)
    return render(
        request,
        "voting/keyholders.html",
        {
            "body": body,
            "rows": body_keyholders(body),
            "may_confirm": can(request.user, Action.CONFIRM_KEYHOLDER, body),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def candidates(request, item_id: int):
    item = get_object_or_404(
        AgendaItem.objects.select_related("meeting__body"), pk=item_id
    )
    require(request.user, Action.MANAGE_CANDIDATES, item.meeting.body)
    form = CandidateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                candidate_add(
                    item=item,
                    by=request.user,
                    name=form.cleaned_data["name"],
                    birth_date=form.cleaned_data["birth_date"],
                )
            except Refusal as exc:
                form.add_error(None, exc)
            else:
                return redirect("voting:candidates", item_id=item.pk)
    return render(
        request,
        "voting/candidates.html",
        {"item": item, "form": form, "candidates": item.candidates.all()},
        status=status,
    )


@login_required
@require_POST
def candidate_delete(request, candidate_id: int):
    candidate = get_object_or_404(
        Candidate.objects.select_related("item__meeting__body"), pk=candidate_id
    )
    require(request.user, Action.MANAGE_CANDIDATES, candidate.item.meeting.body)
    try:
        candidate_remove(candidate=candidate, by=request.user)
    except Refusal as exc:
        show_refusal(request, exc)
    return redirect("voting:candidates", item_id=candidate.item_id)


def meeting_results(request, meeting_id: int):
    """Results of a meeting: anyone sees public items; members see all."""
    meeting = get_object_or_404(Meeting.objects.select_related("body"), pk=meeting_id)
    closed_ok = can(request.user, Action.VIEW_CLOSED_SESSION, meeting.body)
    polls = [
        poll
        for poll in selectors.meeting_polls(meeting)
        if closed_ok or not poll.item.is_closed_session
    ]
    results = poll_results(poll for poll in polls if poll.result_is_public)
    rows = [(poll, results.get(poll.pk)) for poll in polls]
    return render(request, "voting/results.html", {"meeting": meeting, "rows": rows})
