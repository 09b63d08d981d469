"""One vocabulary for every vote: VoteChoice, the candidate key, the labels."""

import pytest
from django.utils import translation

from tests.factories import make_item
from tests.voting.conftest import PASSPHRASE
from voting.choices import (
    BALLOT_LABELS,
    DECISION_LABELS,
    PROPOSAL_CHOICES,
    VoteChoice,
    candidate_key,
    candidate_pk,
)
from voting.forms import BallotForm, ProxyVoteForm
from voting.majority import Decision
from voting.models import PublicVote
from voting.results import VoteResult
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.polls import poll_close, poll_open, poll_unseal

pytestmark = pytest.mark.django_db


def test_the_candidate_key_names_a_candidate_and_nothing_else():
    assert candidate_key(42) == "c:42"
    assert candidate_pk(candidate_key(42)) == 42
    for value in ("yes", "blank", "c:", "c:x", "42", "c:4 2"):
        assert candidate_pk(value) is None


def test_roll_calls_record_the_proposal_choices_with_their_labels():
    field = PublicVote._meta.get_field("choice")
    assert [value for value, _ in field.choices] == ["yes", "no", "abstain"]
    assert [c for c, _ in ProxyVoteForm(members=[]).fields["choice"].choices] == [
        "yes",
        "no",
        "abstain",
    ]
    with translation.override("fr"):
        assert [str(label) for _, label in field.choices] == [
            "Oui",
            "Non",
            "Abstention",
        ]
        assert str(VoteChoice.BLANK.label) == "Blancs"


def test_public_and_secret_ballots_offer_the_same_words(public_poll, secret_poll):
    for poll in (public_poll, secret_poll):
        choices = BallotForm(poll=poll).fields["choice"].choices
        assert choices == [(c.value, BALLOT_LABELS[c]) for c in PROPOSAL_CHOICES]
    with translation.override("nl"):
        assert str(BALLOT_LABELS[VoteChoice.ABSTAIN]) == "Ik onthoud me"


def test_an_appointment_ballot_offers_candidate_keys_and_blank(sitting, chair, keys):
    from meetings.models import AgendaItem

    item = make_item(sitting, kind=AgendaItem.Kind.APPOINTMENT)
    alice = item.candidates.create(name="Alice")
    poll = poll_open(item=item, by=chair)
    choices = BallotForm(poll=poll).fields["choice"].choices
    assert choices == [
        (candidate_key(alice.pk), "Alice"),
        ("blank", BALLOT_LABELS[VoteChoice.BLANK]),
    ]


def test_tallies_count_in_the_same_vocabulary(
    public_poll, secret_poll, chair, members, director_general
):
    vocabulary = {choice.value for choice in VoteChoice}
    public_vote_cast(poll=public_poll, member=members[0], choice="yes")
    public = poll_close(poll=public_poll, by=chair).tally
    assert set(public) == vocabulary | {"required"}
    secret_ballot_cast(poll=secret_poll, by=members[0], choice="no")
    poll_close(poll=secret_poll, by=chair)
    secret = poll_unseal(
        poll=secret_poll, by=director_general, passphrase=PASSPHRASE
    ).tally
    assert set(secret) == vocabulary | {"required"}
    assert (secret["no"], secret["invalid"]) == (1, 0)


def test_every_decision_has_a_translated_label():
    assert set(DECISION_LABELS) == set(Decision)
    with translation.override("fr"):
        result = VoteResult(item_id=1, secret=False, decision="adopted")
        assert result.decision_label == "Adopté"
    assert VoteResult.pending_for(1).decision_label == ""
