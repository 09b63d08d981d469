"""The voting part of the demo: sealing keys, candidates, and the votes of the
past sitting.

The past sitting's polls are made with the voting app's own functions: each
secret ballot is sealed to a poll key sealed in turn to both keyholders'
keys, with its participation row and tracker; the box is opened with the
director-general's demo passphrase, counted and decided by the same rules as
a live sitting, and announced through the service. Only the timestamps are
then set back into the past sitting's time window.
"""

import datetime

from django.db import transaction

from council.audit import audit_record
from council.models import Mandate
from meetings.demo import past_meeting, past_window
from meetings.models import AgendaItem, Meeting
from meetings.register import Register
from voting.choices import PROPOSAL_CHOICES, VoteChoice, candidate_key
from voting.models import (
    Ballot,
    Candidate,
    Participation,
    Poll,
    PollKeySeal,
    PublicVote,
    SealingKey,
)
from voting.services import box, sealing
from voting.services.keys import active_keys, poll_key_tag_of, sealing_key_setup
from voting.services.polls import (
    _decide,
    _public_tally,
    _secret_tally,
    poll_announce,
)

YES, NO, ABSTAIN = PROPOSAL_CHOICES
BLANK = VoteChoice.BLANK

# Demo only: a real keyholder chooses a passphrase the server never sees twice.
DEMO_SEALING_PASSPHRASE = "demo-sealing-passphrase"

DEMO_CANDIDATES = [
    ("Claire Dumont", datetime.date(1971, 4, 12)),
    ("Marc Lefèvre", datetime.date(1965, 11, 3)),
    ("Nadia Benali", datetime.date(1983, 7, 28)),
]

# The past sitting's appointment of a primary teacher: nobody has the
# absolute majority in the first round; the run-off is a tie that the law
# gives to the older candidate.
PAST_CANDIDATES = [
    ("Julie Marchand", datetime.date(1994, 2, 17)),
    ("Amélie Gilson", datetime.date(1989, 10, 5)),
    ("Sarah Delvaux", datetime.date(1997, 6, 30)),
]
PAST_ROUNDS = [
    {"Julie Marchand": 17, "Amélie Gilson": 15, "Sarah Delvaux": 7, BLANK: 2},
    {"Julie Marchand": 20, "Amélie Gilson": 20, BLANK: 1},
]
# How each political group voted on the past sitting's public items (by
# position); members not listed in ``PAST_EXCEPTIONS`` follow their group.
# The majority is PS + MR; the motion of an opposition member is rejected.
PAST_GROUP_VOTES = {
    1: {"PS": YES, "MR": YES, "LE": YES, "ECOLO": YES, "PTB": YES},
    3: {"PS": YES, "MR": YES, "LE": YES, "ECOLO": ABSTAIN, "PTB": NO},
    4: {"PS": YES, "MR": YES, "LE": YES, "ECOLO": YES, "PTB": ABSTAIN},
    5: {"PS": YES, "MR": YES, "LE": YES, "ECOLO": YES, "PTB": YES},
    6: {"PS": YES, "MR": YES, "LE": YES, "ECOLO": NO, "PTB": ABSTAIN},
    7: {"PS": YES, "MR": YES, "LE": YES, "ECOLO": ABSTAIN, "PTB": NO},
    8: {"PS": NO, "MR": NO, "LE": YES, "ECOLO": YES, "PTB": YES},
}
# (position, member index in [chair, *councillors]) -> choice
PAST_EXCEPTIONS = {
    (1, 5): ABSTAIN,
    (1, 40): ABSTAIN,
    (7, 36): NO,
    (7, 37): NO,
    (8, 31): ABSTAIN,
}
# The closed-session decision on an agent's pension, by secret ballot.
PAST_SECRET_ITEM = 10
PAST_SECRET_CHOICES = {YES: 38, NO: 1, ABSTAIN: 2}
APPOINTMENT_POSITION = 9
_UNLOCKED: dict = {}


