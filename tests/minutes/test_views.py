"""The forms behind the views: what a click changes, and what bad input doesn't."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from council.models import AuditEntry
from minutes import services
from minutes.models import DecisionRecord, Minutes, Objection
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_clerk_saves_summaries_through_the_form(drafted, sitting, clerk):
    url = reverse("minutes:edit", args=[sitting.meeting.pk])
    data = {f"summary_{i['id']}": "" for i in drafted.content["items"]}
    data[f"summary_{sitting.budget.pk}"] = "Le débat fut **bref**."
    data["introduction"] = "La séance est ouverte."
    response = client_for(clerk).post(url, data)
    assert response.status_code == 302
    minutes = Minutes.objects.get(pk=drafted.pk)
    assert minutes.version == 2
    assert minutes.content["introduction"] == "La séance est ouverte."


def test_versions_page_shows_an_escaped_diff(drafted, sitting, clerk):
    services.minutes_edit(
        minutes=drafted,
        by=clerk,
        summaries={sitting.budget.pk: "<script>alert('x')</script>"},
    )
    url = reverse("minutes:versions", args=[sitting.meeting.pk])
    page = client_for(clerk).get(url, {"a": 1, "b": 2}).content.decode()
    assert "&lt;script&gt;alert" in page
    assert "<script>alert" not in page
    assert "Summaries edited" in page
    assert client_for(clerk).get(url, {"a": "x", "b": 2}).status_code == 200


def test_signature_form_with_scan(issued, clerk, media):
    record = issued[0]
    url = reverse("minutes:record_sign", args=[record.pk])
    scan = SimpleUploadedFile("signed.pdf", b"%PDF-1.7\n%...\n")
    response = client_for(clerk).post(
        url, {"signed_on": "2026-03-04", "signatories": "A, B", "scan": scan}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.is_signed and record.scan
    download = client_for(clerk).get(reverse("minutes:record_scan", args=[record.pk]))
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_signature_form_refuses_a_fake_scan_and_changes_nothing(issued, clerk, media):
    record = issued[0]
    url = reverse("minutes:record_sign", args=[record.pk])
    scan = SimpleUploadedFile("signed.pdf", b"<html>not a pdf</html>")
    response = client_for(clerk).post(
        url, {"signed_on": "2026-03-04", "signatories": "A, B", "scan": scan}
    )
    assert response.status_code == 200
    assert str(services.SCAN_INVALID) in response.content.decode()
    record.refresh_from_db()
    assert not record.is_signed and not record.scan


def test_correction_form(issued, clerk):
    url = reverse("minutes:record_correct", args=[issued[0].pk])
    response = client_for(clerk).post(
        url, {"reason": "Montant erroné", "decision_text": "Article 1er. Corrigé."}
    )
    assert response.status_code == 302
    new = DecisionRecord.objects.get(supersedes=issued[0])
    assert new.content["decision"] == "Article 1er. Corrigé."
    again = client_for(clerk).post(url, {"reason": "encore"})
    assert str(services.RECORD_SUPERSEDED) in again.content.decode()
    assert DecisionRecord.objects.count() == 3


def test_objection_and_adoption_through_the_pages(
    drafted, sitting, director_general, councillor, chair, next_meeting
):
    meeting = sitting.meeting.pk
    client_for(director_general).post(reverse("minutes:approve", args=[meeting]))
    client_for(councillor).post(
        reverse("minutes:object", args=[meeting]), {"text": "Point 1 incomplet."}
    )
    assert Objection.objects.get().text == "Point 1 incomplet."
    response = client_for(chair).post(
        reverse("minutes:adopt", args=[meeting]),
        {"method": "no_objection"},
        follow=True,
    )
    assert str(services.OBJECTIONS_PENDING) in response.content.decode()
    assert Minutes.objects.get(pk=drafted.pk).state == Minutes.State.AWAITING_ADOPTION
    page = client_for(councillor).get(reverse("minutes:minutes", args=[meeting]))
    assert "Point 1 incomplet." in page.content.decode()


def test_opening_an_extract_marks_nothing(issued, clerk, director_general):
    url = reverse("minutes:record_pdf", args=[issued[0].pk])
    before = AuditEntry.objects.count()
    for reader in (director_general, clerk):
        response = client_for(reader).get(url)
        assert response["Content-Type"] == "application/pdf"
    assert DecisionRecord.objects.get(pk=issued[0].pk).printed_at is None
    assert AuditEntry.objects.count() == before


def test_the_clerk_marks_a_record_printed_by_post_only(issued, clerk, director_general):
    url = reverse("minutes:record_printed", args=[issued[0].pk])
    assert client_for(clerk).get(url).status_code == 405
    assert client_for(director_general).post(url).status_code == 403
    assert DecisionRecord.objects.get(pk=issued[0].pk).printed_at is None
    assert not AuditEntry.objects.filter(action="record.print").exists()
    response = client_for(clerk).post(url, follow=True)
    assert f"Record {issued[0].reference} is marked printed." in (
        response.content.decode()
    )
    record = DecisionRecord.objects.get(pk=issued[0].pk)
    assert record.printed_at is not None
    entry = AuditEntry.objects.get(action="record.print")
    assert (entry.actor, entry.object_id) == (clerk, str(record.pk))
    assert entry.details == {"reference": record.reference}
    # Once: a second press changes nothing.
    client_for(clerk).post(url)
    assert DecisionRecord.objects.get(pk=record.pk).printed_at == record.printed_at
    assert AuditEntry.objects.filter(action="record.print").count() == 1
    assert DecisionRecord.objects.get(pk=issued[1].pk).printed_at is None


def test_decisions_page_offers_to_mark_unprinted_records(issued, clerk):
    services.decision_record_mark_printed(record=issued[0], by=clerk)
    page = client_for(clerk).get(
        reverse("minutes:decisions", args=[issued[0].meeting_id])
    )
    html = page.content.decode()
    assert reverse("minutes:record_printed", args=[issued[1].pk]) in html
    assert reverse("minutes:record_printed", args=[issued[0].pk]) not in html
