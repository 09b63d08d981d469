"""The life of a poll: open, close, unseal, announce; candidates; run-offs."""

from collections import Counter
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import Action, require
from council.refusals import Refusal
from meetings.live import sitting_changed
from meetings.models import AgendaItem, Meeting
from meetings.register import Register
from voting import majority
from voting.choices import PROPOSAL_CHOICES, VoteChoice, candidate_key, candidate_pk
from voting.models import (
    Ballot,
    Candidate,
    Poll,
    PollKeySeal,
    PublicVote,
)
from voting.services import box, sealing
from voting.services.keys import (
    POLL_KEY_MISMATCH_UNSEAL,
    SEALING_KEY_FORGED,
    active_keys,
    poll_key_alarm,
    poll_key_is_bound,
    poll_key_tag_of,
    sealing_key_alarm,
    sealing_key_is_bound,
)
from voting.tasks import ballot_tables_rewrite

NOT_IN_SESSION = _("Votes open only while the sitting is in session.")
NOT_CURRENT_ITEM = _("A vote opens only on the item under discussion.")
NO_VOTE_ON_ITEM = _("This item is not put to the vote.")
ALREADY_OPEN = _("A vote is already open on this item.")
RESULT_PENDING = _("The result of the previous vote on this item is not announced.")
ALREADY_DECIDED = _("This item has already been decided.")
NO_QUORUM = _("There is no quorum: more than half of the members must be present.")
NO_CANDIDATES = _("Add the candidates before opening the ballot.")
NO_KEYHOLDER = _(
    "No keyholder has set up a sealing key: a secret ballot cannot be sealed."
)
NOT_OPEN = _("This vote is not open.")
NOT_CLOSED = _("Only a closed secret ballot can be unsealed.")
NOT_UNSEALED = _("Only an unsealed result can be announced.")
WRONG_PASSPHRASE = _("Wrong passphrase: nothing was unsealed.")
NO_SEAL_FOR_YOU = _("This ballot was not sealed to your key.")
BALLOT_CORRUPT = _("A ballot does not open: the ballot box was altered.")
CANDIDATE_NAME_REQUIRED = _("Give the candidate's name.")
CANDIDATE_EXISTS = _("This candidate is already on the list.")
CANDIDATES_LOCKED = _("Candidates cannot change once the ballot has opened.")
NOT_APPOINTMENT = _("Only appointment items have candidates.")


def motion_of(item: AgendaItem) -> majority.Motion:
    if item.kind == AgendaItem.Kind.URGENCY:
        return majority.Motion.URGENCY
    return majority.Motion.ORDINARY


def _locked_item(item: AgendaItem) -> AgendaItem:
    return (
        AgendaItem.objects.select_for_update()
        .select_related("meeting__body")
        .get(pk=item.pk)
    )


class _ForgedSealingKeys(Exception):
    def __init__(self, keys):
        self.keys = keys


def poll_open(*, item: AgendaItem, by) -> Poll:
    """Open the vote on the item under discussion.

    A secret ballot is sealed to the keyholders' keys only if each verifies
    against the server's secret; otherwise nothing opens, and the alarm is
    recorded after the opening's transaction is rolled back.
    """
    try:
        return _poll_open(item=item, by=by)
    except _ForgedSealingKeys as forged:
        sealing_key_alarm(body=item.meeting.body, keys=forged.keys, by=by)
        raise Refusal(SEALING_KEY_FORGED) from None


