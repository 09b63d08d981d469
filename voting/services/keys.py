"""Keyholders' sealing keys."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import Action, can, require
from council.refusals import Refusal
from voting.models import SealingKey
from voting.services import sealing

PASSPHRASE_TOO_SHORT = _("The passphrase must be at least %(n)d characters long.")
PASSPHRASES_DIFFER = _("The two passphrases differ.")


def sealing_key_setup(*, body, by, passphrase: str, confirm: str) -> SealingKey:
    """Give the keyholder a new key; their previous key stays for older polls."""
    require(by, Action.HOLD_SEALING_KEY, body)
    if len(passphrase) < sealing.MIN_PASSPHRASE_LENGTH:
        raise Refusal(PASSPHRASE_TOO_SHORT % {"n": sealing.MIN_PASSPHRASE_LENGTH})
    if passphrase != confirm:
        raise Refusal(PASSPHRASES_DIFFER)
    material = sealing.new_keyholder_key(passphrase)
    with transaction.atomic():
        SealingKey.objects.select_for_update().filter(
            holder=by, body=body, active=True
        ).update(active=False)
        key = SealingKey.objects.create(holder=by, body=body, **material)
        audit_record(
            by=by,
            action="voting.sealing_key.setup",
            obj=key,
            body=body,
            details={"public_key": bytes(key.public_key).hex()},
        )
    return key


def active_keys(body):
    """Active keys of the people who hold a keyholder's mandate today."""
    keys = SealingKey.objects.filter(body=body, active=True).select_related("holder")
    return [k for k in keys if can(k.holder, Action.HOLD_SEALING_KEY, body)]
