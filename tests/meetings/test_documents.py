import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from council.models import AuditEntry
from meetings.models import Document, Meeting
from meetings.services import documents as svc
from tests.conftest import client_for
from tests.meetings.conftest import docx_bytes, odt_bytes, pdf_bytes, set_state

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def _stored_files(media_root):
    return (
        [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []
    )


@pytest.mark.parametrize(
    ("name", "data", "stored_name", "content_type"),
    [
        ("Rapport.pdf", pdf_bytes(), "Rapport.pdf", "application/pdf"),
        ("Cahier des charges.DOCX", docx_bytes(), "Cahier des charges.docx", None),
        (
            "note.odt",
            odt_bytes(),
            "note.odt",
            "application/vnd.oasis.opendocument.text",
        ),
        ("..\\..\\Windows\\annexe.pdf", pdf_bytes(), "annexe.pdf", None),
        ("../../tmp/annexe.pdf", pdf_bytes(), "annexe.pdf", None),
        ("evil\x00.pdf", pdf_bytes(), "evil.pdf", None),
        ("a\x1b[31mb\r\n.pdf", pdf_bytes(), "a_31mb.pdf", None),
        ("budget;rm -rf *.pdf", pdf_bytes(), "budget_rm -rf.pdf", None),
        ("x.exe.pdf", pdf_bytes(), "x.exe.pdf", None),  # a real PDF is a PDF
    ],
)
def test_accepted_uploads_get_a_clean_name_and_our_own_path(
    agenda, clerk, media_root, name, data, stored_name, content_type
):
    item = agenda[0]
    document = svc.document_upload(item=item, by=clerk, name=name, data=data)
    assert document.original_name == stored_name
    if content_type:
        assert document.content_type == content_type
    assert document.size == len(data)
    path = document.file.path
    assert path.startswith(str(media_root))
    assert stored_name.rsplit(".", 1)[0] not in path  # a random name on disk
    with document.file.open("rb") as handle:
        assert handle.read() == data
    assert AuditEntry.objects.filter(action="document.upload").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("virus.exe", EXE, svc.FILE_TYPE_REFUSED),
        ("x.pdf.exe", pdf_bytes(), svc.FILE_TYPE_REFUSED),
        ("rapport.pdf", EXE, svc.FILE_CONTENT_MISMATCH),
        (
            "rapport.pdf",
            b"<html><script>alert(1)</script></html>",
            svc.FILE_CONTENT_MISMATCH,
        ),
        ("rapport.docx", pdf_bytes(), svc.FILE_CONTENT_MISMATCH),
        ("rapport.docx", b"PK\x03\x04not really a zip", svc.FILE_CONTENT_MISMATCH),
        ("rapport.odt", docx_bytes(), svc.FILE_CONTENT_MISMATCH),
        ("page.html", b"<html></html>", svc.FILE_TYPE_REFUSED),
        ("../../etc/passwd", b"root:x:0:0", svc.FILE_NAME_INVALID),
        (".pdf", pdf_bytes(), svc.FILE_NAME_INVALID),
        ("\x00\x01\x02", pdf_bytes(), svc.FILE_NAME_INVALID),
        ("", pdf_bytes(), svc.FILE_NAME_INVALID),
        ("vide.pdf", b"", svc.FILE_EMPTY),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(
    agenda, clerk, media_root, name, data, message
):
    with pytest.raises(ValidationError) as refused:
        svc.document_upload(item=agenda[0], by=clerk, name=name, data=data)
    assert refused.value.messages == [str(message)]
    assert not Document.objects.exists()
    assert _stored_files(media_root) == []
    assert not AuditEntry.objects.filter(action="document.upload").exists()


def test_oversized_upload_is_refused(agenda, clerk, media_root, monkeypatch):
    monkeypatch.setattr(svc, "MAX_UPLOAD_BYTES", 1024 * 1024)
    data = pdf_bytes() + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError) as refused:
        svc.document_upload(item=agenda[0], by=clerk, name="gros.pdf", data=data)
    assert refused.value.messages == [str(svc.FILE_TOO_LARGE) % {"limit": 1}]
    assert _stored_files(media_root) == []


