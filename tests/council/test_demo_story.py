"""The demo's past sitting is a consistent record: what a live sitting would leave."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from council.models import AuditEntry
from meetings import demo as meetings_demo
from meetings.models import AgendaItem, FloorRequest, Meeting, Recusal
from minutes.models import DecisionRecord, Minutes, MinutesVersion
from minutes.text import outcome_lines
from voting import demo as voting_demo
from voting import majority
from voting.models import (
    Ballot,
    Candidate,
    Participation,
    Poll,
    PollKeySeal,
    PublicVote,
    SealingKey,
)
from voting.services import sealing
from voting.services.polls import _secret_tally

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


MODELS = [
    Meeting,
    AgendaItem,
    FloorRequest,
    Recusal,
    Candidate,
    Poll,
    PublicVote,
    Participation,
    Ballot,
    PollKeySeal,
    SealingKey,
    Minutes,
    MinutesVersion,
    DecisionRecord,
    AuditEntry,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seeding_the_story_twice_changes_nothing():
    _seed()
    first = _counts()
    assert first["Poll"] > 0 and first["FloorRequest"] > 0
    assert first["DecisionRecord"] > 0
    _seed()
    assert _counts() == first


def _past() -> Meeting:
    return Meeting.objects.get(title=meetings_demo.PAST_TITLE)


def test_the_past_sitting_is_a_consistent_record():
    output = _seed()
    meeting = _past()
    assert voting_demo.DEMO_SEALING_PASSPHRASE in output
    start, end = meeting.opened_at, meeting.closed_at

    speeches = FloorRequest.objects.filter(meeting=meeting)
    assert speeches.values("item").distinct().count() >= 3
    assert speeches.values("group").distinct().count() >= 4
    for speech in speeches:
        assert speech.status == FloorRequest.Status.SPOKEN
        assert start < speech.requested_at <= speech.granted_at < speech.ended_at < end
        assert (speech.ended_at - speech.granted_at).seconds == speech.seconds
    recusal = Recusal.objects.get(item__meeting=meeting)
    assert start < recusal.at < end
    recused_item_polls = Poll.objects.filter(item=recusal.item)
    assert not PublicVote.objects.filter(
        poll__in=recused_item_polls, member=recusal.person
    ).exists()

    polls = list(Poll.objects.filter(item__meeting=meeting).select_related("item"))
    for poll in polls:
        stamps = [poll.opened_at, poll.closed_at, poll.unsealed_at, poll.announced_at]
        stamps = [s for s in stamps if s is not None]
        assert stamps == sorted(stamps) and start < stamps[0] and stamps[-1] < end
    public = [p for p in polls if not p.secret]
    decisions = [p.decision for p in public]
    assert decisions.count(majority.Decision.REJECTED) == 1
    assert decisions.count(majority.Decision.ADOPTED) == len(public) - 1
    for poll in public:
        votes = list(PublicVote.objects.filter(poll=poll))
        assert poll.participants == len(votes) == poll.eligible_at_close
        outcome = majority.decide(
            majority.Count(
                yes=poll.tally["yes"],
                no=poll.tally["no"],
                abstain=poll.tally["abstain"],
            )
        )
        assert outcome.decision == poll.decision
        assert poll.tally["yes"] == sum(v.choice == "yes" for v in votes)
    assert any(p.tally["no"] and p.tally["abstain"] for p in public)

    # Secret ballots: one participation per ballot, and the deputy's key (not
    # the one the demo unsealed with) opens the same tally.
    deputy_key = SealingKey.objects.get(holder__email__startswith="directrice.adjointe")
    holder = sealing.unlock_keyholder_key(
        deputy_key, voting_demo.DEMO_SEALING_PASSPHRASE
    )
    secret = [p for p in polls if p.secret]
    assert len(secret) == 3
    for poll in secret:
        assert poll.state == Poll.State.ANNOUNCED
        ballots = list(Ballot.objects.filter(poll=poll))
        participations = Participation.objects.filter(poll=poll, sealed=True)
        assert poll.participants == poll.ballots == len(ballots)
        assert participations.count() == len(ballots)
        for ballot in ballots:
            assert ballot.tracker == sealing.tracker_of(bytes(ballot.ciphertext))
        seal = PollKeySeal.objects.get(poll=poll, sealing_key=deputy_key)
        key = sealing.open_poll_key(bytes(seal.sealed_private_key), holder)
        choices = [sealing.open_choice(bytes(b.ciphertext), key) for b in ballots]
        tally = _secret_tally(poll, choices)
        assert {k: v for k, v in poll.tally.items() if k in tally} == tally

    first, second = sorted(
        (p for p in secret if p.item.kind == AgendaItem.Kind.APPOINTMENT),
        key=lambda p: p.round_number,
    )
    assert first.decision == majority.Decision.RUNOFF
    best = max(first.tally["candidates"].values())
    valid = sum(first.tally["candidates"].values())
    assert best < majority.absolute_majority(valid)
    assert sorted(first.tally["runoff"]) == sorted(
        second.candidates.values_list("pk", flat=True)
    )
    assert second.previous_round == first
    assert second.decision == majority.Decision.APPOINTED
    assert second.winner is not None and second.tie_broken_by_age
    loser = second.candidates.exclude(pk=second.winner.pk).get()
    assert second.winner.birth_date < loser.birth_date


def test_the_minutes_name_those_against_and_give_secret_totals_only():
    _seed()
    meeting = _past()
    minutes = Minutes.objects.get(meeting=meeting)
    assert minutes.state == Minutes.State.AWAITING_ADOPTION
    assert minutes.approved_by.email.startswith("directeur.general")
    upcoming = Meeting.objects.get(title=meetings_demo.NEXT_TITLE)
    assert minutes.approval_item.meeting == upcoming
    assert upcoming.items.filter(kind=AgendaItem.Kind.MINUTES_APPROVAL).count() == 1

    items = {item["position"]: item for item in minutes.content["items"]}
    against = {
        vote.member.display_name
        for vote in PublicVote.objects.filter(
            poll__item__meeting=meeting, poll__item__position=3, choice="no"
        ).select_related("member")
    }
    assert against and set(items[3]["vote"]["names_against"]) == against
    assert items[3]["speeches"] and items[6]["recusals"]
    assert items[3]["summary"]
    appointment = items[voting_demo.APPOINTMENT_POSITION]["vote"]
    assert appointment["secret"] and not appointment.get("names_against")
    # A run-off tie goes to the older candidate, and the minutes say why.
    assert appointment["tie_broken_by_age"]
    with translation.override("fr"):
        lines = outcome_lines(appointment)
    assert any("Parité des voix" in line for line in lines)
    assert any(appointment["appointed"] in line for line in lines)
    assert DecisionRecord.objects.filter(meeting=meeting).count() == len(
        [i for i in items.values() if i["vote"]]
    )
