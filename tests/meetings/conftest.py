"""Meetings fixtures: a meeting and its agenda, real small files, shortcuts."""

import datetime
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from reportlab.pdfgen import canvas

from meetings.models import Meeting
from meetings.services.meetings import meeting_convene
from tests.factories import make_item, make_meeting

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(year, month, day, hour=19, minute=30, zone=BRUSSELS) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone)


def pdf_bytes(text: str = "Note de synthèse") -> bytes:
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
    with django_capture_on_commit_callbacks(execute=True):
        meeting_convene(meeting=meeting, by=clerk)
    return meeting
