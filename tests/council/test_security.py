"""Security headers on every page."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("url_name", ["home", "account_login"])
def test_pages_carry_a_content_security_policy(url_name):
    response = client_for(None).get(reverse(url_name))
    csp = _csp(response)
    assert csp["frame-src"] == [f"https://{settings.JITSI_DOMAIN}"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"]


def test_csp_follows_the_jitsi_domain(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
            "frame-src": ["https://visio.example"],
        }
    }
    assert _csp(client_for(None).get("/"))["frame-src"] == ["https://visio.example"]


def test_pages_refuse_framing_and_sniffing(councillor):
    response = client_for(councillor).get(reverse("home"))
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only_and_same_site(councillor):
    response = Client(REMOTE_ADDR="10.250.0.1").post(
        reverse("account_login"), {"login": councillor.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_hsts_header_when_served_over_https(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client_for(None).get("/", secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client_for(None).get("/").headers
