"""Convocation emails: one per member, in the body's language, with an .ics."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from council.audit import audit_record
from council.permissions import Action, require
from meetings.calendars import absolute, meeting_ics
from meetings.models import Convocation, Meeting

logger = logging.getLogger(__name__)


def convocations_prepare(*, meeting: Meeting, now) -> int:
    """One row per member in office on the sitting day; returns how many."""
    members = meeting.members_in_office()
    existing = set(
        Convocation.objects.filter(meeting=meeting).values_list("person_id", flat=True)
    )
    rows = [
        Convocation(
            meeting=meeting,
            person=person,
            email=person.email,
            language=meeting.body.language,
            created_at=now,
        )
        for person in members.order_by("pk")
        if person.pk not in existing
    ]
    Convocation.objects.bulk_create(rows)
    return len(existing) + len(rows)


def _agenda(meeting: Meeting) -> list:
    return list(
        meeting.items.select_related("rapporteur")
        .prefetch_related("documents")
        .order_by("position")
    )


def convocation_message(
    convocation: Convocation, items: list
) -> EmailMultiAlternatives:
    meeting = convocation.meeting
    with translation.override(convocation.language), timezone.override(meeting.zone):
        context = {
            "meeting": meeting,
            "person": convocation.person,
            "items": [
                (
                    item,
                    [
                        (document, absolute(document.get_absolute_url()))
                        for document in item.documents.all()
                    ],
                )
                for item in items
            ],
            "meeting_url": absolute(
                reverse("meetings:meeting_detail", args=[meeting.pk])
            ),
        }
        subject = render_to_string(
            "meetings/email/convocation_subject.txt", context
        ).strip()
        body = render_to_string("meetings/email/convocation.txt", context)
        ics = meeting_ics(meeting, description=body)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[convocation.email],
    )
    message.attach("convocation.ics", ics, "text/calendar; charset=utf-8")
    return message


def convocations_send(*, meeting_id: int) -> int:
    """Send every convocation of the meeting not yet sent; returns how many went."""
    meeting = Meeting.objects.select_related("body").get(pk=meeting_id)
    pending = list(
        Convocation.objects.filter(meeting=meeting, sent_at__isnull=True)
        .select_related("person")
        .order_by("pk")
    )
    if not pending:
        return 0
    items = _agenda(meeting)
    sent = 0
    with get_connection() as connection:
        for convocation in pending:
            convocation.meeting = meeting
            try:
                connection.send_messages([convocation_message(convocation, items)])
            except Exception as exc:
                # One bad address must not stop the others; the clerk sees it
                # and may send the pending ones again.
                logger.warning("convocation %s not sent: %s", convocation.pk, exc)
                Convocation.objects.filter(pk=convocation.pk).update(
                    error=str(exc)[:300]
                )
                continue
            Convocation.objects.filter(pk=convocation.pk).update(
                sent_at=timezone.now(), error=""
            )
            sent += 1
    with transaction.atomic():
        audit_record(
            by=None,
            action="meeting.convocations_sent",
            obj=meeting,
            body=meeting.body,
            details={"sent": sent, "pending": len(pending) - sent},
        )
    return sent


def convocations_resend(*, meeting: Meeting, by) -> int:
    """The clerk sends again the convocations that could not go out."""
    require(by, Action.PREPARE_MEETINGS, meeting.body)
    if not meeting.is_published:
        return 0
    with transaction.atomic():
        audit_record(
            by=by,
            action="meeting.convocations_resend",
            obj=meeting,
            body=meeting.body,
            details={
                "pending": Convocation.objects.filter(
                    meeting=meeting, sent_at__isnull=True
                ).count()
            },
        )
    return convocations_send(meeting_id=meeting.pk)
