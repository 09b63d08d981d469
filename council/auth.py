"""Account policy: no self-signup unless allowed; re-authentication guard."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.decorators import reauthentication_required
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings

# Casting a secret ballot and unsealing require a login (password, passkey or
# TOTP) no older than ACCOUNT_REAUTHENTICATION_TIMEOUT seconds.
recent_login_required = reauthentication_required


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ALLOW_SIGNUP


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Entra ID / OpenID Connect log in to accounts the clerk already created."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return settings.ALLOW_SIGNUP
