"""The fast paths of casting: eligibility in one query, the cast on a pool thread."""

import datetime

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from council.models import Mandate
from meetings.models import AgendaItem, Meeting, Recusal
from meetings.register import Register, may_vote_now
from tests.conftest import client_for
from tests.factories import arrive, leave, make_item, make_meeting, make_member
from tests.voting.conftest import PASSPHRASE, recent_client
from voting.models import Ballot, Participation
from voting.services.ballots import NOT_ELIGIBLE
from voting.services.keys import sealing_key_setup
from voting.services.polls import poll_open


def _reference(item, user) -> bool:
    """The rule as the register reads it in full."""
    register = Register.of(item.meeting)
    return user.pk in register.present_ids() and user.pk not in register.recused_ids(
        item
    )


@pytest.mark.django_db
@pytest.mark.parametrize("present", [3, 40])
def test_may_vote_is_one_query_whatever_the_size_of_the_register(
    body, councillor, present
):
    meeting = make_meeting(body, state=Meeting.State.IN_SESSION)
    item = make_item(meeting)
    others = [make_member(body) for _ in range(present)]
    arrive(meeting, *others, councillor)
    with CaptureQueriesContext(connection) as queries:
        assert may_vote_now(item, councillor) is True
    assert len(queries) == 1


@pytest.mark.django_db
def test_may_vote_follows_the_register_and_recusals(
    body, councillor, chair, clerk, outsider
):
    meeting = make_meeting(body, state=Meeting.State.IN_SESSION)
    item = make_item(meeting)
    other = make_item(meeting, current=False)
    people = [councillor, chair, clerk, outsider]
    checks = []

    def check(expected: dict) -> None:
        for person in people:
            got = may_vote_now(item, person)
            checks.append(got)
            assert got is expected.get(person.pk, False), person
            assert got is _reference(item, person)

    check({})  # nobody arrived yet
    arrive(meeting, councillor, chair, clerk, outsider)
    # The clerk and an outsider hold no voting mandate: never eligible.
    check({councillor.pk: True, chair.pk: True})
    leave(meeting, chair)
    check({councillor.pk: True})
    Recusal.objects.create(item=item, person=councillor, at=timezone.now())
    # A recusal on another item is irrelevant here.
    Recusal.objects.create(item=other, person=chair, at=timezone.now())
    check({})
    arrive(meeting, chair, at=timezone.now())  # back in the room
    check({chair.pk: True})
    Mandate.objects.filter(person=chair, body=body).update(
        end=timezone.localdate() - datetime.timedelta(days=1)
    )
    check({})
    assert True in checks and False in checks


@pytest.mark.django_db
def test_may_vote_refuses_anonymous(body):
    item = make_item(make_meeting(body, state=Meeting.State.IN_SESSION))
    assert may_vote_now(item, AnonymousUser()) is False


# ---- the cast view under ASGI: a pool thread with its own connection -------------
# transactional_db: the pool thread's connection sees only committed rows.


def _async_client(user) -> AsyncClient:
    client = AsyncClient()
    client.cookies = recent_client(user).cookies
    return client


def _cast(client: AsyncClient, poll, choice: str = "yes"):
    return async_to_sync(client.post)(
        reverse("voting:cast", args=[poll.pk]), {"choice": choice}
    )


@pytest.fixture
def asgi_poll(
    transactional_db, body, chair, councillor, other_councillors, director_general
):
    sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    meeting = make_meeting(body, state=Meeting.State.IN_SESSION)
    arrive(meeting, chair, *other_councillors)  # quorum, the councillor absent
    item = make_item(meeting, vote_kind=AgendaItem.VoteKind.SECRET)
    return poll_open(item=item, by=chair)


def test_async_cast_stores_one_ballot_and_answers_the_double_click(asgi_poll, chair):
    client = _async_client(chair)
    first = _cast(client, asgi_poll)
    second = _cast(client, asgi_poll, "no")
    assert first.status_code == second.status_code == 200
    assert Ballot.objects.filter(poll=asgi_poll).count() == 1
    assert Participation.objects.filter(poll=asgi_poll, member=chair).count() == 1
    tracker = Ballot.objects.get(poll=asgi_poll).tracker
    assert tracker in first.content.decode()
    assert tracker not in second.content.decode()


def test_async_cast_refuses_an_absent_member(asgi_poll, councillor):
    response = _cast(_async_client(councillor), asgi_poll)
    assert response.status_code == 409
    assert str(NOT_ELIGIBLE) in response.content.decode().replace("&#x27;", "'")
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_async_cast_refuses_a_recused_member(asgi_poll, councillor):
    arrive(asgi_poll.item.meeting, councillor)
    Recusal.objects.create(item=asgi_poll.item, person=councillor, at=timezone.now())
    response = _cast(_async_client(councillor), asgi_poll)
    assert response.status_code == 409
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_async_cast_without_recent_login_goes_to_reauthentication(asgi_poll, chair):
    client = AsyncClient()
    client.cookies = client_for(chair).cookies  # logged in, not recently confirmed
    for session in Session.objects.all():
        data = session.get_decoded()
        data.pop("account_authentication_methods", None)
        session.session_data = Session.objects.encode(data)
        session.save()
    response = _cast(client, asgi_poll)
    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    assert not Ballot.objects.exists()


def test_async_cast_sends_anonymous_to_login(asgi_poll):
    response = _cast(AsyncClient(), asgi_poll)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert not Ballot.objects.exists()
