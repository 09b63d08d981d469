import datetime
import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from council.models import AuditEntry
from minutes import services
from minutes.models import (
    RECORD_IMMUTABLE,
    RECORD_SIGNED_IMMUTABLE,
    DecisionRecord,
    fingerprint_of,
)

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n% scanned paper\n"


def test_one_record_per_decided_item_with_sequential_references(issued, sitting, body):
    assert [r.item_id for r in issued] == [sitting.budget.pk, sitting.appointment.pk]
    assert [r.reference for r in issued] == [
        f"2026/{body.slug}/0001",
        f"2026/{body.slug}/0002",
    ]
    assert issued[1].closed_session and not issued[0].closed_session


def test_issuing_again_registers_nothing_new(issued, sitting, clerk):
    assert services.decision_records_issue(meeting=sitting.meeting, by=clerk) == []
    assert DecisionRecord.objects.count() == 2


def test_fingerprint_is_the_sha256_of_the_stored_content(issued):
    record = issued[0]
    canonical = json.dumps(record.content, sort_keys=True, separators=(",", ":"))
    assert record.fingerprint == hashlib.sha256(canonical.encode()).hexdigest()
    assert record.content["reference"] == record.reference


def test_record_content_has_what_the_extract_needs(issued, sitting):
    content = issued[0].content
    assert sitting.recused.display_name not in content["present"]
    assert content["recused"] == [sitting.recused.display_name]
    assert content["vote"]["names_against"] == [sitting.against.display_name]
    assert content["decision"].startswith("Article 1er")
    assert content["signatories"]["chair"] == sitting.present[0].display_name


def test_content_can_never_change(issued):
    record = DecisionRecord.objects.get(pk=issued[0].pk)
    record.content["decision"] = "forged"
    with pytest.raises(ValidationError) as exc:
        record.save()
    assert str(RECORD_IMMUTABLE) in exc.value.messages
    record = DecisionRecord.objects.get(pk=issued[0].pk)
    record.fingerprint = fingerprint_of({"forged": True})
    record.content = {"forged": True}
    with pytest.raises(ValidationError):
        record.save()
    with pytest.raises(ValidationError):
        record.delete()


def test_only_the_clerk_registers(drafted, sitting, councillor, director_general):
    for person in (councillor, director_general):
        with pytest.raises(PermissionDenied):
            services.decision_records_issue(meeting=sitting.meeting, by=person)


def _sign(record, clerk, **extra):
    fields = {
        "signed_on": datetime.date(2026, 3, 5),
        "signatories": "La bourgmestre, le directeur général",
    }
    fields.update(extra)
    return services.decision_record_sign(record=record, by=clerk, **fields)


def test_signature_with_scan_makes_the_record_final(issued, clerk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    scan = SimpleUploadedFile("scan.pdf", PDF_BYTES, content_type="application/pdf")
    record = _sign(issued[0], clerk, scan=scan)
    assert record.is_signed and record.scan.name.endswith(".pdf")
    assert record.printed_at is not None
    stored = DecisionRecord.objects.get(pk=record.pk)
    stored.signatories = "quelqu'un d'autre"
    with pytest.raises(ValidationError) as exc:
        stored.save()
    assert str(RECORD_SIGNED_IMMUTABLE) in exc.value.messages
    with pytest.raises(ValidationError) as exc:
        _sign(issued[0], clerk)
    assert str(services.RECORD_SIGNED) in exc.value.messages
    assert AuditEntry.objects.filter(action="record.sign").count() == 1


@pytest.mark.parametrize(
    "name,data",
    [
        ("scan.pdf", b"<html><script>alert(1)</script></html>"),
        ("scan.png", b"MZ\x90\x00 an executable"),
        ("scan.pdf", b""),
    ],
)
def test_scan_must_really_be_a_pdf_or_image(issued, clerk, name, data):
    scan = SimpleUploadedFile(name, data)
    with pytest.raises(ValidationError) as exc:
        _sign(issued[0], clerk, scan=scan)
    assert str(services.SCAN_INVALID) in exc.value.messages
    assert not DecisionRecord.objects.get(pk=issued[0].pk).is_signed


def test_png_and_jpeg_scans_are_accepted(issued, clerk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    png = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    jpg = SimpleUploadedFile("b.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    assert _sign(issued[0], clerk, scan=png).scan.name.endswith(".png")
    assert _sign(issued[1], clerk, scan=jpg).scan.name.endswith(".jpg")


@pytest.mark.parametrize(
    "day",
    [datetime.date(2026, 3, 1), timezone.localdate() + datetime.timedelta(days=1)],
)
def test_signature_date_between_sitting_and_today(issued, clerk, day):
    with pytest.raises(ValidationError) as exc:
        _sign(issued[0], clerk, signed_on=day)
    assert str(services.SIGNATURE_DATE_INVALID) in exc.value.messages


def test_signatories_required_and_only_clerk_records(issued, clerk, director_general):
    with pytest.raises(ValidationError):
        _sign(issued[0], clerk, signatories="  ")
    with pytest.raises(PermissionDenied):
        _sign(issued[0], director_general)


def test_correction_is_a_new_linked_record(issued, clerk, body):
    old = _sign(issued[0], clerk)
    new = services.decision_record_correct(
        record=old,
        by=clerk,
        reason="Erreur matérielle à l'article 1er.",
        decision_text="Article 1er. Texte corrigé.",
    )
    assert new.supersedes == old
    assert new.reference == f"2026/{body.slug}/0003"
    assert new.content["supersedes"] == old.reference
    assert new.content["decision"] == "Article 1er. Texte corrigé."
    old.refresh_from_db()
    assert old.superseded_by == new
    assert old.content["decision"].startswith("Article 1er. Le conseil")
    assert list(DecisionRecord.objects.current()) == [issued[1], new]
    with pytest.raises(ValidationError) as exc:
        services.decision_record_correct(record=old, by=clerk, reason="encore")
    assert str(services.RECORD_SUPERSEDED) in exc.value.messages


def test_correction_needs_a_reason(issued, clerk):
    with pytest.raises(ValidationError):
        services.decision_record_correct(record=issued[0], by=clerk, reason=" ")


def test_superseded_record_cannot_be_signed(issued, clerk):
    services.decision_record_correct(record=issued[0], by=clerk, reason="erreur")
    with pytest.raises(ValidationError) as exc:
        _sign(issued[0], clerk)
    assert str(services.RECORD_SUPERSEDED) in exc.value.messages


def test_printing_is_recorded_once(issued, clerk):
    first = services.decision_record_mark_printed(record=issued[0], by=clerk)
    again = services.decision_record_mark_printed(record=issued[0], by=clerk)
    assert first.printed_at == again.printed_at
    assert AuditEntry.objects.filter(action="record.print").count() == 1
