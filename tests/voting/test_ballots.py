"""Casting: public votes, clerk's proxy entries, secret ballots, idempotence."""

import pytest
from django.core.exceptions import PermissionDenied

from council.models import AuditEntry
from council.refusals import Refusal
from meetings.models import AttendanceEvent, Recusal
from tests.factories import arrive, leave, make_item
from voting.models import Ballot, Participation, PublicVote
from voting.services.ballots import (
    BAD_CHOICE,
    NOT_ELIGIBLE,
    NOT_IN_ROOM,
    SECRET_NOT_BY_PROXY,
    public_vote_cast,
    secret_ballot_cast,
)
from voting.services.polls import NOT_OPEN, poll_close, poll_open
from voting.services.sealing import PADDED_LENGTH, tracker_of

pytestmark = pytest.mark.django_db


def test_member_votes_and_changes_while_open(public_poll, councillor):
    public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    public_vote_cast(poll=public_poll, member=councillor, choice="no")
    vote = PublicVote.objects.get(poll=public_poll, member=councillor)
    assert vote.choice == "no"
    entries = AuditEntry.objects.filter(action__startswith="voting.vote.")
    assert [
        (e.action, e.details["choice"], e.details["previous"]) for e in entries
    ] == [
        ("voting.vote.cast", "yes", None),
        ("voting.vote.change", "no", "yes"),
    ]


def test_the_same_vote_twice_changes_nothing(public_poll, councillor):
    public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    before = AuditEntry.objects.count()
    public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    assert PublicVote.objects.filter(poll=public_poll).count() == 1
    assert AuditEntry.objects.count() == before


def test_bad_choice_is_refused(public_poll, councillor):
    with pytest.raises(Refusal) as exc:
        public_vote_cast(poll=public_poll, member=councillor, choice="maybe")
    assert exc.value.message == BAD_CHOICE
    assert not PublicVote.objects.exists()


def test_no_vote_after_closing(public_poll, chair, councillor):
    poll_close(poll=public_poll, by=chair)
    with pytest.raises(Refusal) as exc:
        public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    assert exc.value.message == NOT_OPEN


def test_absent_member_cannot_vote(public_poll, councillor):
    leave(public_poll.item.meeting, councillor)
    with pytest.raises(Refusal) as exc:
        public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    assert exc.value.message == NOT_ELIGIBLE


def test_recused_member_cannot_vote(public_poll, councillor):
    Recusal.objects.create(
        item=public_poll.item, person=councillor, at=public_poll.opened_at
    )
    with pytest.raises(Refusal):
        public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    assert not PublicVote.objects.exists()


@pytest.mark.parametrize(
    "role", ["director_general", "clerk", "administrator", "outsider", "superuser"]
)
def test_non_members_cannot_vote(request, public_poll, role):
    user = request.getfixturevalue(role)
    arrive(public_poll.item.meeting, user)
    with pytest.raises(PermissionDenied):
        public_vote_cast(poll=public_poll, member=user, choice="yes")


def test_clerk_records_the_vote_of_a_member_in_the_room(meeting, members, chair, clerk):
    arrive(meeting, *members[:6])
    arrive(meeting, members[6], place=AttendanceEvent.Place.ROOM)
    poll = poll_open(item=make_item(meeting), by=chair)
    vote = public_vote_cast(poll=poll, member=members[6], choice="no", by=clerk)
    assert vote.recorded_by == clerk
    entry = AuditEntry.objects.get(action="voting.vote.cast")
    assert entry.actor == clerk
    assert entry.details["by_clerk"] is True
    assert entry.details["member"] == members[6].pk


def test_clerk_cannot_vote_for_a_remote_member(public_poll, councillor, clerk):
    with pytest.raises(Refusal) as exc:
        public_vote_cast(poll=public_poll, member=councillor, choice="no", by=clerk)
    assert exc.value.message == NOT_IN_ROOM


def test_only_the_clerk_records_for_others(public_poll, chair, councillor):
    with pytest.raises(PermissionDenied):
        public_vote_cast(poll=public_poll, member=councillor, choice="no", by=chair)


def test_nobody_casts_a_secret_ballot_for_another(secret_poll, councillor, clerk):
    with pytest.raises(Refusal) as exc:
        public_vote_cast(poll=secret_poll, member=councillor, choice="no", by=clerk)
    assert exc.value.message == SECRET_NOT_BY_PROXY


def test_secret_ballot_stores_participation_and_sealed_ballot(secret_poll, councillor):
    result = secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    assert result.recorded
    ballot = Ballot.objects.get()
    assert Participation.objects.get().member == councillor
    assert result.tracker == tracker_of(bytes(ballot.ciphertext)) == ballot.tracker
    assert b"yes" not in bytes(ballot.ciphertext)
    # Fixed plaintext length + 48 bytes of sealed-box overhead.
    assert len(bytes(ballot.ciphertext)) == PADDED_LENGTH + 48


def test_all_secret_ciphertexts_have_the_same_size(secret_poll, members):
    for member, choice in zip(members, ["yes", "no", "abstain"] * 3):
        secret_ballot_cast(poll=secret_poll, by=member, choice=choice)
    sizes = {len(bytes(b.ciphertext)) for b in Ballot.objects.all()}
    assert sizes == {PADDED_LENGTH + 48}


def test_second_secret_ballot_is_refused_and_nothing_added(secret_poll, councillor):
    first = secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    second = secret_ballot_cast(poll=secret_poll, by=councillor, choice="no")
    assert first.recorded and not second.recorded
    assert second.tracker == ""
    assert Ballot.objects.count() == Participation.objects.count() == 1


def test_secret_ballot_of_recused_member_is_refused(secret_poll, councillor):
    Recusal.objects.create(
        item=secret_poll.item, person=councillor, at=secret_poll.opened_at
    )
    with pytest.raises(Refusal) as exc:
        secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    assert exc.value.message == NOT_ELIGIBLE
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_secret_ballot_with_a_bad_choice_is_refused(secret_poll, councillor):
    with pytest.raises(Refusal):
        secret_ballot_cast(poll=secret_poll, by=councillor, choice="c:1")
    assert not Ballot.objects.exists()


def test_secret_audit_lists_participants_at_closing_never_choices(
    secret_poll, councillor, members, chair
):
    before = AuditEntry.objects.count()
    secret_ballot_cast(poll=secret_poll, by=members[3], choice="abstain")
    secret_ballot_cast(poll=secret_poll, by=councillor, choice="abstain")
    # Casting writes no entry: its time would order the participants.
    assert AuditEntry.objects.count() == before
    poll_close(poll=secret_poll, by=chair)
    entry = AuditEntry.objects.get(action="voting.poll.close")
    assert entry.details["participant_ids"] == sorted([members[3].pk, councillor.pk])
    assert "abstain" not in str(list(AuditEntry.objects.values()))
