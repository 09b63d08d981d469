"""Opening and closing polls: the state machine, quorum and roles."""

import pytest
from django.core.exceptions import PermissionDenied

from council.models import AuditEntry
from council.refusals import Refusal
from meetings.models import AgendaItem, Meeting, Recusal
from tests.factories import arrive, make_item, make_meeting
from voting.models import Poll, PollKeySeal
from voting.services.ballots import public_vote_cast
from voting.services.polls import (
    ALREADY_DECIDED,
    ALREADY_OPEN,
    NO_KEYHOLDER,
    NO_QUORUM,
    NO_VOTE_ON_ITEM,
    NOT_CURRENT_ITEM,
    NOT_IN_SESSION,
    NOT_OPEN,
    NOT_UNSEALED,
    poll_announce,
    poll_close,
    poll_open,
)

pytestmark = pytest.mark.django_db


def test_chair_opens_a_public_vote_on_the_current_item(sitting, chair):
    item = make_item(sitting)
    poll = poll_open(item=item, by=chair)
    assert poll.state == Poll.State.OPEN
    assert not poll.secret
    assert poll.public_key is None
    assert AuditEntry.objects.filter(action="voting.poll.open").count() == 1


@pytest.mark.parametrize(
    "role",
    [
        "councillor",
        "director_general",
        "deputy_director_general",
        "clerk",
        "administrator",
        "outsider",
    ],
)
def test_only_the_chair_opens_a_vote(request, sitting, members, role):
    item = make_item(sitting)
    with pytest.raises(PermissionDenied):
        poll_open(item=item, by=request.getfixturevalue(role))
    assert not Poll.objects.exists()


def test_superuser_cannot_open_a_vote(sitting, superuser):
    with pytest.raises(PermissionDenied):
        poll_open(item=make_item(sitting), by=superuser)


def test_opening_without_quorum_is_refused(
    meeting, chair, councillor, other_councillors
):
    arrive(meeting, chair, councillor, *other_councillors[:2])  # 4 of 9
    with pytest.raises(Refusal) as exc:
        poll_open(item=make_item(meeting), by=chair)
    assert exc.value.message == NO_QUORUM
    assert not Poll.objects.exists()


def test_quorum_is_exactly_more_than_half(
    meeting, chair, councillor, other_councillors
):
    arrive(meeting, chair, councillor, *other_councillors[:3])  # 5 of 9
    assert poll_open(item=make_item(meeting), by=chair).is_open


def test_recused_members_do_not_count_for_quorum(meeting, members, chair):
    arrive(meeting, *members[:5])
    item = make_item(meeting)
    Recusal.objects.create(item=item, person=members[1], at=meeting.starts_at)
    with pytest.raises(Refusal) as exc:
        poll_open(item=item, by=chair)
    assert exc.value.message == NO_QUORUM


def test_third_convocation_is_exempt_from_quorum(meeting, chair):
    arrive(meeting, chair)
    poll = poll_open(item=make_item(meeting, third_convocation=True), by=chair)
    assert poll.is_open


def test_a_second_open_poll_on_the_item_is_refused(public_poll, chair):
    with pytest.raises(Refusal) as exc:
        poll_open(item=public_poll.item, by=chair)
    assert exc.value.message == ALREADY_OPEN
    assert Poll.objects.count() == 1


def test_a_decided_item_is_not_voted_again(public_poll, chair):
    poll_close(poll=public_poll, by=chair)
    with pytest.raises(Refusal) as exc:
        poll_open(item=public_poll.item, by=chair)
    assert exc.value.message == ALREADY_DECIDED


@pytest.mark.parametrize(
    "state", [Meeting.State.CONVENED, Meeting.State.SUSPENDED, Meeting.State.CLOSED]
)
def test_votes_open_only_in_session(body, members, chair, state):
    meeting = make_meeting(body, state=state)
    arrive(meeting, *members)
    with pytest.raises(Refusal) as exc:
        poll_open(item=make_item(meeting, current=True), by=chair)
    assert exc.value.message == NOT_IN_SESSION