def seed(cast) -> None:
    """Keys for both keyholders, candidates, and the past sitting's votes."""
    for holder in (cast.director_general, cast.deputy_director_general):
        if not SealingKey.objects.filter(
            holder=holder, body=cast.body, active=True
        ).exists():
            sealing_key_setup(
                body=cast.body,
                by=holder,
                passphrase=DEMO_SEALING_PASSPHRASE,
                confirm=DEMO_SEALING_PASSPHRASE,
            )
    _record_votes(cast)
    # Candidates for the appointments still to be held.
    items = (
        AgendaItem.objects.filter(
            meeting__body=cast.body,
            kind=AgendaItem.Kind.APPOINTMENT,
            polls__isnull=True,
        )
        .exclude(meeting__state=Meeting.State.CLOSED)
        .distinct()
    )
    for item in items:
        for name, born in DEMO_CANDIDATES:
            Candidate.objects.get_or_create(
                item=item, name=name, defaults={"birth_date": born}
            )
    entry = ("Sealing passphrase (DG, deputy)", DEMO_SEALING_PASSPHRASE)
    if entry not in cast.logins:
        cast.logins.append(entry)


def _minutes(moment: datetime.datetime, minutes: float) -> datetime.datetime:
    return moment + datetime.timedelta(minutes=minutes)


@transaction.atomic
def _record_votes(cast) -> None:
    meeting = past_meeting(cast)
    if meeting is None or meeting.state != Meeting.State.CLOSED:
        return
    _UNLOCKED.clear()
    items = {item.position: item for item in meeting.items.all()}
    if Poll.objects.filter(item__meeting=meeting).exists():
        return
    members = [cast.chair, *cast.councillors]
    index_of = {person.pk: index for index, person in enumerate(members)}
    groups = dict(
        Mandate.objects.filter(body=cast.body, group__isnull=False).values_list(
            "person_id", "group__short_name"
        )
    )
    register = Register.of(meeting)
    for position, by_group in PAST_GROUP_VOTES.items():
        item = items[position]
        voters = sorted(register.eligible_ids(item), key=index_of.get)
        choices = {
            pk: PAST_EXCEPTIONS.get((position, index_of[pk]), by_group[groups[pk]])
            for pk in voters
        }
        _public_poll(cast, item, choices)
    secret = items.get(PAST_SECRET_ITEM)
    if secret is not None and secret.kind != AgendaItem.Kind.APPOINTMENT:
        _secret_poll(cast, secret, _ballots(PAST_SECRET_CHOICES), rounds=None)
    appointment = items[APPOINTMENT_POSITION]
    candidates = {
        name: Candidate.objects.get_or_create(
            item=appointment, name=name, defaults={"birth_date": born}
        )[0]
        for name, born in PAST_CANDIDATES
    }
    previous = None
    for number, counts in enumerate(PAST_ROUNDS, start=1):
        choices = _ballots(
            {
                (k if k == BLANK else candidate_key(candidates[k].pk)): n
                for k, n in counts.items()
            }
        )
        running = [candidates[k] for k in counts if k != BLANK]
        previous = _secret_poll(
            cast, appointment, choices, rounds=(number, previous, running)
        )
    audit_record(
        by=cast.clerk,
        action="voting.demo_seed",
        obj=meeting,
        body=meeting.body,
        details={"polls": Poll.objects.filter(item__meeting=meeting).count()},
    )


def _ballots(counts: dict[str, int]) -> list[str]:
    return [choice for choice, n in counts.items() for _ in range(n)]


