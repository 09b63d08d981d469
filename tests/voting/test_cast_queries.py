"""A secret ballot's cast request costs a fixed, small number of queries."""

import pytest
from django.urls import reverse

from council.refusals import Refusal
from tests.factories import arrive, leave
from tests.voting.conftest import recent_client
from voting.models import Ballot, Participation
from voting.services.ballots import secret_ballot_cast

# Session, user, poll, roles, the poll key's seals (to check its binding); in
# one transaction: the poll's lock, the participation inserted unless already
# there, eligibility, the ballot, the sitting's version; BEGIN and COMMIT.
CAST_QUERIES = 12
# The same request again: the insert finds the participation, nothing more.
AGAIN_QUERIES = 9


def test_a_cast_request_costs_a_fixed_number_of_queries(
    secret_poll, councillor, django_assert_num_queries
):
    client = recent_client(councillor)
    url = reverse("voting:cast", args=[secret_poll.pk])
    with django_assert_num_queries(CAST_QUERIES):
        first = client.post(url, {"choice": "yes"})
    with django_assert_num_queries(AGAIN_QUERIES):
        again = client.post(url, {"choice": "yes"})
    assert first.status_code == again.status_code == 200
    assert Ballot.objects.get().tracker in first.content.decode()
    assert Participation.objects.count() == 1


def test_a_refused_ballot_leaves_nothing_and_may_be_cast_later(secret_poll, councillor):
    leave(secret_poll.item.meeting, councillor)
    with pytest.raises(Refusal):
        secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    assert not Participation.objects.exists() and not Ballot.objects.exists()
    arrive(secret_poll.item.meeting, councillor)
    assert secret_ballot_cast(poll=secret_poll, by=councillor, choice="no").recorded


def test_having_voted_is_answered_before_eligibility(secret_poll, councillor):
    assert secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes").recorded
    leave(secret_poll.item.meeting, councillor)
    again = secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    assert not again.recorded
    assert Ballot.objects.count() == Participation.objects.count() == 1