def _poll_open(*, item: AgendaItem, by) -> Poll:
    body = item.meeting.body
    require(by, Action.OPEN_VOTE, body)
    with transaction.atomic():
        item = _locked_item(item)
        meeting = Meeting.objects.lock(item.meeting_id)
        if meeting.state != Meeting.State.IN_SESSION:
            raise Refusal(NOT_IN_SESSION)
        if meeting.current_item_id != item.pk:
            raise Refusal(NOT_CURRENT_ITEM)
        # The item's kind has already set its vote (AgendaItem.forced_by_kind).
        if item.vote_kind == AgendaItem.VoteKind.NONE:
            raise Refusal(NO_VOTE_ON_ITEM)
        polls = list(item.polls.order_by("round_number"))
        if any(p.state == Poll.State.OPEN for p in polls):
            raise Refusal(ALREADY_OPEN)
        if any(
            p.secret and p.state in (Poll.State.CLOSED, Poll.State.UNSEALED)
            for p in polls
        ):
            raise Refusal(RESULT_PENDING)
        previous = polls[-1] if polls else None
        if previous is not None and previous.decision != majority.Decision.RUNOFF:
            raise Refusal(ALREADY_DECIDED)
        if not Register.of(item.meeting).quorum(item).reached:
            raise Refusal(NO_QUORUM)
        if previous is not None:
            runoff = list(previous.tally.get("runoff", []))
            candidates = list(Candidate.objects.filter(item=item, pk__in=runoff))
        elif item.kind == AgendaItem.Kind.APPOINTMENT:
            candidates = list(item.candidates.all())
            if not candidates:
                raise Refusal(NO_CANDIDATES)
        else:
            candidates = []
        secret = item.vote_kind == AgendaItem.VoteKind.SECRET
        keys = active_keys(body) if secret else []
        if secret and not keys:
            raise Refusal(NO_KEYHOLDER)
        if forged := [k for k in keys if not sealing_key_is_bound(k)]:
            raise _ForgedSealingKeys(forged)
        poll = Poll(
            item=item,
            secret=secret,
            round_number=(previous.round_number + 1) if previous else 1,
            previous_round=previous,
            opened_at=timezone.now(),
            opened_by=by,
        )
        if secret:
            public, sealed = sealing.new_poll_key([bytes(k.public_key) for k in keys])
            poll.public_key = public
        poll.save()
        if candidates:
            poll.candidates.set(candidates)
        if secret:
            seals = PollKeySeal.objects.bulk_create(
                PollKeySeal(poll=poll, sealing_key=k, sealed_private_key=s)
                for k, s in zip(keys, sealed, strict=True)
            )
            poll.key_binding = poll_key_tag_of(poll, seals)
            poll.save(update_fields=["key_binding"])
        audit_record(
            by=by,
            action="voting.poll.open",
            obj=poll,
            body=body,
            details={
                "item": item.pk,
                "secret": secret,
                "round": poll.round_number,
                "candidates": [c.pk for c in candidates],
                "sealed_to": [k.holder_id for k in keys],
                "key_fingerprint": poll.key_fingerprint,
                "sealing_keys": [
                    {"holder": k.holder_id, "fingerprint": k.fingerprint} for k in keys
                ],
            },
        )
        sitting_changed(meeting)
    return poll


def _lock_poll(poll: Poll) -> Poll:
    return (
        Poll.objects.select_for_update()
        .select_related("item__meeting__body")
        .get(pk=poll.pk)
    )


def _public_tally(poll: Poll) -> dict:
    counts = Counter(
        PublicVote.objects.filter(poll=poll).values_list("choice", flat=True)
    )
    # Blank and invalid stay at 0: a roll-call offers neither.
    return {choice.value: counts[choice] for choice in VoteChoice}


def _decide(poll: Poll, tally: dict) -> None:
    """Fill in the decision (and the winner or run-off) from the tally."""
    preset = poll.item.meeting.body.rules_preset
    if poll.item.kind == AgendaItem.Kind.APPOINTMENT:
        candidates = {str(c.pk): c for c in poll.candidates.select_related("person")}
        contenders = [
            majority.Contender(
                key=key,
                name=c.name,
                birth_date=c.effective_birth_date,
                votes=tally["candidates"].get(key, 0),
            )
            for key, c in candidates.items()
        ]
        result = majority.appoint(
            contenders, runoff=poll.previous_round_id is not None, preset=preset
        )
        poll.decision = result.decision
        poll.tie_broken_by_age = result.tie_broken_by_age
        poll.winner = candidates[result.winner.key] if result.winner else None
        tally["runoff"] = [int(c.key) for c in result.runoff]
        tally["required"] = result.required
        return
    count = majority.Count(**{c.value: tally[c] for c in VoteChoice})
    outcome = majority.decide(
        count,
        preset=preset,
        motion=motion_of(poll.item),
        present=max(poll.eligible_at_close or 0, count.cast),
    )
    poll.decision = outcome.decision
    tally["required"] = outcome.required


