import datetime

import pytest
from django.conf import settings
from django.core import mail
from icalendar import Calendar

from council.models import AuditEntry, Mandate
from meetings.models import Convocation, Meeting
from meetings.services import convocations
from meetings.services import documents as document_services
from meetings.services import meetings as svc
from meetings.services.convocations import convocations_deliver
from tests.factories import make_item, make_member
from tests.jobs import run_jobs
from tests.meetings.conftest import pdf_bytes

pytestmark = pytest.mark.django_db


def _convene(meeting, clerk, capture):
    with capture(execute=True):
        svc.meeting_convene(meeting=meeting, by=clerk)
    assert mail.outbox == []  # convening queues the emails; the worker sends them
    run_jobs()


def test_each_member_gets_one_email_and_one_record(
    meeting,
    agenda,
    members,
    clerk,
    director_general,
    django_capture_on_commit_callbacks,
):
    former = make_member(meeting.body)
    Mandate.objects.filter(person=former).update(
        start=datetime.date(2020, 1, 1), end=datetime.date(2024, 1, 1)
    )
    _convene(meeting, clerk, django_capture_on_commit_callbacks)
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted(member.email for member in members)
    assert former.email not in recipients
    assert (
        director_general.email not in recipients
    )  # staff attend, members are convened
    rows = Convocation.objects.filter(meeting=meeting)
    assert rows.count() == len(members)
    assert all(row.sent_at is not None for row in rows)
    assert {row.person_id for row in rows} == {member.pk for member in members}


def test_email_lists_the_agenda_and_absolute_document_links(
    meeting, agenda, members, clerk, django_capture_on_commit_callbacks
):
    public, closed = agenda
    doc = document_services.document_upload(
        item=public, by=clerk, name="Annexe budget.pdf", data=pdf_bytes()
    )
    _convene(meeting, clerk, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    assert meeting.body.name in message.subject
    assert public.title in message.body
    assert closed.title in message.body  # members may read closed items
    assert f"{settings.SITE_URL}{doc.get_absolute_url()}" in message.body
    assert f"{settings.SITE_URL}/meetings/{meeting.pk}/" in message.body


def test_ics_attachment_describes_the_meeting(
    meeting, agenda, members, clerk, django_capture_on_commit_callbacks
):
    _convene(meeting, clerk, django_capture_on_commit_callbacks)
    (name, content, mimetype) = mail.outbox[0].attachments[0]
    assert name == "convocation.ics"
    assert mimetype.startswith("text/calendar")
    calendar = Calendar.from_ical(content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == meeting.starts_at
    assert event.decoded("dtend") == meeting.starts_at + datetime.timedelta(hours=3)
    assert str(event["summary"]) == f"{meeting.body.name} — {meeting.title}"
    assert str(event["location"]) == meeting.place
    assert str(event["uid"]).startswith(f"meeting-{meeting.pk}@")
    assert str(event["url"]).endswith(f"/meetings/{meeting.pk}/")


def test_hybrid_convocation_states_why_tool_and_how(
    meeting, members, clerk, django_capture_on_commit_callbacks
):
    Meeting.objects.filter(pk=meeting.pk).update(
        mode=Meeting.Mode.HYBRID,
        remote_reason="Travaux dans la salle du conseil",
        remote_tool="Jitsi Meet",
        remote_instructions="Ouvrez la page de la séance et cliquez sur Rejoindre.",
    )
    meeting.refresh_from_db()
    make_item(meeting)
    _convene(meeting, clerk, django_capture_on_commit_callbacks)
    body = mail.outbox[0].body
    for text in (meeting.remote_reason, meeting.remote_tool, "cliquez sur Rejoindre"):
        assert text in body
    event = Calendar.from_ical(mail.outbox[0].attachments[0][1]).walk("VEVENT")[0]
    assert "Jitsi Meet" in str(event["location"])


def test_a_failed_address_does_not_stop_the_others(
    meeting, agenda, members, clerk, monkeypatch, django_capture_on_commit_callbacks
):
    real = convocations.convocation_message

    def failing(convocation, items):
        if convocation.person_id == members[0].pk:
            raise OSError("mailbox unavailable")
        return real(convocation, items)

    monkeypatch.setattr(convocations, "convocation_message", failing)
    _convene(meeting, clerk, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == len(members) - 1
    failed = Convocation.objects.get(meeting=meeting, person=members[0])
    assert failed.sent_at is None and "unavailable" in failed.error
    assert failed.status == Convocation.Status.PENDING and failed.attempts == 1
    monkeypatch.setattr(convocations, "convocation_message", real)
    later = failed.next_attempt_at + datetime.timedelta(seconds=1)
    assert convocations_deliver(meeting_id=meeting.pk, now=later)["sent"] == 1
    failed.refresh_from_db()
    assert failed.sent_at is not None and failed.error == ""
    assert failed.status == Convocation.Status.SENT and failed.attempts == 2
    assert convocations_deliver(meeting_id=meeting.pk, now=later)["sent"] == 0
    assert len(mail.outbox) == len(members)  # nobody twice
    assert AuditEntry.objects.filter(action="meeting.convocations_sent").count() == 2


def test_nothing_is_sent_when_the_convocation_is_refused(
    meeting, members, clerk, django_capture_on_commit_callbacks
):
    # An empty agenda: refused.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):
        svc.meeting_convene(meeting=meeting, by=clerk)
    assert mail.outbox == []
    assert not Convocation.objects.exists()


@pytest.mark.parametrize(
    ("language", "subject_start", "agenda_word"),
    [
        ("fr", "Convocation :", "Ordre du jour"),
        ("nl", "Oproeping:", "Agenda"),
        ("de", "Einberufung:", "Tagesordnung"),
        ("en", "Convocation:", "Agenda"),
    ],
)
def test_email_is_in_the_body_language(
    meeting,
    agenda,
    members,
    clerk,
    language,
    subject_start,
    agenda_word,
    django_capture_on_commit_callbacks,
):
    body = meeting.body
    body.language = language
    body.save()
    _convene(meeting, clerk, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    assert message.subject.startswith(subject_start)
    assert f"\n{agenda_word}\n" in message.body
    assert Convocation.objects.filter(meeting=meeting, language=language).count() == (
        len(members)
    )
