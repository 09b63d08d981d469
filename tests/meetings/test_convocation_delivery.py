"""Convocations in the background: progress, retries with backoff, giving
up, the clerk's "send again", and the page that shows it all."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from council.models import AuditEntry
from meetings.models import Convocation, Meeting
from meetings.services import convocations
from meetings.services import meetings as svc
from tests.conftest import client_for
from tests.factories import make_member
from tests.jobs import run_jobs, waiting
from tests.meetings.conftest import set_state

pytestmark = pytest.mark.django_db

SEND = "meetings.tasks_convocations.convocations_send"


@pytest.fixture
def capture_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def refused(monkeypatch, members):
    """The mail server refuses the first member's address, as SMTP does."""
    bad = members[0].email
    real = EmailBackend.send_messages

    def send_messages(self, messages):
        for message in messages:
            if bad in message.to:
                raise smtplib.SMTPRecipientsRefused({bad: (550, b"No such user")})
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return members[0]


def _convene(meeting, clerk, capture):
    with capture(execute=True):
        svc.meeting_convene(meeting=meeting, by=clerk)


def _make_due(meeting):
    """Let the waiting retry come due, as time passing would."""
    past = timezone.now() - datetime.timedelta(seconds=1)
    Convocation.objects.filter(meeting=meeting, next_attempt_at__isnull=False).update(
        next_attempt_at=past
    )
    DBTaskResult.objects.filter(task_path=SEND).update(run_after=past)


def test_a_refused_address_is_retried_later_with_a_doubling_wait_then_fails(
    meeting, agenda, members, clerk, refused, settings, capture_on_commit
):
    settings.CONVOCATION_ATTEMPTS = 3
    settings.CONVOCATION_RETRY_SECONDS = 60
    _convene(meeting, clerk, capture_on_commit)
    assert mail.outbox == []
    before = timezone.now()
    run_jobs()
    assert len(mail.outbox) == len(members) - 1
    row = Convocation.objects.get(meeting=meeting, person=refused)
    assert row.status == Convocation.Status.PENDING and row.attempts == 1
    assert "No such user" in row.error
    wait = row.next_attempt_at - before
    assert datetime.timedelta(seconds=59) < wait < datetime.timedelta(seconds=75)
    (retry,) = waiting(SEND)  # one run of the job waits for that time
    assert retry.run_after == row.next_attempt_at
    run_jobs()  # not due yet: nothing is tried
    row.refresh_from_db()
    assert row.attempts == 1

    _make_due(meeting)
    before = timezone.now()
    run_jobs()
    row.refresh_from_db()
    assert row.status == Convocation.Status.PENDING and row.attempts == 2
    wait = row.next_attempt_at - before
    assert datetime.timedelta(seconds=119) < wait < datetime.timedelta(seconds=135)

    _make_due(meeting)
    run_jobs()
    row.refresh_from_db()
    assert row.status == Convocation.Status.FAILED and row.attempts == 3
    assert row.next_attempt_at is None
    assert waiting(SEND) == []  # given up: the clerk decides
    assert len(mail.outbox) == len(members) - 1  # the others once each
    sent = Convocation.objects.filter(meeting=meeting, status="sent")
    assert sent.count() == len(members) - 1 and all(r.attempts == 1 for r in sent)


def test_the_clerk_sends_the_failed_ones_again_and_only_those(
    meeting, agenda, members, clerk, refused, settings, monkeypatch, capture_on_commit
):
    settings.CONVOCATION_ATTEMPTS = 1
    _convene(meeting, clerk, capture_on_commit)
    run_jobs()
    row = Convocation.objects.get(meeting=meeting, person=refused)
    assert row.status == Convocation.Status.FAILED
    monkeypatch.undo()  # the address was corrected at the mail server
    mail.outbox.clear()
    with capture_on_commit(execute=True):
        assert convocations.convocations_retry(meeting=meeting, by=clerk) == 1
    assert mail.outbox == []
    run_jobs()
    assert [message.to for message in mail.outbox] == [[refused.email]]
    row.refresh_from_db()
    assert row.status == Convocation.Status.SENT
    entry = AuditEntry.objects.get(action="meeting.convocations_resend")
    assert entry.actor == clerk and entry.details == {"again": 1}


