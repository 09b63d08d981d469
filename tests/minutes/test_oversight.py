import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from council import audit
from council.audit import audit_record
from council.models import AuditEntry
from meetings.models import AgendaItem, Meeting
from minutes import selectors, services
from minutes.models import DecisionRecord, Minutes
from minutes.services import _register
from tests.conftest import client_for
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db

# Session, user, body, role; the decisions, minutes, sealed polls, compliance
# and ten-meetings sections; the last verification (one query); the polls
# stopped for an altered key; the audit log's page and its count.
OVERSIGHT_QUERIES = 16


def _page(user, body, **params):
    return client_for(user).get(reverse("minutes:oversight", args=[body.slug]), params)


def test_records_states_from_draft_to_superseded(issued, clerk, director_general, body):
    states = {
        record.reference: state for record, state in selectors.records_with_state(body)
    }
    assert set(states.values()) == {"draft"}
    services.decision_record_mark_printed(record=issued[0], by=clerk)
    services.decision_record_sign(
        record=issued[1],
        by=clerk,
        signed_on=datetime.date(2026, 3, 3),
        signatories="X, Y",
    )
    new = services.decision_record_correct(record=issued[1], by=clerk, reason="r")
    states = {
        record.reference: state for record, state in selectors.records_with_state(body)
    }
    assert states[issued[0].reference] == "printed"
    assert states[issued[1].reference] == "superseded"
    assert states[new.reference] == "draft"


def test_approved_state_follows_adopted_minutes(
    issued, director_general, clerk, next_meeting, body
):
    minutes = Minutes.objects.get(meeting=issued[0].meeting)
    services.minutes_approve(minutes=minutes, by=director_general)
    services.minutes_adopt(minutes=minutes, by=clerk, method="no_objection")
    states = {state for _record, state in selectors.records_with_state(body)}
    assert states == {"approved"}


def _verify(user, body):
    return client_for(user).post(
        reverse("minutes:oversight_verify", args=[body.slug]), follow=True
    )


def test_page_shows_records_pending_minutes_and_chain(
    issued, director_general, body, next_meeting
):
    _verify(director_general, body)
    page = _page(director_general, body).content.decode()
    for record in issued:
        assert record.reference in page
    assert "Minutes awaiting approval" in page
    assert issued[0].meeting.title in page
    assert 'id="chain-ok"' in page


def test_broken_chain_is_reported(issued, director_general, body):
    entry = AuditEntry.objects.order_by("sequence").first()
    AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    answer = _verify(director_general, body).content.decode()
    assert "The audit chain is broken: 1 problem found." in answer
    page = _page(director_general, body).content.decode()
    assert "The audit chain is broken" in page
    assert f"#{entry.sequence}" in page
    assert 'id="chain-ok"' not in page


def test_loading_the_page_does_not_walk_the_chain(
    issued, director_general, body, monkeypatch
):
    def walk():
        raise AssertionError("the page walked the audit chain")

    monkeypatch.setattr(audit, "audit_verify", walk)
    before = AuditEntry.objects.count()
    page = _page(director_general, body).content.decode()
    assert "The audit chain has not been verified yet." in page
    assert 'id="chain-ok"' not in page
    assert AuditEntry.objects.count() == before


def test_verifying_records_when_by_whom_and_what_was_found(
    issued, director_general, body
):
    checked = AuditEntry.objects.count()
    answer = _verify(director_general, body).content.decode()
    assert f"The audit chain is intact: {checked} entries checked." in answer
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert (entry.action, entry.actor, entry.body) == (
        audit.VERIFIED,
        director_general,
        body,
    )
    assert entry.details == {
        "intact": True,
        "entries": checked,
        "last_sequence": checked,
        "problem_count": 0,
        "problems": [],
    }
    page = _page(director_general, body).content.decode()
    assert f"by {director_general.display_name}: {checked} entries checked." in page
    assert 'id="chain-ok"' in page


def test_verify_audit_command_records_its_result_the_same_way(issued):
    checked = AuditEntry.objects.count()
    call_command("verify_audit", stdout=io.StringIO())
    found = audit.audit_last_verification()
    assert (found.by, found.intact, found.entries) == ("system", True, checked)
    AuditEntry.objects.filter(sequence=2).update(action="forged")
    with pytest.raises(CommandError):
        call_command("verify_audit", stderr=io.StringIO())
    found = audit.audit_last_verification()
    assert (found.intact, found.problem_count, found.entries) == (False, 1, checked + 1)
    assert [(p.sequence, p.reason) for p in found.problems] == [
        (2, "entry was altered")
    ]


