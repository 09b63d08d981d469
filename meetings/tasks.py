"""Background jobs of the meetings: the absence checks of the live sitting.

Each job may run twice (a worker killed mid-job re-runs it): it asks the
services, which look at what is already recorded.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

ABSENCE_CHECK_ATTEMPTS = 5
RETRY_SECONDS = 5
# The key of the lock that keeps one pending sweep (PostgreSQL advisory lock).
SWEEP_LOCK = 0x636F756E63696C  # "council"


def _with_the_change(enqueue) -> None:
    """Enqueue in the caller's transaction when the queue is this database.

    Then the change and its job commit together or not at all; another queue
    gets the job once the change is committed.
    """
    if _queue_is_the_database():
        enqueue()
    else:
        transaction.on_commit(enqueue)


def _queue_is_the_database() -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(absence_check.get_backend(), DatabaseBackend)


# ---- absence after the grace period --------------------------------------------------


def schedule_absence_check(
    *, meeting_id: int, person_id: int, since: datetime.datetime
) -> None:
    """Check the member's presence once the grace period after ``since`` is over."""
    from meetings.services.sitting import grace_seconds

    run_after = timezone.now() + datetime.timedelta(seconds=grace_seconds())
    _with_the_change(
        lambda: absence_check.using(run_after=run_after).enqueue(
            meeting_id, person_id, since.isoformat()
        )
    )


@task()
def absence_check(
    meeting_id: int, person_id: int, since_iso: str, attempt: int = 1
) -> bool:
    """Record the member absent since ``since_iso`` unless one of their pages is back.

    Whether an absence was recorded. A failure is retried a few times.
    """
    from meetings.models import Meeting
    from meetings.services.sitting import attendance_connection_lost

    try:
        meeting = Meeting.objects.select_related("body").filter(pk=meeting_id).first()
        person = get_user_model().objects.filter(pk=person_id).first()
        if meeting is None or person is None:
            return False
        event = attendance_connection_lost(
            meeting=meeting,
            person=person,
            disconnected_at=datetime.datetime.fromisoformat(since_iso),
        )
    except Exception:
        if attempt < ABSENCE_CHECK_ATTEMPTS:
            _retry(meeting_id, person_id, since_iso, attempt + 1)
        raise
    return event is not None


def _retry(meeting_id: int, person_id: int, since_iso: str, attempt: int) -> None:
    try:
        run_after = timezone.now() + datetime.timedelta(seconds=RETRY_SECONDS * attempt)
        absence_check.using(run_after=run_after).enqueue(
            meeting_id, person_id, since_iso, attempt
        )
    except Exception:
        logger.exception("an absence check could not be put back in the queue")


# ---- the periodic sweep of expired leases --------------------------------------------


@task()
def presence_sweep() -> int:
    """End the leases nobody renews any more, then come back while any are held.

    Every live server process sweeps too, while it holds sockets; this job is
    the sweeper when none is left (all of them were killed).
    """
    from meetings.live import presence
    from meetings.models import LiveConnection

    swept = presence.sweep()
    if LiveConnection.objects.exists():
        schedule_presence_sweep()
    _forget_old_sweeps()
    return swept


def schedule_presence_sweep() -> bool:
    """Enqueue the next sweep unless one is already waiting; whether it did."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    run_after = timezone.now() + datetime.timedelta(
        seconds=settings.PRESENCE_SWEEP_SECONDS
    )
    if not _queue_is_the_database():
        presence_sweep.using(run_after=run_after).enqueue()
        return True
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK])
        waiting = DBTaskResult.objects.filter(
            task_path=presence_sweep.module_path, status=TaskResultStatus.READY
        ).exists()
        if waiting:
            return False
        presence_sweep.using(run_after=run_after).enqueue()
    return True


def _forget_old_sweeps() -> None:
    """The sweep's own finished results, older than a day: nobody reads them."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if _queue_is_the_database():
        DBTaskResult.objects.filter(
            task_path=presence_sweep.module_path,
            status=TaskResultStatus.SUCCESSFUL,
            finished_at__lt=timezone.now() - datetime.timedelta(days=1),
        ).delete()