def poll_close(*, poll: Poll, by) -> Poll:
    """Close the vote: count a roll-call; publish a secret ballot box."""
    require(by, Action.OPEN_VOTE, poll.item.meeting.body)
    with transaction.atomic():
        poll = _lock_poll(poll)
        if poll.state != Poll.State.OPEN:
            raise Refusal(NOT_OPEN)
        poll.state = Poll.State.CLOSED
        poll.closed_at = timezone.now()
        register = Register.of(poll.item.meeting)
        poll.eligible_at_close = len(register.eligible_ids(poll.item))
        participant_ids: list[int] = []
        if poll.secret:
            # Every row of the poll written again by this transaction, in
            # random orders; the job after the commit drops the old versions.
            poll.ballots, members = box.box_reshuffle(poll=poll)
            participant_ids = sorted(members)
            poll.participants = len(participant_ids)
            transaction.on_commit(
                partial(
                    ballot_tables_rewrite.enqueue,
                    poll.pk,
                    box.closing_transaction_id(),
                )
            )
        else:
            tally = _public_tally(poll)
            poll.participants = poll.ballots = sum(
                tally[choice] for choice in PROPOSAL_CHOICES
            )
            _decide(poll, tally)
            poll.tally = tally
        poll.save()
        audit_record(
            by=by,
            action="voting.poll.close",
            obj=poll,
            body=poll.item.meeting.body,
            details={
                "participants": poll.participants,
                "participant_ids": participant_ids,
                "ballots": poll.ballots,
                "eligible": poll.eligible_at_close,
                "tally": poll.tally,
                "decision": poll.decision,
            },
        )
        sitting_changed(poll.item.meeting)
    return poll


def _secret_tally(poll: Poll, choices: list[str]) -> dict:
    """Count opened ballots; a value the ballot did not offer is invalid."""
    counts = Counter(choices)
    blank = VoteChoice.BLANK
    if poll.item.kind == AgendaItem.Kind.APPOINTMENT:
        keys = sorted(
            candidate_key(pk) for pk in poll.candidates.values_list("pk", flat=True)
        )
        tally = {
            "candidates": {str(candidate_pk(key)): counts[key] for key in keys},
            blank.value: counts[blank],
        }
        offered = {*keys, blank}
    else:
        offered = (*PROPOSAL_CHOICES, blank)
        tally = {choice.value: counts[choice] for choice in offered}
    tally[VoteChoice.INVALID.value] = sum(
        n for choice, n in counts.items() if choice not in offered
    )
    return tally


