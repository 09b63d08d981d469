import pytest
from django.core import mail
from django.urls import reverse

from council import demo as council_demo
from council.models import AuditEntry
from meetings import demo
from meetings.models import (
    AgendaItem,
    AttendanceEvent,
    Convocation,
    Document,
    ItemSubmission,
    Meeting,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

MODELS = [
    Meeting,
    AgendaItem,
    Document,
    Convocation,
    AttendanceEvent,
    ItemSubmission,
    AuditEntry,
]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_makes_a_past_and_an_upcoming_meeting_and_is_idempotent(media_root):
    cast = council_demo.seed()
    demo.seed(cast)
    first = _counts()
    files = sorted(p.name for p in media_root.rglob("*.pdf"))
    cast = council_demo.seed()
    demo.seed(cast)
    assert _counts() == first
    assert sorted(p.name for p in media_root.rglob("*.pdf")) == files
    assert mail.outbox == []

    past = Meeting.objects.get(title=demo.PAST_TITLE)
    assert past.state == Meeting.State.CLOSED
    arrived = past.attendance_events.filter(kind=AttendanceEvent.Kind.ARRIVED).count()
    excused = past.attendance_events.filter(kind=AttendanceEvent.Kind.EXCUSED).count()
    assert 38 <= arrived <= 45 and 3 <= excused <= 6

    upcoming = Meeting.objects.get(title=demo.NEXT_TITLE)
    assert upcoming.state == Meeting.State.CONVENED
    assert upcoming.mode == Meeting.Mode.HYBRID
    assert (
        upcoming.remote_reason and upcoming.remote_tool and upcoming.remote_instructions
    )
    assert 18 <= upcoming.items.count() <= 22
    assert list(upcoming.items.values_list("position", flat=True)) == list(
        range(1, upcoming.items.count() + 1)
    )
    appointment = upcoming.items.get(title="Désignation d'un directeur financier")
    assert appointment.session == "closed" and appointment.vote_kind == "secret"
    assert appointment.documents.count() == 2
    assert upcoming.convocations.filter(sent_at__isnull=False).count() == 49
    assert (
        ItemSubmission.objects.filter(meeting=upcoming, status="accepted").count() == 1
    )
    with upcoming.items.get(position=3).documents.first().file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_demo_public_agenda_hides_the_appointment(media_root):
    cast = council_demo.seed()
    demo.seed(cast)
    upcoming = Meeting.objects.get(title=demo.NEXT_TITLE)
    html = (
        client_for(None)
        .get(reverse("meetings:public_agenda", args=[cast.body.slug, upcoming.pk]))
        .content.decode()
    )
    assert "directeur financier" not in html
    assert "Budget communal 2026" in html
