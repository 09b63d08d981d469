"""Reads for members: who can unseal, with the fingerprints of their keys.

A fingerprint is 128 bits of the SHA-256 of a public key, in groups of four
hex digits, for people to compare: the keyholder reads it on their own key
page, members read it on the poll page and the keyholders page.
"""

from dataclasses import dataclass

from django.utils import timezone

from council.keyholders import keyholders
from council.models import Body, Mandate
from council.permissions import KEYHOLDER_ROLES
from voting.models import Poll, SealingKey
from voting.services.keys import poll_key_is_bound, poll_seals, sealing_key_is_bound


@dataclass(frozen=True)
class KeyholderRow:
    name: str
    role: str
    fingerprint: str  # empty: no key set up
    pending: bool = False  # a deputy's mandate awaiting confirmation
    bound: bool = True  # False: the key does not verify against the server's


def body_keyholders(body: Body) -> list[KeyholderRow]:
    """Every keyholder mandate in office, with its active key (three queries)."""
    holders = keyholders(body)
    keys = {
        k.holder_id: k
        for k in SealingKey.objects.filter(
            body=body, active=True, holder_id__in=[h.person.pk for h in holders]
        )
    }
    rows = []
    for holder in holders:
        key = keys.get(holder.person.pk)
        rows.append(
            KeyholderRow(
                name=holder.person.display_name,
                role=holder.role_label,
                fingerprint=key.fingerprint if key else "",
                pending=holder.pending,
                bound=sealing_key_is_bound(key) if key else True,
            )
        )
    return rows


@dataclass(frozen=True)
class PollKeys:
    """The keys of a secret poll as its page shows them."""

    fingerprint: str
    bound: bool
    holders: list[KeyholderRow]


def poll_keys(poll: Poll) -> PollKeys | None:
    """Who can unseal this poll: each seal's keyholder, role and key (two queries)."""
    if not poll.secret or not poll.public_key:
        return None
    seals = poll_seals(poll)
    body_id = poll.item.meeting.body_id
    roles: dict[int, list[str]] = {}
    mandates = Mandate.objects.filter(
        body_id=body_id,
        role__in=KEYHOLDER_ROLES,
        person_id__in=[s.sealing_key.holder_id for s in seals],
    ).order_by("role")
    on = timezone.localtime(poll.opened_at).date()
    for mandate in mandates:
        if mandate.is_in_office(on):
            roles.setdefault(mandate.person_id, []).append(mandate.get_role_display())
    holders = [
        KeyholderRow(
            name=s.sealing_key.holder.display_name,
            role=", ".join(roles.get(s.sealing_key.holder_id, [])),
            fingerprint=s.sealing_key.fingerprint,
            bound=sealing_key_is_bound(s.sealing_key),
        )
        for s in sorted(seals, key=lambda s: s.sealing_key.holder.display_name)
    ]
    return PollKeys(
        fingerprint=poll.key_fingerprint,
        bound=poll.key_alarm_at is None and poll_key_is_bound(poll, seals),
        holders=holders,
    )


def key_alarms(body: Body) -> list[Poll]:
    """The body's polls whose key was found altered, latest first."""
    return list(
        Poll.objects.filter(item__meeting__body=body, key_alarm_at__isnull=False)
        .select_related("item__meeting")
        .order_by("-key_alarm_at")[:20]
    )
