"""Account policy: no self-signup unless allowed; re-authentication guard.

Re-authentication is limited per session, not by the login's per-address
limits, so that others cannot deny it (``AccountAdapter.reauthenticate``).
"""

import hashlib
import time
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.urls import reverse


def logged_in_recently(request) -> bool:
    """Whether the last login or confirmation of this session is still recent."""
    records = get_authentication_records(request, request.user)
    if not records:
        return False
    age = time.time() - max(record.get("at", 0) for record in records)
    return age < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def recent_login_required(function: Callable | None = None, **options):
    """Ask for the password, passkey or TOTP again if the login is not recent.

    Casting a secret ballot and unsealing need a login, or a confirmation on
    allauth's re-authentication page, no older than
    ACCOUNT_REAUTHENTICATION_TIMEOUT seconds. Allauth alone only counts the
    confirmations; a member who has just logged in should not be asked twice.
    Anonymous visitors go to the login page first.
    """

    def decorator(view: Callable) -> Callable:
        guarded = reauthentication_required(view, **options)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if logged_in_recently(request):
                return view(request, *args, **kwargs)
            return guarded(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator(function) if function else decorator


def recent_login_for_writes(view: Callable) -> Callable:
    """Recent re-authentication for a page and for the POST it receives.

    GET goes through ``recent_login_required``. A POST without a recent login
    is sent to re-authenticate and then back to the page, without being
    stashed in the session as allauth would: nothing posted waits there.
    """
    guarded = recent_login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "GET":
            return guarded(request, *args, **kwargs)
        if not logged_in_recently(request):
            return HttpResponseRedirect(
                reverse("account_reauthenticate")
                + "?"
                + urlencode({"next": request.path})
            )
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def email_address_confirm(*, user) -> None:
    """Mark the address the clerk or administrator entered as verified.

    Accounts are created by the council's own staff from addresses they know,
    so there is nothing for the person to confirm; allauth needs the record to
    let them add a second factor and to match Entra / OpenID Connect logins.
    """
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).update(
        primary=False
    )
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


# Wrong passwords a session may give when confirming its identity, per window.
REAUTH_FAILURES_ALLOWED = 5
REAUTH_WINDOW_SECONDS = 300


def _reauth_failures_key(request, user) -> str:
    # Per user and session: only whoever holds this session counts here.
    session = hashlib.sha256((request.session.session_key or "").encode())
    return f"council:reauth-failed:{user.pk}:{session.hexdigest()}"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ALLOW_SIGNUP

    def reauthenticate(self, user, password: str) -> bool:
        """Check a logged-in person's password, limited per session.

        Allauth's own check goes through the login's limits, kept per
        address: anyone failing five logins with a member's address every
        five minutes would stop that member, logged in, from confirming
        their identity to cast a secret ballot or unseal. Here the failures
        counted are this session's alone; the login page keeps its limits.
        """
        request = context.request
        key = _reauth_failures_key(request, user)
        if cache.get(key, 0) >= REAUTH_FAILURES_ALLOWED:
            raise self.validation_error("too_many_login_attempts")
        if user.is_active and user.check_password(password):
            cache.delete(key)
            return True
        cache.add(key, 0, REAUTH_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, REAUTH_WINDOW_SECONDS)
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Entra ID / OpenID Connect log in to accounts the clerk already created."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return settings.ALLOW_SIGNUP