def test_vote_opens_only_on_the_current_item(sitting, chair):
    make_item(sitting)
    other = make_item(sitting, current=False)
    with pytest.raises(Refusal) as exc:
        poll_open(item=other, by=chair)
    assert exc.value.message == NOT_CURRENT_ITEM


def test_item_without_vote_has_no_poll(sitting, chair):
    item = make_item(sitting, vote_kind=AgendaItem.VoteKind.NONE)
    with pytest.raises(Refusal) as exc:
        poll_open(item=item, by=chair)
    assert exc.value.message == NO_VOTE_ON_ITEM


def test_secret_item_without_keyholder_key_is_refused(sitting, chair):
    item = make_item(sitting, vote_kind=AgendaItem.VoteKind.SECRET)
    with pytest.raises(Refusal) as exc:
        poll_open(item=item, by=chair)
    assert exc.value.message == NO_KEYHOLDER
    assert not Poll.objects.exists()


def test_secret_poll_key_is_sealed_to_each_keyholder(secret_poll, keys):
    assert secret_poll.secret
    assert len(bytes(secret_poll.public_key)) == 32
    seals = PollKeySeal.objects.filter(poll=secret_poll)
    assert {s.sealing_key_id for s in seals} == {k.pk for k in keys}
    # Sealed, not stored in clear: 32 bytes of key + 48 of sealed-box overhead.
    assert all(len(bytes(s.sealed_private_key)) == 80 for s in seals)


def test_appointment_items_are_always_secret(sitting, chair, keys):
    item = make_item(
        sitting, kind=AgendaItem.Kind.APPOINTMENT, vote_kind=AgendaItem.VoteKind.PUBLIC
    )
    item.candidates.create(name="A")
    assert poll_open(item=item, by=chair).secret


def test_close_counts_a_public_vote(public_poll, chair, members):
    for member, choice in zip(members, ["yes"] * 5 + ["no"] * 3 + ["abstain"]):
        public_vote_cast(poll=public_poll, member=member, choice=choice)
    poll = poll_close(poll=public_poll, by=chair)
    assert poll.state == Poll.State.CLOSED
    assert (poll.tally["yes"], poll.tally["no"], poll.tally["abstain"]) == (5, 3, 1)
    assert poll.decision == "adopted"
    assert poll.eligible_at_close == 9
    assert poll.result_is_public


def test_urgency_item_needs_two_thirds_of_the_present(sitting, chair, members):
    item = make_item(sitting, kind=AgendaItem.Kind.URGENCY)
    poll = poll_open(item=item, by=chair)
    for member, choice in zip(members, ["yes"] * 5 + ["no"] * 2 + ["abstain"] * 2):
        public_vote_cast(poll=poll, member=member, choice=choice)
    poll = poll_close(poll=poll, by=chair)
    assert poll.decision == "rejected"  # 5 of 9 present: two thirds is 6
    assert poll.tally["required"] == 6


def test_only_the_chair_closes(public_poll, councillor, clerk, director_general):
    for user in (councillor, clerk, director_general):
        with pytest.raises(PermissionDenied):
            poll_close(poll=public_poll, by=user)
    public_poll.refresh_from_db()
    assert public_poll.is_open


def test_closing_twice_is_refused(public_poll, chair):
    poll_close(poll=public_poll, by=chair)
    with pytest.raises(Refusal) as exc:
        poll_close(poll=public_poll, by=chair)
    assert exc.value.message == NOT_OPEN


def test_a_public_vote_cannot_be_announced(public_poll, chair, director_general):
    poll_close(poll=public_poll, by=chair)
    with pytest.raises(Refusal) as exc:
        poll_announce(poll=public_poll, by=director_general)
    assert exc.value.message == NOT_UNSEALED
