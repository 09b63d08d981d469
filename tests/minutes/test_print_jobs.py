import io
import time

import pypdf
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from council.models import AuditEntry
from minutes import services
from minutes.models import DecisionRecord, PrintJob
from tests.conftest import client_for


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_job_renders_all_decisions_with_progress(
    issued, sitting, clerk, media, monkeypatch
):
    started = []
    monkeypatch.setattr(services, "start_in_background", started.append)
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
def test_status_endpoint_and_download(issued, sitting, clerk, media, monkeypatch):
    monkeypatch.setattr(services, "start_in_background", lambda job_id: None)
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
    monkeypatch.setattr(services, "start_in_background", lambda job_id: None)
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
    monkeypatch.setattr(services, "start_in_background", lambda job_id: None)
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


@pytest.mark.django_db(transaction=True)
def test_background_thread_renders_while_the_request_returns(
    issued, sitting, clerk, media
):
    client = client_for(clerk)
    response = client.post(
        reverse("minutes:print_start", args=[sitting.meeting.pk, "minutes"])
    )
    assert response.status_code == 302
    job = PrintJob.objects.get()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in {PrintJob.State.DONE, PrintJob.State.FAILED}:
            break
        time.sleep(0.1)
    assert job.state == PrintJob.State.DONE, job.error
    assert job.file.read().startswith(b"%PDF")
