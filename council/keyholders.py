"""Who holds the keys of secret ballots on a body, and whose mandate is pending.

A director-general mandate counts from its start. A deputy's mandate counts
only once the director-general has confirmed it in the application; until
then the deputy sets up no sealing key and no ballot is sealed to them.

The confirmation is not a column anyone could set in the database: it is the
"keyholder.mandate.confirm" entry of the audit log, whose HMAC under
``AUDIT_KEY`` (not in the database) is checked each time it is read, and
whose details must name the mandate's person, role and start.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from council.models import AuditEntry, Body, Mandate, User
from council.permissions import KEYHOLDER_ROLES

CONFIRM_ACTION = "keyholder.mandate.confirm"
# Mandates that need the director-general's confirmation before they count.
NEEDS_CONFIRMATION = frozenset({Mandate.Role.DEPUTY_DIRECTOR_GENERAL})


def confirmation_details(mandate: Mandate) -> dict:
    """What the confirmation's audit entry says of the mandate."""
    return {
        "mandate": mandate.pk,
        "person": mandate.person_id,
        "role": mandate.role,
        "start": mandate.start.isoformat(),
    }


def _authentic(entry: AuditEntry, mandate: Mandate) -> bool:
    return (
        entry.action == CONFIRM_ACTION
        and entry.object_type == Mandate._meta.label_lower
        and entry.object_id == str(mandate.pk)
        and entry.body_id == mandate.body_id
        and entry.details == confirmation_details(mandate)
        and entry.details_digest == entry.compute_details_digest()
        and entry.entry_hash == entry.compute_hash()
    )


def confirmed_ids(mandates: Iterable[Mandate]) -> set[int]:
    """The mandates among these that count: no confirmation needed, or confirmed.

    One query of the audit log for all of them.
    """
    mandates = list(mandates)
    waiting = {m.pk: m for m in mandates if m.role in NEEDS_CONFIRMATION}
    confirmed = {m.pk for m in mandates if m.pk not in waiting}
    if waiting:
        entries = AuditEntry.objects.filter(
            action=CONFIRM_ACTION,
            object_type=Mandate._meta.label_lower,
            object_id__in=[str(pk) for pk in waiting],
        )
        for entry in entries:
            mandate = waiting.get(int(entry.object_id))
            if mandate is not None and _authentic(entry, mandate):
                confirmed.add(mandate.pk)
    return confirmed


@dataclass(frozen=True)
class Keyholder:
    """A keyholder mandate in office, as members see it."""

    mandate: Mandate
    pending: bool

    @property
    def person(self) -> User:
        return self.mandate.person

    @property
    def role_label(self) -> str:
        return self.mandate.get_role_display()


def keyholders(body: Body, on: datetime.date | None = None) -> list[Keyholder]:
    """Director-general and deputy mandates in office, each pending or not."""
    mandates = sorted(
        Mandate.objects.in_office(on=on or timezone.localdate())
        .filter(body=body, role__in=KEYHOLDER_ROLES)
        .select_related("person"),
        # The director-general first, then the deputies by name.
        key=lambda m: (
            m.role != Mandate.Role.DIRECTOR_GENERAL,
            m.person.last_name,
            m.person.first_name,
            m.pk,
        ),
    )
    confirmed = confirmed_ids(mandates)
    return [Keyholder(m, pending=m.pk not in confirmed) for m in mandates]


def pending_mandates(body: Body) -> list[Mandate]:
    """Mandates in office waiting for the director-general's confirmation."""
    return [k.mandate for k in keyholders(body) if k.pending]


def confirmed_holder_ids(body: Body, person_ids: Iterable[int]) -> set[int]:
    """Among these people, those who hold a keyholder mandate that counts today."""
    mandates = Mandate.objects.in_office(on=timezone.localdate()).filter(
        body=body, role__in=KEYHOLDER_ROLES, person_id__in=list(person_ids)
    )
    mandates = list(mandates)
    confirmed = confirmed_ids(mandates)
    return {m.person_id for m in mandates if m.pk in confirmed}


def is_confirmed_keyholder(user, body: Body) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.pk in confirmed_holder_ids(body, [user.pk])
