"""A batch print outlives its worker: ``kill -9`` mid-render leaves the job
"rendering"; the next worker renders it and prints each record once."""

import signal

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from council.audit import audit_anchors
from council.models import AuditEntry
from minutes import services
from minutes.models import DecisionRecord, PrintJob
from tests.worker_gate import print_job_render_gated
from tests.worker_process import start_worker, wait_for, worker_log


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db(transaction=True)
def test_a_print_job_whose_worker_was_killed_is_rendered_by_the_next(
    issued, sitting, clerk, media, tmp_path
):
    gate = tmp_path / "gate"
    gate.mkdir()
    job = services.print_job_start(meeting=sitting.meeting, by=clerk, kind="decisions")
    DBTaskResult.objects.all().delete()
    queued = print_job_render_gated.enqueue(job_id=job.pk, gate_dir=str(gate))
    first = start_worker(tmp_path)
    try:
        wait_for(gate / "reached", first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    job.refresh_from_db()
    assert job.state == PrintJob.State.RUNNING and job.done == 1
    assert not DecisionRecord.objects.filter(printed_at__isnull=False).exists()

    (gate / "open").touch()
    second = start_worker(tmp_path, "--batch")
    try:
        assert second.wait(timeout=180) == 0, worker_log(tmp_path)
    finally:
        if second.poll() is None:
            second.kill()
    job.refresh_from_db()
    assert job.state == PrintJob.State.DONE, (job.error, worker_log(tmp_path))
    assert job.file.read().startswith(b"%PDF")
    assert DBTaskResult.objects.get(pk=queued.id).status == (
        TaskResultStatus.SUCCESSFUL
    )
    printed = AuditEntry.objects.filter(action="record.print")
    assert sorted(e.object_id for e in printed) == sorted(str(r.pk) for r in issued)
    # The worker anchored the head the marks left, outside the database.
    head = AuditEntry.objects.order_by("-sequence").first()
    assert (head.sequence, head.entry_hash) in audit_anchors()
