import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from council.models import AuditEntry
from meetings.models import AgendaItem, ItemSubmission, Meeting
from meetings.services import submissions as svc
from tests.factories import make_item, make_meeting
from tests.meetings.conftest import local, set_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def sitting(body, members):
    # Friday 30 October 2026, after the autumn clock change of Sunday 25 October.
    meeting = make_meeting(body, starts_at=local(2026, 10, 30, 19, 30))
    make_item(meeting)
    return set_state(meeting, Meeting.State.CONVENED)


def _submit(meeting, who, now, **extra):
    return svc.submission_create(
        meeting=meeting,
        by=who,
        title="Motion relative à l'éclairage public",
        explanatory_note="Les riverains de la rue Haute demandent un éclairage LED.",
        now=now,
        **extra,
    )


def test_last_day_is_five_clear_days_before(sitting):
    assert svc.submission_last_day(sitting) == datetime.date(2026, 10, 24)


def test_submission_on_the_last_day_is_accepted(sitting, councillor):
    submission = _submit(sitting, councillor, local(2026, 10, 24, 23, 59))
    assert submission.status == ItemSubmission.Status.PENDING
    assert AuditEntry.objects.filter(action="item_submission.create").count() == 1


def test_submission_after_the_last_day_is_refused(sitting, councillor):
    with pytest.raises(ValidationError) as refused:
        _submit(sitting, councillor, local(2026, 10, 25, 0, 0))
    assert refused.value.messages == [
        str(svc.SUBMISSION_TOO_LATE) % {"days": 5, "last_day": "2026-10-24"}
    ]
    assert not ItemSubmission.objects.exists()


def test_submission_needs_a_convened_meeting(sitting, councillor):
    set_state(sitting, Meeting.State.DRAFT)
    with pytest.raises(ValidationError) as refused:
        _submit(sitting, councillor, local(2026, 10, 1))
    assert refused.value.messages == [str(svc.SUBMISSION_NOT_OPEN)]


def test_only_members_submit(sitting, clerk, director_general, outsider):
    for intruder in (clerk, director_general, outsider):
        with pytest.raises(PermissionDenied):
            _submit(sitting, intruder, local(2026, 10, 1))
    assert not ItemSubmission.objects.exists()


def test_title_and_note_are_required(sitting, councillor):
    with pytest.raises(ValidationError):
        svc.submission_create(
            meeting=sitting,
            by=councillor,
            title=" ",
            explanatory_note="x",
            now=local(2026, 10, 1),
        )
    with pytest.raises(ValidationError):
        svc.submission_create(
            meeting=sitting,
            by=councillor,
            title="x",
            explanatory_note="",
            now=local(2026, 10, 1),
        )
    assert not ItemSubmission.objects.exists()


def test_clerk_accepts_it_onto_the_agenda(sitting, councillor, clerk):
    submission = _submit(sitting, councillor, local(2026, 10, 1))
    svc.submission_accept(submission=submission, by=clerk)
    submission.refresh_from_db()
    assert submission.status == ItemSubmission.Status.ACCEPTED
    item = submission.item
    assert item.position == 2 and item.rapporteur == councillor
    assert item.session == AgendaItem.Session.PUBLIC
    with pytest.raises(ValidationError) as refused:
        svc.submission_decline(submission=submission, by=clerk, reason="non")
    assert refused.value.messages == [str(svc.ALREADY_DECIDED)]


def test_clerk_declines_with_a_reason(sitting, councillor, clerk):
    submission = _submit(sitting, councillor, local(2026, 10, 1))
    with pytest.raises(ValidationError):
        svc.submission_decline(submission=submission, by=clerk, reason="  ")
    submission.refresh_from_db()
    assert submission.status == ItemSubmission.Status.PENDING
    svc.submission_decline(
        submission=submission,
        by=clerk,
        reason="Ne relève pas de la compétence communale.",
    )
    submission.refresh_from_db()
    assert submission.status == ItemSubmission.Status.DECLINED
    assert submission.decline_reason.startswith("Ne relève")
    assert sitting.items.count() == 1
    entry = AuditEntry.objects.get(action="item_submission.decline")
    assert entry.details["reason"].startswith("Ne relève")


def test_members_cannot_decide(sitting, councillor, chair):
    submission = _submit(sitting, councillor, local(2026, 10, 1))
    with pytest.raises(PermissionDenied):
        svc.submission_accept(submission=submission, by=chair)
    with pytest.raises(PermissionDenied):
        svc.submission_decline(submission=submission, by=councillor, reason="x")
