"""Meetings fixtures: a meeting factory, real small files, service shortcuts."""

import datetime
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from meetings.models import AgendaItem, Meeting

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(year, month, day, hour=19, minute=30, zone=BRUSSELS) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone)


def make_meeting(body, **fields) -> Meeting:
    number = (Meeting.objects.filter(body=body).count() or 0) + 1
    defaults = {
        "number": number,
        "title": f"Séance {number}",
        "starts_at": (timezone.now() + datetime.timedelta(days=20)).replace(
            second=0, microsecond=0
        ),
        "mode": Meeting.Mode.IN_PERSON,
        "place": "Hôtel de ville",
    }
    defaults.update(fields)
    return Meeting.objects.create(body=body, **defaults)


def make_item(meeting, **fields) -> AgendaItem:
    position = (meeting.items.count() or 0) + 1
    defaults = {"position": position, "title": f"Point {position}"}
    defaults.update(fields)
    return AgendaItem.objects.create(meeting=meeting, **defaults)


def pdf_bytes(text: str = "Note de synthèse") -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The cast's accounts are made with a password; hashing it properly for
    # every test would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_pages(settings):
    # Pages are read in English here; the emails follow the body's language.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def members(chair, councillor, other_councillors):
    return [chair, councillor, *other_councillors]


@pytest.fixture
def meeting(body):
    return make_meeting(body)


@pytest.fixture
def agenda(meeting):
    public = make_item(meeting, title="Modification budgétaire n° 1")
    closed = make_item(
        meeting, title="Désignation d'un directeur financier", kind="appointment"
    )
    return public, closed


def set_state(meeting, state) -> Meeting:
    Meeting.objects.filter(pk=meeting.pk).update(state=state)
    meeting.refresh_from_db()
    return meeting


@pytest.fixture
def convened(meeting, agenda, members, clerk, django_capture_on_commit_callbacks):
    from meetings.services.meetings import meeting_convene

    with django_capture_on_commit_callbacks(execute=True):
        meeting_convene(meeting=meeting, by=clerk)
    return meeting
