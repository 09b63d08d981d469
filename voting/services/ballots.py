"""Casting votes: public roll-call votes (also by the clerk) and secret ballots.

Every function here is idempotent: the same request twice leaves one vote
and gives the same answer. A secret ballot is one Participation row and one
Ballot row, written in one transaction; the unique constraint on
Participation refuses a second one even from concurrent requests.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import Action, require
from council.refusals import Refusal
from meetings.live import sitting_changed
from meetings.register import ROOM, may_vote_now, place_now
from voting.choices import PROPOSAL_CHOICES, VoteChoice, candidate_key
from voting.models import Poll, PublicVote
from voting.services import box, sealing
from voting.services.keys import poll_key_verified
from voting.services.polls import NOT_OPEN

NOT_ELIGIBLE = _(
    "You may not vote on this item: you are not registered present, or you are recused."
)
MEMBER_NOT_ELIGIBLE = _("This member is not present or is recused for this item.")
NOT_IN_ROOM = _("The clerk records votes only for members present in the room.")
BAD_CHOICE = _("Choose one of the options on the ballot.")
SECRET_NOT_BY_PROXY = _("Nobody may cast a secret ballot on another's behalf.")
WRONG_KIND = _("This is not the right form for this vote.")


@dataclass(frozen=True)
class CastResult:
    recorded: bool  # False when this member had already voted
    tracker: str = ""  # only on the request that stored the ballot


def _lock_open_poll(poll: Poll, *, share: bool) -> Poll:
    """Hold the poll row so that closing waits for the casts in flight."""
    if share and connection.vendor == "postgresql":
        # FOR SHARE lets ballots be cast side by side, and makes closing
        # (FOR UPDATE) wait until every ballot in flight is committed.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT state FROM voting_poll WHERE id = %s FOR SHARE", [poll.pk]
            )
            row = cursor.fetchone()
        if row is None or row[0] != Poll.State.OPEN:
            raise Refusal(NOT_OPEN)
        # The rest of an open poll (item, public key) never changes.
        return poll
    locked = (
        Poll.objects.select_for_update()
        .select_related("item__meeting__body")
        .get(pk=poll.pk)
    )
    if locked.state != Poll.State.OPEN:
        raise Refusal(NOT_OPEN)
    return locked


def public_vote_cast(*, poll: Poll, member, choice: str, by=None) -> PublicVote:
    """Record (or change) a member's roll-call vote; ``by`` is the clerk if not them."""
    by = by or member
    body = poll.item.meeting.body
    proxy = by.pk != member.pk
    if proxy:
        require(by, Action.RECORD_ATTENDANCE, body)
    else:
        require(member, Action.VOTE, body)
    if poll.secret:
        raise Refusal(SECRET_NOT_BY_PROXY if proxy else WRONG_KIND)
    if choice not in PROPOSAL_CHOICES:
        raise Refusal(BAD_CHOICE)
    with transaction.atomic():
        poll = _lock_open_poll(poll, share=False)
        if not may_vote_now(poll.item, member):
            raise Refusal(MEMBER_NOT_ELIGIBLE if proxy else NOT_ELIGIBLE)
        if proxy and place_now(poll.item.meeting, member.pk) != ROOM:
            raise Refusal(NOT_IN_ROOM)
        vote = PublicVote.objects.filter(poll=poll, member=member).first()
        previous = vote.choice if vote else None
        if vote is not None and vote.choice == choice:
            return vote  # the same vote again: nothing changes, nothing to log
        if vote is None:
            vote = PublicVote(poll=poll, member=member)
        vote.choice = choice
        vote.recorded_by = by if proxy else None
        vote.at = timezone.now()
        vote.save()
        audit_record(
            by=by,
            action="voting.vote.change" if previous else "voting.vote.cast",
            obj=poll,
            body=body,
            details={
                "member": member.pk,
                "choice": choice,
                "previous": previous,
                "by_clerk": proxy,
            },
        )
        sitting_changed(poll.item.meeting)
    return vote


def valid_secret_choices(poll: Poll) -> set[str]:
    if poll.item.kind == poll.item.Kind.APPOINTMENT:
        return {VoteChoice.BLANK} | {
            candidate_key(pk) for pk in poll.candidates.values_list("pk", flat=True)
        }
    return set(PROPOSAL_CHOICES)


def secret_ballot_cast(*, poll: Poll, by, choice: str) -> CastResult:
    """Seal the member's choice into the ballot box; one ballot per member."""
    body = poll.item.meeting.body
    require(by, Action.VOTE, body)
    if not poll.secret:
        raise Refusal(WRONG_KIND)
    if choice not in valid_secret_choices(poll):
        raise Refusal(BAD_CHOICE)
    # A key swapped in the database stops the vote (POLL_KEY_MISMATCH); the
    # ballot is sealed to the key that was checked, whatever the row says now.
    public_key = poll_key_verified(poll)
    with transaction.atomic():
        poll = _lock_open_poll(poll, share=True)
        if not box.participation_insert(poll=poll, member=by):
            # Already voted, or a concurrent request of the same member won
            # the race (the insert waited for its commit).
            return CastResult(recorded=False)
        if not may_vote_now(poll.item, by):
            raise Refusal(NOT_ELIGIBLE)  # and the participation is rolled back
        ciphertext = sealing.seal_choice(choice, public_key)
        tracker = sealing.tracker_of(ciphertext)
        # At a random rowid on SQLite; where it lands on PostgreSQL, with the
        # casting transaction's id, is undone when the poll closes (box.py).
        box.ballot_insert(poll=poll, ciphertext=ciphertext, tracker=tracker)
        # No audit entry per secret ballot: the chain's timestamps would order
        # participants by casting time, a step towards pairing them with
        # ballots. The participation row is the record; closing writes the
        # list of participants into the audit log in one entry.
        sitting_changed(poll.item.meeting)
    return CastResult(recorded=True, tracker=tracker)
