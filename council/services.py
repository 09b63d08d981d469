"""Writes on the council's own records that the admin may not make."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.keyholders import (
    CONFIRM_ACTION,
    NEEDS_CONFIRMATION,
    confirmation_details,
    confirmed_ids,
)
from council.models import Body, Mandate, User
from council.permissions import KEYHOLDER_ROLES, Action, require
from council.refusals import Refusal

NOT_A_KEYHOLDER_ROLE = _("Only director-general and deputy mandates are set here.")
ALREADY_IN_OFFICE = _("This person already holds this mandate.")
NOT_IN_OFFICE = _("This person holds no such mandate in office.")
END_BEFORE_START = _("A mandate cannot end before it starts.")
NOTHING_TO_CONFIRM = _("Only a deputy's mandate in office is confirmed here.")
ALREADY_CONFIRMED = _("This mandate is already confirmed.")
NOT_YOUR_OWN = _("Nobody confirms their own keyholder mandate.")


@transaction.atomic
def keyholder_mandate_create(
    *,
    person: User,
    body: Body,
    role: str,
    start: datetime.date | None = None,
    by=None,
    label: str = "command",
) -> Mandate:
    """Give a person a director-general or deputy mandate, audited."""
    if role not in KEYHOLDER_ROLES:
        raise Refusal(NOT_A_KEYHOLDER_ROLE)
    start = start or timezone.localdate()
    if (
        Mandate.objects.in_office(on=start)
        .filter(person=person, body=body, role=role)
        .exists()
    ):
        raise Refusal(ALREADY_IN_OFFICE)
    mandate = Mandate.objects.create(person=person, body=body, role=role, start=start)
    audit_record(
        by=by,
        label=label,
        action="keyholder.mandate.create",
        obj=mandate,
        body=body,
        details={"person": person.pk, "role": role, "start": start.isoformat()},
    )
    return mandate


@transaction.atomic
def keyholder_mandate_end(
    *,
    person: User,
    body: Body,
    role: str,
    end: datetime.date | None = None,
    by=None,
    label: str = "command",
) -> Mandate:
    """End the person's director-general or deputy mandate in office, audited."""
    if role not in KEYHOLDER_ROLES:
        raise Refusal(NOT_A_KEYHOLDER_ROLE)
    end = end or timezone.localdate()
    mandate = (
        Mandate.objects.in_office(on=end)
        .select_for_update()
        .filter(person=person, body=body, role=role)
        .first()
    )
    if mandate is None:
        raise Refusal(NOT_IN_OFFICE)
    if end < mandate.start:
        raise Refusal(END_BEFORE_START)
    Mandate.objects.filter(pk=mandate.pk).update(end=end)
    mandate.end = end
    audit_record(
        by=by,
        label=label,
        action="keyholder.mandate.end",
        obj=mandate,
        body=body,
        details={"person": person.pk, "role": role, "end": end.isoformat()},
    )
    return mandate


@transaction.atomic
def keyholder_mandate_confirm(*, mandate: Mandate, by: User) -> Mandate:
    """The director-general confirms a deputy's mandate: from now on it counts.

    The deputy may then set up a sealing key, and the secret ballots opened
    afterwards are sealed to it too. The audit entry is the confirmation.
    """
    require(by, Action.CONFIRM_KEYHOLDER, mandate.body)
    mandate = (
        Mandate.objects.select_for_update().select_related("body").get(pk=mandate.pk)
    )
    if mandate.role not in NEEDS_CONFIRMATION or not mandate.is_in_office():
        raise Refusal(NOTHING_TO_CONFIRM)
    if mandate.person_id == by.pk:
        raise Refusal(NOT_YOUR_OWN)
    if mandate.pk in confirmed_ids([mandate]):
        raise Refusal(ALREADY_CONFIRMED)
    audit_record(
        by=by,
        action=CONFIRM_ACTION,
        obj=mandate,
        body=mandate.body,
        details=confirmation_details(mandate),
    )
    return mandate
