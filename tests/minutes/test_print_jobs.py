import io

import pypdf
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from council.audit import audit_anchors
from council.models import AuditEntry
from minutes import services
from minutes.models import DecisionRecord, PrintJob
from tests.conftest import client_for
from tests.jobs import run_jobs, waiting

RENDER = "minutes.tasks.print_job_render"
ANCHOR = "council.tasks.audit_anchor_now"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_job_renders_all_decisions_with_progress(
    issued, sitting, clerk, media, monkeypatch
):
    with_commit = services.print_job_start(
        meeting=sitting.meeting, by=clerk, kind=PrintJob.Kind.DECISIONS
    )
    assert with_commit.state == PrintJob.State.PENDING and with_commit.total == 2
    seen = []
    original = services.pdf.decision_extracts

    def spy(extracts, progress):
        def record(done):
            progress(done)
            seen.append(PrintJob.objects.get(pk=with_commit.pk).done)

        return original(extracts, progress=record)

    monkeypatch.setattr(services.pdf, "decision_extracts", spy)
    job = services.print_job_run(with_commit.pk)
    assert seen == [1, 2]
    assert job.state == PrintJob.State.DONE and job.percent == 100
    reader = pypdf.PdfReader(io.BytesIO(job.file.read()))
    assert len(reader.pages) == 2
    assert all(r.printed_at for r in DecisionRecord.objects.all())


