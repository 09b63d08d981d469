"""The vote part of the live snapshot follows its declared contract in every state."""

import pytest

from meetings.live import MEMBERS, PUBLIC
from meetings.live.publisher import prepare_update
from meetings.models import AgendaItem
from tests.factories import make_item
from tests.voting.conftest import PASSPHRASE
from voting.models import Candidate
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.polls import (
    candidate_add,
    poll_announce,
    poll_close,
    poll_open,
    poll_unseal,
)

pytestmark = pytest.mark.django_db


def _votes_seen(checked, audience: str) -> list:
    """Every value of the vote part published to the audience."""
    return [
        message["changes"]["vote"]
        for seen_by, message in checked.messages
        if seen_by == audience
        and message["type"] == "update"
        and "vote" in message["changes"]
    ]


def test_every_state_of_a_public_vote_is_in_the_contract(
    sitting, chair, members, live_messages_follow_the_contract
):
    poll = poll_open(item=make_item(sitting), by=chair)
    assert prepare_update(sitting.pk)
    for member, choice in zip(members, ["yes", "yes", "no", "abstain"]):
        public_vote_cast(poll=poll, member=member, choice=choice)
        assert prepare_update(sitting.pk)
    poll_close(poll=poll, by=chair)
    assert prepare_update(sitting.pk)
    seen = _votes_seen(live_messages_follow_the_contract, PUBLIC)
    assert [vote["voted"] for vote in seen] == [0, 1, 2, 3, 4, 4]
    assert seen[-1]["result"]["names_against"] == [members[2].display_name]


def test_every_state_of_a_secret_appointment_is_in_the_contract(
    sitting,
    chair,
    clerk,
    members,
    director_general,
    keys,
    live_messages_follow_the_contract,
):
    item = make_item(sitting, kind=AgendaItem.Kind.APPOINTMENT, title="Directeur")
    for name in ("Alice", "Bruno"):
        candidate_add(item=item, by=clerk, name=name, birth_date=None)
    poll = poll_open(item=item, by=chair)
    assert prepare_update(sitting.pk)
    alice = Candidate.objects.get(item=item, name="Alice")
    for member in members[:5]:
        secret_ballot_cast(poll=poll, by=member, choice=f"c:{alice.pk}")
    secret_ballot_cast(poll=poll, by=members[5], choice="blank")
    assert prepare_update(sitting.pk)
    poll_close(poll=poll, by=chair)
    assert prepare_update(sitting.pk)
    # Unsealing shows the tally to the keyholders only: the sitting does not move.
    poll_unseal(poll=poll, by=director_general, passphrase=PASSPHRASE)
    assert prepare_update(sitting.pk) is None
    poll_announce(poll=poll, by=director_general)
    assert prepare_update(sitting.pk)
    seen = _votes_seen(live_messages_follow_the_contract, MEMBERS)
    assert [vote["state"] for vote in seen] == ["open", "open", "closed", "announced"]
    assert [vote["result"] is None for vote in seen] == [True, True, True, False]
    assert seen[-1]["result"]["appointed"] == "Alice"
    assert seen[-1]["result"]["candidates"][0] == {"name": "Alice", "votes": 5}
    # The public hears nothing of a vote in closed session.
    assert _votes_seen(live_messages_follow_the_contract, PUBLIC) == []
