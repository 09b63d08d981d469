"""Sittings in session with members present, keyholders with keys, polls."""

import time

import nacl.pwhash
import pytest
from django.test import Client

from council.services import keyholder_mandate_confirm
from meetings.models import AgendaItem, Meeting
from tests.factories import arrive, make_item, make_meeting
from tests.meetings.sitting.contract_check import (  # noqa: F401 - an autouse fixture
    live_messages_follow_the_contract,
)
from voting.services.keys import sealing_key_setup
from voting.services.polls import poll_open

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_kdf(request, settings):
    # The cheapest Argon2id parameters: the tests are about the logic.
    settings.SEALING_KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MIN
    settings.SEALING_KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MIN
    if request.node.get_closest_marker("browser") is None:
        # A dozen people per test: PBKDF2 at full strength costs seconds each
        # on a shared machine. Browser tests keep it, since the live server
        # (a separate process) checks passwords with the real settings.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def members(chair, councillor, other_councillors):
    return [chair, councillor, *other_councillors]


@pytest.fixture
def meeting(body):
    """In session, with no one present yet."""
    return make_meeting(body, state=Meeting.State.IN_SESSION)


@pytest.fixture
def sitting(meeting, members):
    """A sitting with all nine members present."""
    arrive(meeting, *members)
    return meeting


@pytest.fixture
def confirmed_deputy(body, director_general, deputy_director_general):
    """The deputy, whose mandate the director-general has confirmed."""
    keyholder_mandate_confirm(
        mandate=deputy_director_general.mandates.get(body=body),
        by=director_general,
    )
    return deputy_director_general


@pytest.fixture
def keys(body, director_general, confirmed_deputy):
    deputy_director_general = confirmed_deputy
    return [
        sealing_key_setup(
            body=body,
            by=director_general,
            passphrase=PASSPHRASE,
            confirm=PASSPHRASE,
        ),
        sealing_key_setup(
            body=body,
            by=deputy_director_general,
            passphrase=PASSPHRASE + "!",
            confirm=PASSPHRASE + "!",
        ),
    ]


@pytest.fixture
def public_poll(sitting, chair):
    item = make_item(sitting)
    return poll_open(item=item, by=chair)


@pytest.fixture
def secret_poll(sitting, chair, keys):
    item = make_item(sitting, vote_kind=AgendaItem.VoteKind.SECRET)
    return poll_open(item=item, by=chair)


def recent_client(user):
    """A test client whose login counts as a recent re-authentication."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    client.cookies["django_language"] = "en"  # the tests read English
    return client
