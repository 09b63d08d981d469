"""Keyholders' sealing keys, and the binding of keys to the server's secret.

Every sealing key and every secret poll's key carries an HMAC under
``settings.POLL_KEY_SECRET`` (voting.services.sealing). It is checked when a
poll opens (each keyholder's key), at every cast and at unsealing (the poll's
key and its seals). A key that does not verify was written into the database
by someone without the secret: the action is refused, the poll stops taking
ballots, the audit log records it and the keyholders are alerted by email.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.keyholders import confirmed_holder_ids, is_confirmed_keyholder
from council.models import Body, Mandate
from council.permissions import KEYHOLDER_ROLES, Action, can, require
from council.refusals import Refusal
from voting.models import Poll, PollKeySeal, SealingKey
from voting.services import sealing

logger = logging.getLogger(__name__)

PASSPHRASE_TOO_SHORT = _("The passphrase must be at least %(n)d characters long.")
PASSPHRASES_DIFFER = _("The two passphrases differ.")
MANDATE_PENDING = _(
    "Your mandate as a keyholder awaits the director-general's confirmation: "
    "you cannot set up a sealing key yet."
)
POLL_KEY_MISMATCH = _(
    "This vote's key does not match what the server sealed: the vote is stopped "
    "and the keyholders were alerted."
)
POLL_KEY_MISMATCH_UNSEAL = _(
    "This ballot's key does not match what the server sealed: nothing was "
    "unsealed and the keyholders were alerted."
)
SEALING_KEY_FORGED = _(
    "A keyholder's sealing key does not match what the server recorded: the "
    "ballot was not opened and the keyholders were alerted."
)

POLL_KEY_ALARM = "voting.poll.key_mismatch"
SEALING_KEY_ALARM = "voting.sealing_key.mismatch"


def sealing_key_setup(*, body, by, passphrase: str, confirm: str) -> SealingKey:
    """Give the keyholder a new key; their previous key stays for older polls."""
    require(by, Action.HOLD_SEALING_KEY, body)
    if not is_confirmed_keyholder(by, body):
        raise Refusal(MANDATE_PENDING)
    if len(passphrase) < sealing.MIN_PASSPHRASE_LENGTH:
        raise Refusal(PASSPHRASE_TOO_SHORT % {"n": sealing.MIN_PASSPHRASE_LENGTH})
    if passphrase != confirm:
        raise Refusal(PASSPHRASES_DIFFER)
    material = sealing.new_keyholder_key(passphrase)
    binding = sealing.sealing_key_tag(
        holder_id=by.pk, body_id=body.pk, public_key=material["public_key"]
    )
    with transaction.atomic():
        SealingKey.objects.select_for_update().filter(
            holder=by, body=body, active=True
        ).update(active=False)
        key = SealingKey.objects.create(
            holder=by, body=body, binding=binding, **material
        )
        audit_record(
            by=by,
            action="voting.sealing_key.setup",
            obj=key,
            body=body,
            details={
                "public_key": bytes(key.public_key).hex(),
                "fingerprint": key.fingerprint,
            },
        )
    return key


def active_keys(body):
    """Active keys of the people whose keyholder mandate counts today.

    A deputy whose mandate the director-general has not confirmed is left
    out: nothing is sealed to them.
    """
    keys = [
        k
        for k in SealingKey.objects.filter(body=body, active=True).select_related(
            "holder"
        )
        if can(k.holder, Action.HOLD_SEALING_KEY, body)
    ]
    counted = confirmed_holder_ids(body, [k.holder_id for k in keys])
    return [k for k in keys if k.holder_id in counted]


# ---- bindings -----------------------------------------------------------------


def sealing_key_is_bound(key: SealingKey) -> bool:
    expected = sealing.sealing_key_tag(
        holder_id=key.holder_id, body_id=key.body_id, public_key=key.public_key
    )
    return sealing.tags_match(expected, key.binding)


def poll_key_tag_of(poll: Poll, seals) -> str:
    """The binding the poll's key and these seals (with their keys) must carry."""
    return sealing.poll_key_tag(
        poll_id=poll.pk,
        public_key=bytes(poll.public_key),
        seals=[
            (
                s.sealing_key.holder_id,
                bytes(s.sealing_key.public_key),
                bytes(s.sealed_private_key),
            )
            for s in seals
        ],
    )