def test_sending_again_is_refused_before_convening_and_changes_nothing(
    meeting, agenda, members, clerk
):
    with pytest.raises(ValidationError) as refusal:
        convocations.convocations_retry(meeting=meeting, by=clerk)
    assert refusal.value.messages == [str(convocations.NOT_CONVENED)]
    assert waiting(SEND) == []
    assert not AuditEntry.objects.filter(action="meeting.convocations_resend")


def test_a_delivery_marked_sent_is_never_sent_again(
    meeting, agenda, members, clerk, capture_on_commit
):
    _convene(meeting, clerk, capture_on_commit)
    run_jobs()
    assert len(mail.outbox) == len(members)
    # The job run again (a re-queued copy, the clerk's button): nobody twice.
    for _ in range(2):
        convocations.convocations_deliver(meeting_id=meeting.pk)
        with capture_on_commit(execute=True):
            convocations.convocations_retry(meeting=meeting, by=clerk)
        run_jobs()
    assert len(mail.outbox) == len(members)


def test_each_message_keeps_one_identifier_across_attempts(
    meeting, agenda, members, clerk, capture_on_commit
):
    _convene(meeting, clerk, capture_on_commit)
    run_jobs()
    ids = {message.extra_headers["Message-ID"] for message in mail.outbox}
    assert len(ids) == len(members)
    row = Convocation.objects.filter(meeting=meeting).first()
    again = convocations.convocation_message(row, [])
    assert again.extra_headers["Message-ID"] in ids


def test_a_cancelled_meeting_sends_nothing_more(
    meeting, agenda, members, clerk, capture_on_commit
):
    _convene(meeting, clerk, capture_on_commit)
    set_state(meeting, Meeting.State.DRAFT)
    run_jobs()
    assert mail.outbox == []


def test_the_editor_shows_the_progress_and_offers_to_send_again(
    meeting, agenda, members, clerk, refused, settings, capture_on_commit
):
    settings.CONVOCATION_ATTEMPTS = 2
    _convene(meeting, clerk, capture_on_commit)
    client = client_for(clerk)
    url = reverse("meetings:meeting_edit", args=[meeting.pk])
    page = client.get(url).content.decode()
    assert f"0 of {len(members)} convocations sent" in page
    assert f"{len(members)} waiting to be sent" in page
    assert "Send the failed convocations again now" not in page

    run_jobs()
    page = client.get(url).content.decode()
    assert f"{len(members) - 1} of {len(members)} convocations sent" in page
    assert "next attempt at" in page and "No such user" in page
    assert "Send the failed convocations again now" in page  # bring it forward

    _make_due(meeting)
    run_jobs()
    page = client.get(url).content.decode()
    assert "1 not sent" in page
    assert page.count('data-status="failed"') == 1
    assert page.count('data-status="sent"') == len(members) - 1
    assert 'role="status"' in page


def test_the_editor_reads_the_convocations_in_a_fixed_number_of_queries(
    meeting, agenda, members, clerk, capture_on_commit, django_assert_max_num_queries
):
    _convene(meeting, clerk, capture_on_commit)
    run_jobs()
    client = client_for(clerk)
    url = reverse("meetings:meeting_edit", args=[meeting.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        make_member(meeting.body)
    convocations.convocations_prepare(meeting=meeting, now=timezone.now())
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_progress_part_follows_the_worker(
    meeting, agenda, members, clerk, councillor, capture_on_commit
):
    _convene(meeting, clerk, capture_on_commit)
    url = reverse("meetings:convocations_progress", args=[meeting.pk])
    client = client_for(clerk)
    part = client.get(url).content.decode()
    assert 'data-pending="1"' in part
    assert f"0 of {len(members)} convocations sent" in part
    run_jobs()
    part = client.get(url).content.decode()
    assert 'data-pending="0"' in part  # the page's script stops asking
    assert f"{len(members)} of {len(members)} convocations sent" in part
    assert part.count('data-status="sent"') == len(members)
    assert client_for(councillor).get(url).status_code == 403