def poll_unseal(*, poll: Poll, by, passphrase: str) -> Poll:
    """Open the ballot box with the keyholder's passphrase; keyholders see the tally."""
    body = poll.item.meeting.body
    require(by, Action.HOLD_SEALING_KEY, body)
    poll = Poll.objects.select_related("item__meeting__body").get(pk=poll.pk)
    if poll.state != Poll.State.CLOSED or not poll.secret:
        raise Refusal(NOT_CLOSED)
    seal = (
        PollKeySeal.objects.filter(poll=poll, sealing_key__holder=by)
        .select_related("sealing_key")
        .first()
    )
    if seal is None:
        raise Refusal(NO_SEAL_FOR_YOU)
    if poll.key_alarm_at is not None or not poll_key_is_bound(poll):
        poll_key_alarm(poll=poll, during="unseal")
        raise Refusal(POLL_KEY_MISMATCH_UNSEAL)
    # The slow key derivation runs before any lock is taken; a failed attempt
    # is kept in the audit log while the poll stays as it was.
    try:
        holder_key = sealing.unlock_keyholder_key(seal.sealing_key, passphrase)
    except sealing.SealingError:
        audit_record(by=by, action="voting.poll.unseal_refused", obj=poll, body=body)
        raise Refusal(WRONG_PASSPHRASE) from None
    with transaction.atomic():
        poll = _lock_poll(poll)
        if poll.state != Poll.State.CLOSED:
            raise Refusal(NOT_CLOSED)
        try:
            poll_key = sealing.open_poll_key(bytes(seal.sealed_private_key), holder_key)
            if bytes(poll_key.public_key) != bytes(poll.public_key):
                raise sealing.SealingError("the seal holds another poll's key")
            choices = [
                sealing.open_choice(bytes(c), poll_key)
                for c in Ballot.objects.filter(poll=poll).values_list(
                    "ciphertext", flat=True
                )
            ]
        except sealing.SealingError:
            raise Refusal(BALLOT_CORRUPT) from None
        tally = _secret_tally(poll, choices)
        _decide(poll, tally)
        poll.tally = tally
        poll.state = Poll.State.UNSEALED
        poll.unsealed_at = timezone.now()
        poll.save()
        # The tally stays out of the audit log until it is announced.
        audit_record(
            by=by,
            action="voting.poll.unseal",
            obj=poll,
            body=body,
            details={"ballots": len(choices)},
        )
    return poll


def poll_announce(*, poll: Poll, by) -> Poll:
    """The director-general announces an unsealed result to the sitting."""
    body = poll.item.meeting.body
    require(by, Action.ANNOUNCE_RESULT, body)
    with transaction.atomic():
        poll = _lock_poll(poll)
        if poll.state != Poll.State.UNSEALED:
            raise Refusal(NOT_UNSEALED)
        poll.state = Poll.State.ANNOUNCED
        poll.announced_at = timezone.now()
        poll.save(update_fields=["state", "announced_at"])
        audit_record(
            by=by,
            action="voting.poll.announce",
            obj=poll,
            body=body,
            details={
                "tally": poll.tally,
                "decision": poll.decision,
                "winner": poll.winner_id,
            },
        )
        sitting_changed(poll.item.meeting)
    return poll


def candidate_add(*, item: AgendaItem, by, name: str, birth_date=None) -> Candidate:
    body = item.meeting.body
    require(by, Action.MANAGE_CANDIDATES, body)
    name = (name or "").strip()
    if item.kind != AgendaItem.Kind.APPOINTMENT:
        raise Refusal(NOT_APPOINTMENT)
    if not name:
        raise Refusal(CANDIDATE_NAME_REQUIRED)
    with transaction.atomic():
        item = _locked_item(item)
        if item.polls.exists():
            raise Refusal(CANDIDATES_LOCKED)
        if item.candidates.filter(name=name).exists():
            raise Refusal(CANDIDATE_EXISTS)
        candidate = Candidate.objects.create(
            item=item, name=name, birth_date=birth_date
        )
        audit_record(
            by=by,
            action="voting.candidate.add",
            obj=candidate,
            body=body,
            details={"item": item.pk, "name": name},
        )
    return candidate


def candidate_remove(*, candidate: Candidate, by) -> None:
    body = candidate.item.meeting.body
    require(by, Action.MANAGE_CANDIDATES, body)
    with transaction.atomic():
        item = _locked_item(candidate.item)
        if item.polls.exists():
            raise Refusal(CANDIDATES_LOCKED)
        audit_record(
            by=by,
            action="voting.candidate.remove",
            obj=candidate,
            body=body,
            details={"item": item.pk, "name": candidate.name},
        )
        candidate.delete()