def _append_valid_entries(count: int) -> None:
    """A long, intact log, written in bulk (the page must not care how long)."""
    last = AuditEntry.objects.order_by("-sequence").first()
    rows = []
    for _ in range(count):
        entry = AuditEntry(
            sequence=last.sequence + 1,
            at=timezone.now(),
            actor_label="system",
            action="test.filler",
            details={},
            previous_hash=last.entry_hash,
        )
        entry.details_digest = entry.compute_details_digest()
        entry.entry_hash = entry.compute_hash()
        rows.append(entry)
        last = entry
    AuditEntry.objects.bulk_create(rows)


def test_page_queries_do_not_grow_with_the_audit_log(
    issued, director_general, body, django_assert_num_queries
):
    client = client_for(director_general)
    url = reverse("minutes:oversight", args=[body.slug])
    _verify(director_general, body)
    client.get(url)  # warm the session
    with django_assert_num_queries(OVERSIGHT_QUERIES):
        assert client.get(url).status_code == 200
    # A log a hundred times longer costs the page nothing more.
    _append_valid_entries(2500)
    assert audit.audit_verify().intact
    with django_assert_num_queries(OVERSIGHT_QUERIES):
        assert 'id="chain-ok"' in client.get(url).content.decode()


def test_audit_filters(issued, director_general, clerk, body):
    page = _page(director_general, body, action="record.").content.decode()
    assert "record.register" in page and "minutes.generate" not in page
    page = _page(director_general, body, actor="zzz-nobody").content.decode()
    assert "No entry matches." in page
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    page = _page(director_general, body, since=tomorrow).content.decode()
    assert "No entry matches." in page
    page = _page(director_general, body, actor=clerk.last_name).content.decode()
    assert "minutes.generate" in page


def test_audit_log_is_paginated(director_general, body):
    for n in range(60):
        audit_record(by=None, action=f"test.{n}", body=body)
    first = _page(director_general, body).content.decode()
    assert "test.59" in first and "test.5<" not in first
    second = _page(director_general, body, page=2).content.decode()
    assert "test.5<" in second


def test_ten_meetings_rule(body):
    today = datetime.date(2026, 7, 1)
    for n in range(2):
        make_meeting(
            body,
            number=100 + n,
            starts_at=datetime.datetime(2026, 1 + n, 10, 18, tzinfo=datetime.UTC),
            mode=Meeting.Mode.IN_PERSON,
            state=Meeting.State.CLOSED,
        )
    make_meeting(
        body,
        number=110,
        starts_at=datetime.datetime(2026, 4, 10, 18, tzinfo=datetime.UTC),
        mode=Meeting.Mode.REMOTE,
        state=Meeting.State.CLOSED,
    )
    year = selectors.ten_meetings(body, today)
    assert year.held_physical == 2 and year.held_remote == 1
    assert year.expected_by_now == 4
    warnings = [w.message for w in selectors.compliance_warnings(body, today)]
    # Two behind the even pace: one meeting of slack for the summer break.
    assert any("Only 2 sittings held in the room" in w for w in warnings)
    make_meeting(
        body,
        number=111,
        starts_at=datetime.datetime(2026, 5, 10, 18, tzinfo=datetime.UTC),
        mode=Meeting.Mode.HYBRID,
        state=Meeting.State.CLOSED,
    )
    warnings = [w.message for w in selectors.compliance_warnings(body, today)]
    assert not any("Only" in w for w in warnings)


def test_undrafted_minutes_are_warned(sitting, body):
    warnings = [w.message for w in selectors.compliance_warnings(body)]
    assert any(sitting.meeting.title in w and "not been drafted" in w for w in warnings)


def _more_records(body, sitting, clerk, count):
    content = Minutes.objects.get(meeting=sitting.meeting).content
    for _ in range(count):
        _register(
            meeting=sitting.meeting,
            item_id=sitting.budget.pk,
            minutes_content=content,
            by=clerk,
        )


def test_query_count_does_not_grow_with_records(
    issued, sitting, clerk, director_general, body, django_assert_num_queries
):
    client = client_for(director_general)
    url = reverse("minutes:oversight", args=[body.slug])
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _more_records(body, sitting, clerk, 15)
    assert DecisionRecord.objects.count() == 17
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_decisions_list_query_count_is_constant(
    issued, sitting, clerk, body, django_assert_num_queries
):
    client = client_for(clerk)
    url = reverse("minutes:decisions", args=[sitting.meeting.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    _more_records(body, sitting, clerk, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_minutes_approval_item_kind(issued, director_general, next_meeting):
    minutes = Minutes.objects.get(meeting=issued[0].meeting)
    services.minutes_approve(minutes=minutes, by=director_general)
    assert next_meeting.items.get().kind == AgendaItem.Kind.MINUTES_APPROVAL
