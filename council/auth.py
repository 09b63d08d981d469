"""Account policy: no self-signup unless allowed; re-authentication guard."""

import time
from collections.abc import Callable
from functools import wraps

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.decorators import login_required


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


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ALLOW_SIGNUP


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Entra ID / OpenID Connect log in to accounts the clerk already created."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return settings.ALLOW_SIGNUP
