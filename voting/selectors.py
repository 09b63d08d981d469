"""Reads of the voting app: what each audience may see of a poll."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch

from council.permissions import Action, can
from meetings.register import Register
from voting.models import Ballot, Participation, Poll, PublicVote
from voting.services.polls import ABSTAIN, BLANK, NO, YES


@dataclass(frozen=True)
class CandidateResult:
    name: str
    votes: int
    appointed: bool


@dataclass(frozen=True)
class PollResult:
    decision: str
    yes: int = 0
    no: int = 0
    abstain: int = 0
    blank: int = 0
    invalid: int = 0
    required: int = 0
    candidates: list[CandidateResult] = field(default_factory=list)
    appointed: str = ""
    tie_broken_by_age: bool = False
    names_yes: list[str] = field(default_factory=list)
    names_against: list[str] = field(default_factory=list)
    names_abstaining: list[str] = field(default_factory=list)
    by_clerk: list[str] = field(default_factory=list)


def may_see_tally(user, poll: Poll) -> bool:
    """Before announcement, only a keyholder sees an unsealed secret tally."""
    if poll.result_is_public:
        return True
    return (
        poll.secret
        and poll.state == Poll.State.UNSEALED
        and can(user, Action.HOLD_SEALING_KEY, poll.item.meeting.body)
    )


def result_of(poll: Poll, votes: list[PublicVote] | None = None) -> PollResult | None:
    """The counted result; the caller checks who may see it."""
    if poll.tally is None:
        return None
    tally = poll.tally
    if "candidates" in tally:
        names = {str(c.pk): c.name for c in poll.candidates.all()}
        rows = sorted(
            (
                CandidateResult(names.get(k, "?"), n, str(poll.winner_id) == k)
                for k, n in tally["candidates"].items()
            ),
            key=lambda r: (-r.votes, r.name),
        )
        return PollResult(
            decision=poll.decision,
            blank=tally.get(BLANK, 0),
            invalid=tally.get("invalid", 0),
            required=tally.get("required", 0),
            candidates=rows,
            appointed=poll.winner.name if poll.winner_id else "",
            tie_broken_by_age=poll.tie_broken_by_age,
        )
    by_choice: dict[str, list[str]] = {YES: [], NO: [], ABSTAIN: []}
    by_clerk: list[str] = []
    if not poll.secret:
        if votes is None:
            votes = list(PublicVote.objects.filter(poll=poll).select_related("member"))
        for vote in sorted(
            votes, key=lambda v: (v.member.last_name, v.member.first_name)
        ):
            by_choice[vote.choice].append(vote.member.display_name)
            if vote.recorded_by_id:
                by_clerk.append(vote.member.display_name)
    return PollResult(
        decision=poll.decision,
        yes=tally.get(YES, 0),
        no=tally.get(NO, 0),
        abstain=tally.get(ABSTAIN, 0),
        blank=tally.get(BLANK, 0),
        invalid=tally.get("invalid", 0),
        required=tally.get("required", 0),
        names_yes=by_choice[YES],
        names_against=by_choice[NO],
        names_abstaining=by_choice[ABSTAIN],
        by_clerk=by_clerk,
    )


def voted_count(poll: Poll) -> int:
    if poll.secret:
        return Participation.objects.filter(poll=poll).count()
    return PublicVote.objects.filter(poll=poll).count()


def has_voted(poll: Poll, user) -> bool:
    model = Participation if poll.secret else PublicVote
    return model.objects.filter(poll=poll, member_id=user.pk).exists()


def eligible_count(poll: Poll) -> int:
    if poll.eligible_at_close is not None:
        return poll.eligible_at_close
    return len(Register.of(poll.item.meeting).eligible_ids(poll.item))


def box_of(poll: Poll) -> list[str]:
    """The published ballot box: trackers in hash order, never insertion order."""
    return list(
        Ballot.objects.filter(poll=poll)
        .order_by("tracker")
        .values_list("tracker", flat=True)
    )


def meeting_polls(meeting):
    """Every poll of the meeting, with what a results list needs, in few queries."""
    return (
        Poll.objects.filter(item__meeting=meeting)
        .select_related("item", "winner")
        .prefetch_related(
            "candidates",
            Prefetch(
                "votes",
                queryset=PublicVote.objects.select_related("member"),
                to_attr="prefetched_votes",
            ),
        )
        .annotate(n_participations=Count("participations", distinct=True))
        .order_by("item__position", "round_number")
    )


def current_poll(meeting) -> Poll | None:
    if not meeting.current_item_id:
        return None
    return (
        Poll.objects.filter(item_id=meeting.current_item_id)
        .select_related("item", "winner")
        .order_by("-round_number")
        .first()
    )


def sealed_polls(body) -> list[Poll]:
    """Secret polls of the body that are closed but not yet unsealed."""
    return list(
        Poll.objects.filter(
            item__meeting__body=body, secret=True, state=Poll.State.CLOSED
        )
        .select_related("item__meeting")
        .order_by("closed_at")
    )
