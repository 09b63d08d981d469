"""Reads of the voting app: what each audience may see of a poll."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce

from council.permissions import Action, can
from meetings.register import Register, may_vote_now
from voting.models import Ballot, Participation, Poll, PublicVote
from voting.results import VoteResult, poll_results
from voting.services.ballots import sitting_refusal


def may_see_tally(user, poll: Poll) -> bool:
    """Before announcement, only a keyholder sees an unsealed secret tally."""
    if poll.result_is_public:
        return True
    return (
        poll.secret
        and poll.state == Poll.State.UNSEALED
        and can(user, Action.HOLD_SEALING_KEY, poll.item.meeting.body)
    )


def poll_result(poll: Poll) -> VoteResult | None:
    """The poll's counted result, with an appointment's earlier rounds.

    The caller checks who may see it (``may_see_tally``).
    """
    if poll.tally is None:
        return None
    polls = [poll]
    if poll.round_number > 1:
        polls += (
            Poll.objects.filter(
                item_id=poll.item_id, round_number__lt=poll.round_number
            )
            .select_related("winner")
            .prefetch_related("candidates")
        )
    return poll_results(polls)[poll.pk]


def item_results(meeting) -> dict[int, VoteResult]:
    """The result of every item of the meeting put to the vote, by item id.

    An item's result is that of its last round, which holds the earlier
    ones; an item whose secret result is not announced yet has a pending
    result, without counts. Items with only an open poll are absent.
    """
    polls = [p for p in meeting_polls(meeting) if p.state != Poll.State.OPEN]
    results = poll_results(polls)
    last = {poll.item_id: poll for poll in polls}
    return {
        item_id: results[poll.pk]
        if poll.result_is_public
        else VoteResult.pending_for(item_id)
        for item_id, poll in last.items()
    }


@dataclass(frozen=True)
class BallotState:
    """What a member's view of a poll shows: the poll page and the sitting's panel."""

    poll: Poll
    may_vote: bool  # open, and this person may vote on it now
    has_voted: bool
    own_vote: PublicVote | None  # their roll-call vote, which they may change
    voted_count: int
    eligible_count: int
    result: VoteResult | None  # the result this person may see
    result_private: bool  # an unsealed result, seen by the keyholders only
    # Why the sitting takes no ballot now (suspended, closed), or None: an
    # open poll of a suspended sitting waits, open, for the chair to resume.
    sitting_refusal: str | None = None

    @property
    def is_open(self) -> bool:
        return self.poll.is_open

    @property
    def waits_for_sitting(self) -> bool:
        """Open, but the sitting is not in session: no ballot until it resumes."""
        return self.poll.is_open and self.sitting_refusal is not None

    @property
    def offers_ballot(self) -> bool:
        """A ballot to fill in: a secret one is cast once, a public one changed."""
        return self.may_vote and not (self.poll.secret and self.has_voted)

    @property
    def box_published(self) -> bool:
        """The ballot box and its trackers are published once a secret poll closes."""
        return self.poll.secret and not self.poll.is_open

    @property
    def result_pending(self) -> bool:
        """A closed secret ballot whose result this person cannot see yet."""
        return self.result is None and self.box_published

    @property
    def public_result(self) -> VoteResult | None:
        """The result as the sitting may see it: never a keyholders' preview."""
        return None if self.result_private else self.result


def ballot_state(poll: Poll, user) -> BallotState:
    """Where ``user`` stands on ``poll``: may vote, has voted, the result they see."""
    body = poll.item.meeting.body
    own_vote = None
    if poll.secret:
        voted = Participation.objects.filter(poll=poll, member_id=user.pk).exists()
    else:
        own_vote = PublicVote.objects.filter(poll=poll, member_id=user.pk).first()
        voted = own_vote is not None
    visible = may_see_tally(user, poll)
    refusal = sitting_refusal(poll.item.meeting.state)
    return BallotState(
        poll=poll,
        may_vote=poll.is_open
        and refusal is None
        and can(user, Action.VOTE, body)
        and may_vote_now(poll.item, user),
        has_voted=voted,
        own_vote=own_vote,
        voted_count=voted_count(poll),
        eligible_count=eligible_count(poll),
        result=poll_result(poll) if visible else None,
        result_private=visible and not poll.result_is_public,
        sitting_refusal=refusal,
    )


def voted_count(poll: Poll) -> int:
    """How many have voted: fixed at closing, else counted (``current_poll``
    brings the counts along, so it costs no query then)."""
    if poll.participants is not None:
        return poll.participants
    counted = getattr(poll, "n_participations" if poll.secret else "n_votes", None)
    if counted is not None:
        return counted
    if poll.secret:
        return Participation.objects.filter(poll=poll).count()
    return PublicVote.objects.filter(poll=poll).count()


def eligible_count(poll: Poll, register: Register | None = None) -> int:
    """How many may vote: fixed at closing, else asked of the register."""
    if poll.eligible_at_close is not None:
        return poll.eligible_at_close
    register = register or Register.of(poll.item.meeting)
    return len(register.eligible_ids(poll.item))


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
        .order_by("item__position", "round_number")
    )


def _count(model) -> Coalesce:
    counted = (
        model.objects.filter(poll=OuterRef("pk"))
        .order_by()
        .values("poll")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def current_poll(meeting) -> Poll | None:
    """The current item's latest round, with how many have voted: one query.

    ``n_participations`` counts secret ballots cast, ``n_votes`` roll-call votes.
    """
    if not meeting.current_item_id:
        return None
    return (
        Poll.objects.filter(item_id=meeting.current_item_id)
        .select_related("item", "winner")
        .annotate(n_participations=_count(Participation), n_votes=_count(PublicVote))
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