def _public_poll(cast, item: AgendaItem, choices: dict[int, str]) -> Poll:
    begin, end = past_window(item.meeting, item.position)
    opened = _minutes(end, -3)
    poll = Poll.objects.create(
        item=item,
        secret=False,
        opened_at=opened,
        opened_by=cast.chair,
    )
    PublicVote.objects.bulk_create(
        PublicVote(
            poll=poll,
            member_id=pk,
            choice=choice,
            at=opened + datetime.timedelta(seconds=5 + 2 * n),
        )
        for n, (pk, choice) in enumerate(choices.items())
    )
    # Closing as poll_close does it: count, then decide by the body's rules.
    poll.state = Poll.State.CLOSED
    poll.closed_at = _minutes(end, -1)
    poll.eligible_at_close = len(choices)
    tally = _public_tally(poll)
    poll.participants = poll.ballots = sum(tally[k] for k in PROPOSAL_CHOICES)
    _decide(poll, tally)
    poll.tally = tally
    poll.save()
    return poll


def _secret_poll(cast, item: AgendaItem, choices: list[str], rounds) -> Poll:
    """A secret ballot cast, closed, unsealed and announced as in a sitting."""
    meeting = item.meeting
    begin, end = past_window(meeting, item.position)
    number, previous, running = rounds or (1, None, [])
    opened = _minutes(begin, 2 + 9 * (number - 1))
    keys = list(active_keys(meeting.body))
    public, sealed = sealing.new_poll_key([bytes(k.public_key) for k in keys])
    poll = Poll.objects.create(
        item=item,
        secret=True,
        round_number=number,
        previous_round=previous,
        opened_at=opened,
        opened_by=cast.chair,
        public_key=public,
    )
    if running:
        poll.candidates.set(running)
    seals = PollKeySeal.objects.bulk_create(
        PollKeySeal(poll=poll, sealing_key=k, sealed_private_key=s)
        for k, s in zip(keys, sealed, strict=True)
    )
    poll.key_binding = poll_key_tag_of(poll, seals)
    voters = sorted(Register.of(meeting).eligible_ids(item))
    if len(voters) != len(choices):
        raise ValueError("the demo's ballots must match the members present")
    Participation.objects.bulk_create(
        Participation(poll=poll, member_id=pk, sealed=True) for pk in voters
    )
    ciphertexts = [
        sealing.seal_choice(choice, bytes(poll.public_key)) for choice in choices
    ]
    Ballot.objects.bulk_create(
        Ballot(poll=poll, ciphertext=c, tracker=sealing.tracker_of(c))
        for c in ciphertexts
    )
    box.box_reshuffle(poll=poll)  # stored as closing stores a real box
    poll.state = Poll.State.CLOSED
    poll.closed_at = _minutes(opened, 4)
    poll.eligible_at_close = len(voters)
    poll.participants = len(voters)
    poll.ballots = Ballot.objects.filter(poll=poll).count()
    poll.save()
    # Unsealing as poll_unseal does it, with the director-general's key.
    seal = PollKeySeal.objects.select_related("sealing_key").get(
        poll=poll, sealing_key__holder=cast.director_general
    )
    # The slow key derivation once per key, not once per poll.
    holder_key = _UNLOCKED.get(seal.sealing_key_id)
    if holder_key is None:
        holder_key = sealing.unlock_keyholder_key(
            seal.sealing_key, DEMO_SEALING_PASSPHRASE
        )
        _UNLOCKED[seal.sealing_key_id] = holder_key
    poll_key = sealing.open_poll_key(bytes(seal.sealed_private_key), holder_key)
    opened_choices = [
        sealing.open_choice(bytes(c), poll_key)
        for c in Ballot.objects.filter(poll=poll).values_list("ciphertext", flat=True)
    ]
    tally = _secret_tally(poll, opened_choices)
    _decide(poll, tally)
    poll.tally = tally
    poll.state = Poll.State.UNSEALED
    poll.unsealed_at = _minutes(opened, 5)
    poll.save()
    poll = poll_announce(poll=poll, by=cast.director_general)
    poll.announced_at = _minutes(opened, 6)
    poll.save(update_fields=["announced_at"])
    return poll
