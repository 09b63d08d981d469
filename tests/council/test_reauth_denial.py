"""Nobody can stop a logged-in member from confirming their identity.

The attack of issue 11: five wrong passwords for a member's address every
five minutes, from anywhere and without a session, locked the address at
allauth's login limits, which re-authentication went through too; the member
could then not cast a secret ballot, nor the director-general unseal. Now the
failures that limit re-authentication are those of the session itself; the
login page keeps its brute-force protection.
"""

import secrets

import nacl.pwhash
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from council.auth import REAUTH_FAILURES_ALLOWED
from meetings.models import AgendaItem, Meeting
from tests.factories import PASSWORD, arrive, make_item, make_meeting
from voting.models import Ballot, Participation, Poll
from voting.services.ballots import secret_ballot_cast
from voting.services.keys import sealing_key_setup
from voting.services.polls import poll_close, poll_open

pytestmark = pytest.mark.django_db

LOGIN_LIMIT = int(settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")[1][0])
TOO_MANY = "Too many failed login attempts"


PASSPHRASE = "a sealing passphrase long enough"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SEALING_KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MIN
    settings.SEALING_KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MIN
    # Allauth also caps the re-authentication page at 10 requests a minute
    # per user id; ids repeat from test to test and the cache outlives them.
    settings.ACCOUNT_RATE_LIMITS = settings.ACCOUNT_RATE_LIMITS | {
        "reauthenticate": "1000/m/user"
    }


@pytest.fixture
def voters(chair, councillor, other_councillors):
    return [chair, councillor, *other_councillors]


@pytest.fixture
def secret_poll(body, voters, director_general):
    meeting = make_meeting(body, state=Meeting.State.IN_SESSION)
    arrive(meeting, *voters)
    sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    item = make_item(meeting, vote_kind=AgendaItem.VoteKind.SECRET)
    return poll_open(item=item, by=voters[0])


@pytest.fixture
def network() -> str:
    """The address the member and the attacker share (a town hall's network)."""
    a, b, c = secrets.token_bytes(3)
    return f"10.{a}.{b}.{c}"


def _anonymous(ip: str | None = None) -> Client:
    if ip is None:
        a, b, c = secrets.token_bytes(3)
        ip = f"10.{a}.{b}.{c}"
    client = Client(REMOTE_ADDR=ip)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _log_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _fresh_address(user) -> None:
    # The limits live in a cache that may outlive the test (Redis).
    user.email = f"target-{secrets.token_hex(6)}@example.org"
    user.save(update_fields=["email"])


def _lock_out(email: str, *, ip: str | None = None) -> None:
    """The attack: failed logins on the address, no session needed."""
    for _ in range(LOGIN_LIMIT + 1):
        _log_in(_anonymous(ip), email, "a wrong guess")
    # The login page now refuses even the right password to anyone anonymous.
    refused = _log_in(_anonymous(), email)
    assert refused.status_code == 200 and TOO_MANY in refused.content.decode()


def _stale_session(user, ip: str) -> Client:
    """A member logged in earlier: their login no longer counts as recent."""
    client = Client(REMOTE_ADDR=ip)
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _reauthenticate(client: Client, password: str, then: str):
    return client.post(
        reverse("account_reauthenticate") + f"?next={then}", {"password": password}
    )


def test_failed_logins_by_others_do_not_stop_a_member_casting(
    secret_poll, councillor, network
):
    _fresh_address(councillor)
    member = _stale_session(councillor, network)
    cast_url = reverse("voting:cast", args=[secret_poll.pk])
    # Without a recent login the cast is sent to re-authenticate.
    assert member.post(cast_url, {"choice": "yes"}).status_code == 302
    # Attackers from the member's own network address and from elsewhere.
    _lock_out(councillor.email, ip=network)
    _lock_out(councillor.email)

    response = _reauthenticate(member, PASSWORD, secret_poll.get_absolute_url())
    assert response.status_code == 302, response.content.decode()
    assert response.url == secret_poll.get_absolute_url()

    cast = member.post(cast_url, {"choice": "yes"})
    assert cast.status_code == 200
    assert Ballot.objects.filter(poll=secret_poll).count() == 1
    assert Participation.objects.filter(member=councillor).exists()
    # The login page still keeps the address locked for anonymous attempts.
    assert TOO_MANY in _log_in(_anonymous(), councillor.email).content.decode()


def test_failed_logins_by_others_do_not_stop_the_dg_unsealing(
    secret_poll, voters, director_general, network
):
    for member in voters[:3]:
        secret_ballot_cast(poll=secret_poll, by=member, choice="no")
    poll_close(poll=secret_poll, by=voters[0])
    _fresh_address(director_general)
    dg = _stale_session(director_general, network)
    unseal_url = reverse("voting:unseal", args=[secret_poll.pk])
    _lock_out(director_general.email, ip=network)

    assert _reauthenticate(dg, PASSWORD, unseal_url).status_code == 302
    response = dg.post(unseal_url, {"passphrase": PASSPHRASE})
    assert response.status_code == 302
    secret_poll.refresh_from_db()
    assert secret_poll.state == Poll.State.UNSEALED
    assert secret_poll.tally["no"] == 3


def test_wrong_passwords_in_ones_own_session_are_limited(
    secret_poll, councillor, network
):
    _fresh_address(councillor)
    member = _stale_session(councillor, network)
    then = secret_poll.get_absolute_url()
    for _ in range(REAUTH_FAILURES_ALLOWED):
        wrong = _reauthenticate(member, "a wrong guess", then)
        assert wrong.status_code == 200
        assert TOO_MANY not in wrong.content.decode()
    # Now even the right password is refused in this session, for a while.
    limited = _reauthenticate(member, PASSWORD, then)
    assert limited.status_code == 200
    assert TOO_MANY in limited.content.decode()
    cast = member.post(reverse("voting:cast", args=[secret_poll.pk]), {"choice": "no"})
    assert cast.status_code == 302 and not Ballot.objects.exists()
    # The member's other session, and the login page, are not affected.
    other = _stale_session(councillor, network)
    assert _reauthenticate(other, PASSWORD, then).status_code == 302
    assert _log_in(_anonymous(), councillor.email).status_code == 302


def test_a_right_password_clears_the_sessions_failures(
    secret_poll, councillor, network
):
    _fresh_address(councillor)
    member = _stale_session(councillor, network)
    then = secret_poll.get_absolute_url()
    for _ in range(REAUTH_FAILURES_ALLOWED - 1):
        _reauthenticate(member, "a wrong guess", then)
    assert _reauthenticate(member, PASSWORD, then).status_code == 302
    for _ in range(REAUTH_FAILURES_ALLOWED - 1):
        _reauthenticate(member, "a wrong guess", then)
    assert _reauthenticate(member, PASSWORD, then).status_code == 302


def test_a_wrong_password_does_not_reauthenticate(secret_poll, councillor, network):
    _fresh_address(councillor)
    member = _stale_session(councillor, network)
    assert _reauthenticate(member, "a wrong guess", "/").status_code == 200
    cast = member.post(reverse("voting:cast", args=[secret_poll.pk]), {"choice": "no"})
    assert cast.status_code == 302 and not Ballot.objects.exists()