def poll_seals(poll: Poll) -> list[PollKeySeal]:
    return list(
        PollKeySeal.objects.filter(poll=poll).select_related("sealing_key__holder")
    )


def poll_key_is_bound(poll: Poll, seals: list[PollKeySeal] | None = None) -> bool:
    """Whether the poll's public key, its seals and their keys are the server's."""
    if not poll.public_key:
        return False
    seals = poll_seals(poll) if seals is None else seals
    if not seals or not all(sealing_key_is_bound(s.sealing_key) for s in seals):
        return False
    return sealing.tags_match(poll_key_tag_of(poll, seals), poll.key_binding)


def poll_key_verified(poll: Poll) -> bytes:
    """The poll's public key once its binding verifies (one query).

    Otherwise the poll stops taking ballots, the keyholders are alerted, and
    the cast is refused. Called before the cast's transaction, so that the
    alarm is committed whatever becomes of the cast.
    """
    if poll.key_alarm_at is None and poll_key_is_bound(poll):
        return bytes(poll.public_key)
    poll_key_alarm(poll=poll, during="cast")
    raise Refusal(POLL_KEY_MISMATCH)


# ---- alarms -------------------------------------------------------------------


def _keyholder_addresses(body: Body) -> list[str]:
    """Every keyholder in office, from the mandates: their keys may be forged."""
    return sorted(
        set(
            Mandate.objects.in_office(on=timezone.localdate())
            .filter(body=body, role__in=KEYHOLDER_ROLES)
            .exclude(person__email="")
            .values_list("person__email", flat=True)
        )
    )


def _alert_keyholders(body: Body, subject, message, params: dict) -> None:
    """Email every keyholder in office, in the body's language."""
    recipients = _keyholder_addresses(body)
    if not recipients:
        return
    with translation.override(body.language):
        subject, message = str(subject), str(message) % params
    try:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        # The refusal and the audit entry stand; a mail server down must not
        # turn a stopped vote into an error page.
        logger.exception("the keyholders could not be alerted by email")


def poll_key_alarm(*, poll: Poll, during: str) -> None:
    """Stop the poll, record the mismatch and alert the keyholders, once per poll."""
    poll = Poll.objects.select_related("item__meeting__body").get(pk=poll.pk)
    body = poll.item.meeting.body
    now = timezone.now()
    with transaction.atomic():
        first = bool(
            Poll.objects.filter(pk=poll.pk, key_alarm_at__isnull=True).update(
                key_alarm_at=now
            )
        )
        if not first:
            return
        audit_record(
            by=None,
            label="system",
            action=POLL_KEY_ALARM,
            obj=poll,
            body=body,
            details={
                "during": during,
                "key_fingerprint": poll.key_fingerprint,
                "sealed_to": [
                    {
                        "holder": s.sealing_key.holder_id,
                        "fingerprint": s.sealing_key.fingerprint,
                    }
                    for s in poll_seals(poll)
                ],
            },
        )
    _alert_keyholders(
        body,
        _("Secret ballot stopped: its key was altered"),
        _(
            "The key of the secret ballot on “%(item)s” (%(meeting)s) does not "
            "match what the server sealed: someone wrote it into the database. "
            "The ballot takes no more votes and its box is not unsealed with "
            "this key. The audit log records it (%(action)s). Check who had "
            "write access to the database."
        ),
        {
            "item": poll.item.title,
            "meeting": poll.item.meeting.title,
            "action": POLL_KEY_ALARM,
        },
    )


def sealing_key_alarm(*, body: Body, keys: list[SealingKey], by) -> None:
    """Record sealing keys that do not verify and alert the keyholders."""
    audit_record(
        by=by,
        action=SEALING_KEY_ALARM,
        body=body,
        details={
            "keys": [
                {"key": k.pk, "holder": k.holder_id, "fingerprint": k.fingerprint}
                for k in keys
            ]
        },
    )
    _alert_keyholders(
        body,
        _("Secret ballot not opened: a sealing key was altered"),
        _(
            "A secret ballot was about to be sealed to a keyholder's key that "
            "the server did not record: someone wrote it into the database. "
            "The ballot was not opened. The audit log records it (%(action)s). "
            "Each keyholder should set up a new sealing key, and check who had "
            "write access to the database."
        ),
        {"action": SEALING_KEY_ALARM},
    )