def test_oversized_upload_through_the_page(agenda, clerk, media_root, monkeypatch):
    monkeypatch.setattr(svc, "MAX_UPLOAD_BYTES", 1024)
    upload = SimpleUploadedFile("gros.pdf", pdf_bytes() + b"0" * 2048)
    response = client_for(clerk).post(
        reverse("meetings:document_upload", args=[agenda[0].pk]),
        {"file": upload},
        follow=True,
    )
    assert response.status_code == 200
    assert not Document.objects.exists()
    assert "too large" in response.content.decode()


def test_upload_through_the_page(agenda, clerk):
    response = client_for(clerk).post(
        reverse("meetings:document_upload", args=[agenda[0].pk]),
        {
            "file": SimpleUploadedFile("../../Annexe 1.pdf", pdf_bytes()),
            "title": "Annexe",
        },
    )
    assert response.status_code == 302
    assert Document.objects.get().original_name == "Annexe 1.pdf"


def test_document_delete_removes_the_file(
    agenda, clerk, media_root, django_capture_on_commit_callbacks
):
    document = svc.document_upload(
        item=agenda[0], by=clerk, name="a.pdf", data=pdf_bytes()
    )
    with django_capture_on_commit_callbacks(execute=True):
        svc.document_delete(document=document, by=clerk)
    assert not Document.objects.exists()
    assert _stored_files(media_root) == []


# ---- who may read what ---------------------------------------------------------

ROLES = [
    "anonymous",
    "outsider",
    "administrator",
    "superuser",
    "councillor",
    "chair",
    "director_general",
    "deputy_director_general",
    "clerk",
]
READS_CLOSED = {
    "councillor",
    "chair",
    "director_general",
    "deputy_director_general",
    "clerk",
}
READS_DRAFT = {"director_general", "deputy_director_general", "clerk"}


@pytest.fixture
def people(cast, superuser):
    return {**cast, "superuser": superuser, "anonymous": None}


@pytest.fixture
def docs(agenda, clerk):
    public, closed = agenda
    return {
        "public": svc.document_upload(
            item=public, by=clerk, name="p.pdf", data=pdf_bytes("public")
        ),
        "closed": svc.document_upload(
            item=closed, by=clerk, name="c.pdf", data=pdf_bytes("closed")
        ),
    }


def _expected(role, session, state):
    if state == Meeting.State.DRAFT:
        allowed = role in READS_DRAFT
    elif session == "closed":
        allowed = role in READS_CLOSED
    else:
        allowed = True
    if allowed:
        return 200
    return 302 if role == "anonymous" else 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("session", ["public", "closed"])
@pytest.mark.parametrize(
    "state", [Meeting.State.DRAFT, Meeting.State.CONVENED, Meeting.State.CLOSED]
)
def test_document_access_by_role(people, docs, meeting, role, session, state):
    set_state(meeting, state)
    document = docs[session]
    response = client_for(people[role]).get(document.get_absolute_url())
    expected = _expected(role, session, state)
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert "no-store" in response["Cache-Control"]
    elif expected == 302:
        assert "/accounts/login/" in response["Location"]


def test_every_closed_download_is_audited_public_ones_not(people, docs, meeting):
    set_state(meeting, Meeting.State.CONVENED)
    client = client_for(people["councillor"])
    client.get(docs["public"].get_absolute_url())
    assert not AuditEntry.objects.filter(action="document.download_closed").exists()
    client.get(docs["closed"].get_absolute_url())
    client.get(docs["closed"].get_absolute_url())
    entries = AuditEntry.objects.filter(action="document.download_closed")
    assert entries.count() == 2
    assert {e.actor_id for e in entries} == {people["councillor"].pk}
    assert entries.first().object_id == str(docs["closed"].pk)
    # A refused reader leaves no trace of a download.
    client_for(people["outsider"]).get(docs["closed"].get_absolute_url())
    assert entries.count() == 2
