"""Casting votes: public roll-call votes (also by the clerk) and secret ballots.

Every function here is idempotent: the same request twice leaves one vote
and gives the same answer. A secret ballot is one Participation row and one
Ballot row, written in one transaction; the unique constraint on
Participation refuses a second one even from concurrent requests.

No ballot is taken unless the sitting is in session (``Meeting.accepts_ballots``):
an open poll of a suspended sitting stays open and refuses ballots until the
chair resumes; closing the sitting closes its open polls first. A cast holds
the poll's and the meeting's rows in share mode, so suspending or closing
waits for the casts in flight and every later cast sees the new state.
"""

import hashlib
import re
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import Action, require
from council.refusals import Refusal
from meetings.live import sitting_changed
from meetings.models import AgendaItem, Meeting
from meetings.register import ROOM, may_vote_now, place_now
from voting.choices import PROPOSAL_CHOICES, VoteChoice, candidate_key
from voting.models import Ballot, Poll, PublicVote
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
SITTING_SUSPENDED = _(
    "The sitting is suspended: votes resume when the chair resumes it."
)
SITTING_CLOSED = _("The sitting is closed: no more votes are cast.")
SITTING_NOT_IN_SESSION = _("The sitting is not in session: no vote is cast now.")
BAD_RECEIPT_SECRET = _(
    "The receipt code your browser sent is not valid: reload the page and vote again."
)
RECEIPT_SECRET_USED = _(
    "This receipt code is already in the box: reload the page and vote again."
)

RECEIPT_SECRET = re.compile(r"[0-9a-f]{64}")


def sitting_refusal(state: str) -> str | None:
    """Why a sitting in ``state`` takes no ballot, or None when it takes them."""
    if state in Meeting.BALLOT_STATES:
        return None
    if state == Meeting.State.SUSPENDED:
        return SITTING_SUSPENDED
    if state == Meeting.State.CLOSED:
        return SITTING_CLOSED
    return SITTING_NOT_IN_SESSION


def receipt_tracker(poll_id: int, secret: str) -> str:
    """The tracker of a ballot cast with the browser's receipt secret.

    ``static/js/ballot.js`` computes the same hash from the secret it kept, so
    a voter whose answer was lost still has their receipt; the server keeps
    the tracker with the ballot only, never with the member.
    """
    return hashlib.sha256(f"council-receipt:{poll_id}:{secret}".encode()).hexdigest()


@dataclass(frozen=True)
class CastResult:
    recorded: bool  # False when this member had already voted
    tracker: str = ""  # only on the request that stored the ballot


def _lock_open_poll(poll: Poll, *, share: bool) -> tuple[Poll, str]:
    """Hold the poll row so that closing waits for the casts in flight.

    Also hold the meeting's row in share mode, after the poll's (the order
    ``poll_close`` and closing the sitting take them in): suspending or
    closing the sitting waits for the casts in flight, and a cast waiting
    for them reads the sitting's new state. Answers the poll and the
    sitting's state.
    """
    if share and connection.vendor == "postgresql":
        # FOR SHARE lets ballots be cast side by side, and makes closing
        # (FOR UPDATE) wait until every ballot in flight is committed. The
        # locks are taken in the order of the OF list: the poll, then the
        # meeting; a cast that waited gets the rows as the other left them.
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.state, m.state "  # noqa: S608 - names from the models
                f"FROM {quote(Meeting._meta.db_table)} m "
                f"JOIN {quote(AgendaItem._meta.db_table)} i ON i.meeting_id = m.id "
                f"JOIN {quote(Poll._meta.db_table)} p ON p.item_id = i.id "
                "WHERE p.id = %s FOR SHARE OF p, m",
                [poll.pk],
            )
            row = cursor.fetchone()
        if row is None or row[0] != Poll.State.OPEN:
            raise Refusal(NOT_OPEN)
        # The rest of an open poll (item, public key) never changes.
        return poll, row[1]
    # SQLite runs with transaction_mode=IMMEDIATE: one writer at a time, so
    # the state read here cannot change before the commit. On PostgreSQL
    # only the poll and the meeting, and without their keys: a lock on the
    # body's row (or a key lock) would wait for, and be waited for by, any
    # audited change of the body committing meanwhile (its foreign-key check
    # at commit, under the audit chain's lock), and PostgreSQL ends one of
    # the two as a deadlock.
    locked = (
        Poll.objects.select_for_update(no_key=True, of=("self", "item__meeting"))
        .select_related("item__meeting__body")
        .get(pk=poll.pk)
    )
    if locked.state != Poll.State.OPEN:
        raise Refusal(NOT_OPEN)
    return locked, locked.item.meeting.state


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
        poll, sitting = _lock_open_poll(poll, share=False)
        if refusal := sitting_refusal(sitting):
            raise Refusal(refusal)
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


def secret_ballot_cast(
    *, poll: Poll, by, choice: str, receipt_secret: str = ""
) -> CastResult:
    """Seal the member's choice into the ballot box; one ballot per member.

    ``receipt_secret`` is a random secret the voter's browser made and kept:
    the ballot's tracker is then ``receipt_tracker`` of it, which the browser
    can show again if this answer is lost. Without it (no JavaScript) the
    tracker is the hash of the sealed ballot, shown once.
    """
    body = poll.item.meeting.body
    require(by, Action.VOTE, body)
    if not poll.secret:
        raise Refusal(WRONG_KIND)
    if choice not in valid_secret_choices(poll):
        raise Refusal(BAD_CHOICE)
    if receipt_secret and not RECEIPT_SECRET.fullmatch(receipt_secret):
        raise Refusal(BAD_RECEIPT_SECRET)
    # A key swapped in the database stops the vote (POLL_KEY_MISMATCH); the
    # ballot is sealed to the key that was checked, whatever the row says now.
    public_key = poll_key_verified(poll)
    try:
        return _secret_ballot_store(poll, by, choice, receipt_secret, public_key)
    except IntegrityError:
        # Only a receipt secret sent by two members (the tracker is unique):
        # the whole cast is rolled back.
        raise Refusal(RECEIPT_SECRET_USED) from None


def _secret_ballot_store(
    poll: Poll, by, choice: str, receipt_secret: str, public_key: bytes
) -> CastResult:
    with transaction.atomic():
        poll, sitting = _lock_open_poll(poll, share=True)
        if not box.participation_insert(poll=poll, member=by):
            # Already voted, or a concurrent request of the same member won
            # the race (the insert waited for its commit). A browser sending
            # its receipt secret again gets the receipt it already holds.
            return CastResult(
                recorded=False, tracker=_held_tracker(poll, receipt_secret)
            )
        if refusal := sitting_refusal(sitting):
            raise Refusal(refusal)  # and the participation is rolled back
        if not may_vote_now(poll.item, by):
            raise Refusal(NOT_ELIGIBLE)  # and the participation is rolled back
        ciphertext = sealing.seal_choice(choice, public_key)
        if receipt_secret:
            tracker = receipt_tracker(poll.pk, receipt_secret)
        else:
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


def _held_tracker(poll: Poll, receipt_secret: str) -> str:
    """The tracker of the browser's secret if that ballot is in the box, else ""."""
    if not receipt_secret:
        return ""
    tracker = receipt_tracker(poll.pk, receipt_secret)
    found = Ballot.objects.filter(poll_id=poll.pk, tracker=tracker).exists()
    return tracker if found else ""
