"""Convocation emails: one per member, in the body's language, with an .ics.

Convening prepares one row per member and queues the job that sends them
(``meetings.tasks_convocations``); the request sends nothing. The job sends
each pending row and marks it sent in its own transaction before the next,
so a worker killed mid-batch leaves the others pending for the next run and
never sends a row marked sent again. A failed send waits and is tried again,
``CONVOCATION_RETRY_SECONDS`` doubling each time, up to
``CONVOCATION_ATTEMPTS`` in all; then it is failed, and the clerk may retry.
"""

import contextlib
import datetime
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Min, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import Action, require
from council.refusals import Refusal
from council.tasks import enqueue_on_commit, enqueue_once
from meetings.calendars import absolute, meeting_ics
from meetings.models import Convocation, Meeting

logger = logging.getLogger(__name__)

NOT_CONVENED = _("The meeting is not convened: there is nothing to send.")


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


def convocations_dispatch(*, meeting: Meeting) -> None:
    """After the commit, the worker sends the meeting's pending convocations."""
    from meetings.tasks_convocations import convocations_send

    enqueue_on_commit(convocations_send, meeting_id=meeting.pk)


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
    # The same identifier on every attempt: a copy sent again after a crash
    # (sent, then the worker died before recording it) is known as one.
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    message.extra_headers["Message-ID"] = (
        f"<convocation-{meeting.pk}-{convocation.pk}@{domain}>"
    )
    return message


def _due(now: datetime.datetime) -> Q:
    return Q(status=Convocation.Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


@contextlib.contextmanager
def _taken(pk: int, now: datetime.datetime):
    """The row to send if still due, held by this worker while it is sent.

    On PostgreSQL the row stays locked until its outcome is committed, so two
    workers never send the same one (the other skips it); a worker killed
    mid-send releases it untouched. SQLite has one writer at a time: holding
    its lock during a send would stop every other write for that long, and
    the embedded set-up runs one worker.
    """
    rows = Convocation.objects.filter(_due(now), pk=pk).select_related("person")
    if db_connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            yield rows.select_for_update(skip_locked=True, of=("self",)).first()
    else:
        yield rows.first()


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(
        seconds=settings.CONVOCATION_RETRY_SECONDS * 2 ** (attempts - 1)
    )


def _deliver_one(pk: int, meeting: Meeting, items: list, mailer, now) -> str | None:
    with _taken(pk, now) as convocation:
        if convocation is None:
            return None  # sent meanwhile, or being sent by another worker
        convocation.meeting = meeting
        attempts = convocation.attempts + 1
        try:
            mailer.send_messages([convocation_message(convocation, items)])
        except Exception as exc:
            # One bad address must not stop the others.
            logger.warning(
                "convocation %s not sent (attempt %s): %s", pk, attempts, exc
            )
            gave_up = attempts >= settings.CONVOCATION_ATTEMPTS
            Convocation.objects.filter(pk=pk).update(
                attempts=attempts,
                error=str(exc)[:300] or type(exc).__name__,
                status=(
                    Convocation.Status.FAILED if gave_up else Convocation.Status.PENDING
                ),
                next_attempt_at=None if gave_up else now + _backoff(attempts),
            )
            return "failed" if gave_up else "waiting"
        Convocation.objects.filter(pk=pk).update(
            attempts=attempts,
            status=Convocation.Status.SENT,
            sent_at=timezone.now(),
            next_attempt_at=None,
            error="",
        )
        return "sent"


def convocations_deliver(
    *, meeting_id: int, now: datetime.datetime | None = None
) -> dict[str, int]:
    """Send the meeting's convocations that are due; how many went, wait, failed.

    Run by the worker, and safe to run twice or side by side: a row is sent
    only while pending, and marked sent in its own transaction before the
    next. Rows waiting for a retry get a run of the job at the earliest time.
    """
    now = now or timezone.now()
    counts = {"sent": 0, "waiting": 0, "failed": 0}
    meeting = Meeting.objects.select_related("body").filter(pk=meeting_id).first()
    if meeting is None or not meeting.is_published:
        return counts
    rows = Convocation.objects.filter(meeting=meeting)
    pks = list(rows.filter(_due(now)).order_by("pk").values_list("pk", flat=True))
    if pks:
        items = _agenda(meeting)
        mailer = get_connection()
        try:
            mailer.open()
        except Exception:
            # Each send opens it again and records its own failure.
            logger.warning("the mail server could not be reached", exc_info=True)
        try:
            for pk in pks:
                outcome = _deliver_one(pk, meeting, items, mailer, now)
                if outcome:
                    counts[outcome] += 1
        finally:
            mailer.close()
        with transaction.atomic():
            audit_record(
                by=None,
                action="meeting.convocations_sent",
                obj=meeting,
                body=meeting.body,
                details=counts,
            )
    later = rows.filter(
        status=Convocation.Status.PENDING, next_attempt_at__gt=now
    ).aggregate(at=Min("next_attempt_at"))["at"]
    if later:
        from meetings.tasks_convocations import convocations_send

        enqueue_once(convocations_send, run_after=later, meeting_id=meeting.pk)
    return counts


def convocations_retry(*, meeting: Meeting, by) -> int:
    """The clerk sends again, now, the convocations that could not go out."""
    require(by, Action.PREPARE_MEETINGS, meeting.body)
    if not meeting.is_published:
        raise Refusal(NOT_CONVENED, code="not_convened")
    with transaction.atomic():
        again = Convocation.objects.filter(meeting=meeting).filter(
            Q(status=Convocation.Status.FAILED)
            | Q(status=Convocation.Status.PENDING, next_attempt_at__isnull=False)
        )
        count = again.update(
            status=Convocation.Status.PENDING, attempts=0, next_attempt_at=None
        )
        audit_record(
            by=by,
            action="meeting.convocations_resend",
            obj=meeting,
            body=meeting.body,
            details={"again": count},
        )
        convocations_dispatch(meeting=meeting)
    return count