@pytest.mark.django_db
def test_status_endpoint_and_download(issued, sitting, clerk, media):
    client = client_for(clerk)
    response = client.post(
        reverse("minutes:print_start", args=[sitting.meeting.pk, "decisions"])
    )
    job = PrintJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    status = client.get(reverse("minutes:print_job_status", args=[job.pk])).json()
    assert status["state"] == "pending" and status["percent"] == 0
    assert (
        client.get(reverse("minutes:print_job_file", args=[job.pk])).status_code == 404
    )
    services.print_job_run(job.pk)
    status = client.get(reverse("minutes:print_job_status", args=[job.pk])).json()
    assert status == {
        "state": "done",
        "label": "Ready",
        "done": 2,
        "total": 2,
        "percent": 100,
        "error": "",
        "file": reverse("minutes:print_job_file", args=[job.pk]),
    }
    response = client.get(reverse("minutes:print_job_file", args=[job.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.django_db
def test_the_batch_marks_and_audits_each_record_as_one_record_would(
    issued, sitting, clerk, media, monkeypatch
):
    first = services.decision_record_mark_printed(record=issued[0], by=clerk)
    job = services.print_job_start(
        meeting=sitting.meeting, by=clerk, kind=PrintJob.Kind.DECISIONS
    )
    # Starting the job prints nothing yet: the paper exists once it is rendered.
    assert DecisionRecord.objects.get(pk=issued[1].pk).printed_at is None
    assert AuditEntry.objects.filter(action="record.print").count() == 1
    services.print_job_run(job.pk)
    records = {r.pk: r for r in DecisionRecord.objects.all()}
    assert records[issued[0].pk].printed_at == first.printed_at  # printed once
    assert records[issued[1].pk].printed_at is not None
    entries = list(AuditEntry.objects.filter(action="record.print").order_by("pk"))
    assert [(e.object_id, e.actor, e.details) for e in entries] == [
        (str(r.pk), clerk, {"reference": r.reference}) for r in issued
    ]


@pytest.mark.django_db
def test_failure_is_reported_not_raised(issued, sitting, clerk, media, monkeypatch):
    job = services.print_job_start(meeting=sitting.meeting, by=clerk, kind="decisions")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.pdf, "decision_extracts", boom)
    job = services.print_job_run(job.pk)
    assert job.state == PrintJob.State.FAILED and "disk full" in job.error


@pytest.mark.django_db
def test_bad_requests_change_nothing(sitting, outcomes, clerk, councillor):
    with pytest.raises(ValidationError):
        services.print_job_start(meeting=sitting.meeting, by=clerk, kind="decisions")
    with pytest.raises(ValidationError):
        services.print_job_start(meeting=sitting.meeting, by=clerk, kind="bogus")
    with pytest.raises(PermissionDenied):
        services.print_job_start(meeting=sitting.meeting, by=councillor, kind="minutes")
    assert not PrintJob.objects.exists()


@pytest.mark.django_db
def test_the_request_queues_the_job_and_the_worker_renders_it(
    issued, sitting, clerk, media, django_capture_on_commit_callbacks
):
    client = client_for(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("minutes:print_start", args=[sitting.meeting.pk, "minutes"])
        )
    assert response.status_code == 302
    job = PrintJob.objects.get()
    assert job.state == PrintJob.State.PENDING  # nothing rendered in the request
    assert [j.args_kwargs["kwargs"] for j in waiting(RENDER)] == [{"job_id": job.pk}]
    run_jobs()
    job.refresh_from_db()
    assert job.state == PrintJob.State.DONE, job.error
    assert job.file.read().startswith(b"%PDF")
    assert waiting(RENDER) == []


@pytest.mark.django_db
def test_a_job_run_again_after_a_crash_prints_and_audits_once(
    issued, sitting, clerk, media
):
    job = services.print_job_start(meeting=sitting.meeting, by=clerk, kind="decisions")
    # The worker died after marking the records printed but before the file
    # was saved: the job is left "rendering".
    services.print_job_run(job.pk)
    PrintJob.objects.filter(pk=job.pk).update(state=PrintJob.State.RUNNING, file="")
    job = services.print_job_run(job.pk)
    assert job.state == PrintJob.State.DONE and job.file
    assert AuditEntry.objects.filter(action="record.print").count() == len(issued)
    # A finished job is not rendered again.
    assert services.print_job_run(job.pk).file.name == job.file.name


@pytest.mark.django_db
def test_a_job_cut_short_too_often_fails_instead_of_looping(
    issued, sitting, clerk, media
):
    from django_tasks_db.models import DBTaskResult

    from minutes.tasks import MAX_ATTEMPTS, print_job_render

    job = services.print_job_start(meeting=sitting.meeting, by=clerk, kind="decisions")
    queued = print_job_render.enqueue(job_id=job.pk)
    DBTaskResult.objects.filter(pk=queued.id).update(
        worker_ids=[f"gone:{n}:x" for n in range(MAX_ATTEMPTS)]
    )
    run_jobs()
    job.refresh_from_db()
    assert job.state == PrintJob.State.FAILED
    assert job.error == str(services.PRINT_INTERRUPTED)
    assert not DecisionRecord.objects.filter(printed_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_stopped_worker_puts_the_job_back_in_the_queue(
    issued, sitting, clerk, media, monkeypatch, django_capture_on_commit_callbacks
):
    job = services.print_job_start(meeting=sitting.meeting, by=clerk, kind="decisions")

    def stopped(*args, **kwargs):
        raise SystemExit(1)  # the worker's second Ctrl+C, mid-render

    monkeypatch.setattr(services.pdf, "decision_extracts", stopped)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SystemExit):
        services.print_job_run(job.pk)
    job.refresh_from_db()
    assert job.state == PrintJob.State.PENDING
    assert [j.args_kwargs["kwargs"] for j in waiting(RENDER)] == [{"job_id": job.pk}]
    monkeypatch.undo()
    run_jobs()
    job.refresh_from_db()
    assert job.state == PrintJob.State.DONE


@pytest.mark.django_db
def test_marking_printed_and_batches_anchor_the_head_through_the_queue(
    issued, sitting, clerk, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.decision_record_mark_printed(record=issued[0], by=clerk)
    assert len(waiting(ANCHOR)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.decision_record_mark_printed(record=issued[1], by=clerk)
    assert len(waiting(ANCHOR)) == 1  # one copy waits, whatever the requests
    head = AuditEntry.objects.order_by("-sequence").first()
    assert (head.sequence, head.entry_hash) not in audit_anchors()
    run_jobs()
    assert (head.sequence, head.entry_hash) in audit_anchors()
    assert waiting(ANCHOR) == []


@pytest.mark.django_db
def test_the_worker_queues_again_a_job_whose_run_was_lost(
    issued, sitting, clerk, media, django_capture_on_commit_callbacks
):
    # Asked for while the web process rendered in a thread, then restarted:
    # nothing in the queue holds it.
    lost = PrintJob.objects.create(
        meeting=sitting.meeting,
        kind="minutes",
        total=1,
        requested_by=clerk,
        state=PrintJob.State.RUNNING,
    )
    with django_capture_on_commit_callbacks(execute=True):
        held = services.print_job_start(
            meeting=sitting.meeting, by=clerk, kind="minutes"
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.print_jobs_requeue_lost() == 1
    assert sorted(j.args_kwargs["kwargs"]["job_id"] for j in waiting(RENDER)) == [
        lost.pk,
        held.pk,
    ]
    assert services.print_jobs_requeue_lost() == 0  # once
    PrintJob.objects.filter(pk=held.pk).update(state=PrintJob.State.DONE)
    run_jobs()
    lost.refresh_from_db()
    assert lost.state == PrintJob.State.DONE and lost.file
