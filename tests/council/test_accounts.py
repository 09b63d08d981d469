"""Accounts: password + TOTP login, re-authentication, rate limits, closed signup."""

import secrets
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.conf import settings
from django.test import Client
from django.urls import reverse

from council.models import User
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

# Each test logs in from its own random address, so allauth's per-IP limits,
# kept in a cache that may outlive the run (Redis), never leak between tests.


def fresh_client() -> Client:
    a, b, c = secrets.token_bytes(3)
    client = Client(REMOTE_ADDR=f"10.{a}.{b}.{c}")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def wrong_code(secret: str) -> str:
    right = {
        format_hotp_value(hotp_value(secret, int(time.time()) // 30 + d))
        for d in (-1, 0, 1)
    }
    return next(c for c in ("000000", "111111", "222222") if c not in right)


def log_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def logged_in_user(client: Client):
    response = client.get(reverse("home"))
    return response.wsgi_request.user


# ---- password login ------------------------------------------------------------


def test_password_login_reaches_the_home_page(councillor):
    client = fresh_client()
    response = log_in(client, councillor.email)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert logged_in_user(client) == councillor


def test_wrong_password_is_refused(councillor):
    client = fresh_client()
    response = log_in(client, councillor.email, "not-the-password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not logged_in_user(client).is_authenticated


def test_inactive_account_cannot_log_in(db):
    person = make_user(is_active=False)
    client = fresh_client()
    log_in(client, person.email)
    assert not logged_in_user(client).is_authenticated


# ---- TOTP -------------------------------------------------------------------------


def test_totp_is_activated_through_the_account_pages_and_then_required(councillor):
    client = fresh_client()
    assert log_in(client, councillor.email).status_code == 302

    # The account page records the address unverified, as on the demo; staff
    # created the account, so a second factor must still be allowed.
    assert client.get(reverse("account_email")).status_code == 200
    # Adding a second factor asks for the password again first.
    activate = reverse("mfa_activate_totp")
    confirm = client.get(activate)
    assert confirm.status_code == 302
    assert confirm.url.startswith(reverse("account_reauthenticate"))
    assert client.post(confirm.url, {"password": PASSWORD}).status_code == 302
    page = client.get(activate)
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    refused = client.post(activate, {"code": wrong_code(secret)})
    assert refused.status_code == 200
    assert not Authenticator.objects.filter(user=councillor).exists()
    accepted = client.post(activate, {"code": totp_now(secret)})
    assert accepted.status_code == 302
    assert Authenticator.objects.filter(
        user=councillor, type=Authenticator.Type.TOTP
    ).exists()
    client.post(reverse("account_logout"))

    # The next login asks for a code after the password.
    client = fresh_client()
    response = log_in(client, councillor.email)
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert not logged_in_user(client).is_authenticated

    refused = client.post(reverse("mfa_authenticate"), {"code": wrong_code(secret)})
    assert refused.status_code == 200
    assert refused.context["form"].errors
    assert not logged_in_user(client).is_authenticated

    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(secret)})
    assert response.status_code == 302, response.context["form"].errors
    assert response.url == reverse("home")
    assert logged_in_user(client) == councillor


def test_totp_step_cannot_be_skipped(councillor):
    TOTP.activate(councillor, generate_totp_secret())
    client = fresh_client()
    log_in(client, councillor.email)
    # Going elsewhere instead of entering the code leaves the person anonymous.
    assert client.get(reverse("account_email")).status_code == 302
    assert not logged_in_user(client).is_authenticated


def test_mfa_pages_use_the_site_layout(councillor):
    client = fresh_client()
    log_in(client, councillor.email)
    html = client.get(reverse("mfa_index")).content.decode()
    assert 'class="site-header"' in html
    assert 'href="#main"' in html
    assert 'class="account-nav"' in html


# ---- re-authentication guard --------------------------------------------------------


@pytest.mark.urls("tests.council.urls_reauth")
def test_stale_login_must_reauthenticate_and_fresh_login_passes(councillor):
    stale = Client()
    stale.force_login(councillor)  # a session with no record of a recent login
    response = stale.get("/test-sensitive/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))

    reauth = stale.post(response.url, {"password": PASSWORD})
    assert reauth.status_code == 302
    assert stale.get("/test-sensitive/").content == b"sensitive action allowed"

    fresh = fresh_client()
    log_in(fresh, councillor.email)
    assert fresh.get("/test-sensitive/").content == b"sensitive action allowed"


@pytest.mark.urls("tests.council.urls_reauth")
def test_reauthentication_expires(councillor, settings):
    client = fresh_client()
    log_in(client, councillor.email)
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    response = client.get("/test-sensitive/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))


@pytest.mark.urls("tests.council.urls_reauth")
def test_reauthentication_guard_sends_anonymous_visitors_to_login(db):
    response = Client().get("/test-sensitive/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.urls("tests.council.urls_reauth")
def test_wrong_password_does_not_reauthenticate(councillor):
    stale = Client()
    stale.force_login(councillor)
    url = stale.get("/test-sensitive/").url
    assert stale.post(url, {"password": "wrong"}).status_code == 200
    assert stale.get("/test-sensitive/").status_code == 302


# ---- rate limits -----------------------------------------------------------------


def test_failed_logins_lock_the_account_for_a_while(db):
    # A random address: the lock outlives the test in a shared cache.
    councillor = make_user(email=f"locked-{secrets.token_hex(6)}@example.org")
    limit = int(
        settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")[1].split("/")[0]
    )
    client = fresh_client()
    for _ in range(limit):
        response = log_in(client, councillor.email, "guess")
        assert response.status_code == 200
    # Even the right password is now refused, with a clear message.
    response = log_in(client, councillor.email)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert not logged_in_user(client).is_authenticated
    # Another account from another address is unaffected.
    other = make_user()
    assert log_in(fresh_client(), other.email).status_code == 302


# ---- signup ----------------------------------------------------------------------


def test_signup_is_closed_by_default(db):
    assert settings.ALLOW_SIGNUP is False
    client = fresh_client()
    page = client.get(reverse("account_signup"))
    assert "password1" not in page.content.decode()
    client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.org",
            "password1": "a-long-new-password-42",
            "password2": "a-long-new-password-42",
        },
    )
    assert not User.objects.filter(email="newcomer@example.org").exists()


def test_login_page_does_not_invite_signup_when_closed(db):
    html = fresh_client().get(reverse("account_login")).content.decode()
    assert reverse("account_signup") not in html
    assert "sign up" not in html.lower()
    assert "Accounts are created by the clerk" in html


def test_signup_opens_with_the_setting(db, settings):
    settings.ALLOW_SIGNUP = True
    client = fresh_client()
    html = client.get(reverse("account_login")).content.decode()
    assert reverse("account_signup") in html
    client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.org",
            "password1": "a-long-new-password-42",
            "password2": "a-long-new-password-42",
        },
    )
    assert User.objects.filter(email="newcomer@example.org").exists()


def test_login_page_uses_the_site_layout(db):
    html = fresh_client().get(reverse("account_login")).content.decode()
    assert 'class="site-header"' in html
    assert '<main id="main"' in html
    assert 'class="button"' in html


def test_login_page_offers_no_outside_provider_by_default(db):
    html = fresh_client().get(reverse("account_login")).content.decode()
    assert "/accounts/microsoft/login/" not in html
    assert "/accounts/oidc/" not in html


def test_login_page_offers_configured_providers(db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "microsoft": {
            "APPS": [
                {
                    "client_id": "id",
                    "secret": "s",
                    "settings": {"tenant": "organizations"},
                }
            ]
        },
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "csam",
                    "name": "itsme / eID",
                    "client_id": "id",
                    "secret": "s",
                    "settings": {"server_url": "https://idp.example"},
                }
            ]
        },
    }
    html = fresh_client().get(reverse("account_login")).content.decode()
    assert "/accounts/microsoft/login/" in html
    assert "/accounts/oidc/csam/login/" in html
    assert "itsme / eID" in html
