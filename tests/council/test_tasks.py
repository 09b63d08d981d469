"""The queue helpers and the audit anchoring the worker does on its own."""

import datetime

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from council.audit import audit_anchors, audit_record
from council.models import AuditEntry
from council.tasks import (
    audit_anchor_now,
    audit_anchor_periodic,
    audit_anchor_schedule,
    enqueue_once,
)
from tests.jobs import run_jobs, waiting

pytestmark = pytest.mark.django_db

PERIODIC = "council.tasks.audit_anchor_periodic"


def _entry():
    audit_record(by=None, action="test.entry")
    return AuditEntry.objects.order_by("-sequence").first()


def test_the_worker_keeps_one_periodic_anchoring_waiting(settings):
    settings.AUDIT_ANCHOR_INTERVAL = 3600
    before = timezone.now()
    run_jobs()
    run_jobs()
    audit_anchor_schedule()
    (copy,) = waiting(PERIODIC)
    due = copy.run_after - before
    assert datetime.timedelta(seconds=3599) < due < datetime.timedelta(seconds=3700)


def test_the_periodic_job_anchors_the_head_and_schedules_the_next():
    entry = _entry()
    run_jobs()
    assert (entry.sequence, entry.entry_hash) not in audit_anchors()
    DBTaskResult.objects.filter(task_path=PERIODIC).update(
        run_after=timezone.now() - datetime.timedelta(seconds=1)
    )
    run_jobs()
    assert (entry.sequence, entry.entry_hash) in audit_anchors()
    (next_copy,) = waiting(PERIODIC)
    assert next_copy.run_after > timezone.now()
    done = DBTaskResult.objects.get(task_path=PERIODIC, status="SUCCESSFUL")
    assert done.return_value == entry.sequence


def test_a_failed_anchoring_still_schedules_the_next(settings, tmp_path):
    _entry()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.AUDIT_ANCHOR_DIR = blocker / "anchors"  # cannot be created
    with pytest.raises(OSError):
        audit_anchor_periodic.call()
    assert len(waiting(PERIODIC)) == 1


def test_one_copy_waits_and_an_earlier_request_brings_it_forward():
    later = timezone.now() + datetime.timedelta(hours=1)
    enqueue_once(audit_anchor_now, run_after=later)
    enqueue_once(audit_anchor_now, run_after=later + datetime.timedelta(hours=1))
    (copy,) = waiting("council.tasks.audit_anchor_now")
    assert copy.run_after == later
    enqueue_once(audit_anchor_now)  # as soon as possible
    enqueue_once(audit_anchor_now, run_after=later)
    (copy,) = waiting("council.tasks.audit_anchor_now")
    entry = _entry()
    run_jobs()  # due now, so the worker runs it
    assert (entry.sequence, entry.entry_hash) in audit_anchors()
    assert DBTaskResult.objects.get(pk=copy.pk).status == TaskResultStatus.SUCCESSFUL


def test_copies_with_other_arguments_are_other_jobs():
    from meetings.tasks_convocations import convocations_send

    enqueue_once(convocations_send, meeting_id=1)
    enqueue_once(convocations_send, meeting_id=2)
    enqueue_once(convocations_send, meeting_id=1)
    queued = waiting(convocations_send.module_path)
    assert sorted(job.args_kwargs["kwargs"]["meeting_id"] for job in queued) == [1, 2]
