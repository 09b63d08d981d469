"""ballot_state(poll, user): what the poll page and the sitting's panel show."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import leave, make_item
from tests.voting.conftest import PASSPHRASE
from voting import selectors
from voting.selectors import ballot_state
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.polls import poll_announce, poll_close, poll_unseal

pytestmark = pytest.mark.django_db


def test_a_member_present_may_vote_and_has_not_yet(public_poll, councillor):
    state = ballot_state(public_poll, councillor)
    assert state.may_vote and state.offers_ballot and state.is_open
    assert not state.has_voted and state.own_vote is None
    assert (state.voted_count, state.eligible_count) == (0, 9)
    assert state.result is None and not state.result_private
    assert not state.box_published and not state.result_pending


def test_a_roll_call_vote_is_their_own_and_stays_open_to_change(
    public_poll, councillor
):
    public_vote_cast(poll=public_poll, member=councillor, choice="no")
    state = ballot_state(public_poll, councillor)
    assert state.has_voted and state.own_vote.choice == "no"
    assert state.offers_ballot
    assert state.voted_count == 1


def test_a_secret_ballot_is_cast_once_and_names_no_choice(secret_poll, councillor):
    secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    state = ballot_state(secret_poll, councillor)
    assert state.has_voted and state.may_vote
    assert not state.offers_ballot and state.own_vote is None


def test_who_is_not_present_or_not_a_member_may_not_vote(
    public_poll, councillor, clerk, director_general
):
    for person in (clerk, director_general):
        assert not ballot_state(public_poll, person).may_vote
    leave(public_poll.item.meeting, councillor)
    state = ballot_state(public_poll, councillor)
    assert not state.may_vote and not state.offers_ballot


def test_a_closed_roll_call_shows_its_result_to_members(
    public_poll, chair, councillor, members
):
    public_vote_cast(poll=public_poll, member=members[2], choice="no")
    poll = poll_close(poll=public_poll, by=chair)
    state = ballot_state(poll, councillor)
    assert not state.is_open and not state.may_vote
    assert state.result.decision == "rejected"
    assert state.result.names_against == [members[2].display_name]
    assert state.public_result is state.result and not state.result_pending
    assert not state.box_published


def test_a_secret_result_is_pending_until_announced_and_previewed_by_keyholders(
    secret_poll, chair, councillor, members, director_general
):
    for member in members[:3]:
        secret_ballot_cast(poll=secret_poll, by=member, choice="yes")
    poll = poll_close(poll=secret_poll, by=chair)
    state = ballot_state(poll, councillor)
    assert state.box_published and state.result_pending and state.result is None
    assert state.voted_count == 3
    poll = poll_unseal(poll=poll, by=director_general, passphrase=PASSPHRASE)
    assert ballot_state(poll, councillor).result_pending
    preview = ballot_state(poll, director_general)
    assert preview.result.yes == 3 and preview.result_private
    assert preview.public_result is None and not preview.result_pending
    poll = poll_announce(poll=poll, by=director_general)
    state = ballot_state(poll, councillor)
    assert state.result.yes == 3 and not state.result_private
    assert state.public_result is state.result and state.box_published


def test_the_poll_page_and_the_panel_both_ask_ballot_state(
    public_poll, councillor, monkeypatch
):
    from django.template.loader import render_to_string

    asked = []
    original = selectors.ballot_state

    def spy(poll, user):
        asked.append((poll.pk, user.pk))
        return original(poll, user)

    monkeypatch.setattr(selectors, "ballot_state", spy)
    response = client_for(councillor).get(reverse("voting:poll", args=[public_poll.pk]))
    assert response.status_code == 200
    request = RequestFactory().get("/")
    request.user = councillor
    meeting = public_poll.item.meeting
    render_to_string(
        "voting/_sitting_panel.html",
        {"meeting": meeting, "item": meeting.current_item, "user": councillor},
        request=request,
    )
    assert asked == [(public_poll.pk, councillor.pk)] * 2


def test_the_poll_page_costs_the_same_queries_however_many_voted(
    sitting, chair, members, councillor, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from voting.services.polls import poll_open

    client = client_for(councillor)

    def closed_poll(voters):
        item = make_item(sitting)
        poll = poll_open(item=item, by=chair)
        for member in voters:
            public_vote_cast(poll=poll, member=member, choice="yes")
        poll_close(poll=poll, by=chair)
        return reverse("voting:poll", args=[poll.pk])

    few, many = closed_poll(members[:2]), closed_poll(members)
    client.get(few)
    with CaptureQueriesContext(connection) as small:
        client.get(few)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(many).status_code == 200
