import dataclasses

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from council.models import AuditEntry
from meetings.models import AgendaItem, Meeting
from minutes import services
from minutes.models import MINUTES_IMMUTABLE, Minutes, MinutesVersion, Objection
from minutes.selectors import diff_table
from tests.conftest import client_for
from tests.factories import make_meeting
from tests.minutes.conftest import START
from voting.results import ItemOutcome

pytestmark = pytest.mark.django_db


def test_clerk_edits_summaries_and_each_change_is_a_version(drafted, sitting, clerk):
    services.minutes_edit(
        minutes=drafted,
        by=clerk,
        summaries={sitting.budget.pk: "Débat **vif**."},
        introduction="Séance ouverte.",
    )
    minutes = Minutes.objects.get(pk=drafted.pk)
    assert minutes.version == 2
    versions = list(minutes.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].content["items"][0]["summary"] == ""
    assert versions[1].content["items"][0]["summary"] == "Débat **vif**."


def test_summary_for_an_unknown_item_is_refused(drafted, clerk):
    with pytest.raises(ValidationError) as exc:
        services.minutes_edit(minutes=drafted, by=clerk, summaries={999999: "x"})
    assert str(services.UNKNOWN_ITEM) in exc.value.messages
    assert Minutes.objects.get(pk=drafted.pk).version == 1


def test_councillor_cannot_edit(drafted, sitting, councillor):
    with pytest.raises(PermissionDenied):
        services.minutes_edit(
            minutes=drafted, by=councillor, summaries={sitting.budget.pk: "x"}
        )


def test_dg_approval_places_the_item_on_the_next_sitting(
    drafted, director_general, next_meeting, body
):
    later = make_meeting(
        body,
        number=3,
        starts_at=START.replace(month=6),
        state=Meeting.State.DRAFT,
        opened_at=None,
        closed_at=None,
    )
    AgendaItem.objects.create(meeting=next_meeting, position=1, title="Premier point")
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    assert minutes.state == Minutes.State.AWAITING_ADOPTION
    item = minutes.approval_item
    assert item.meeting == next_meeting
    assert item.kind == AgendaItem.Kind.MINUTES_APPROVAL
    assert item.position == 2
    assert "2 mars 2026" in item.title  # in the body's language (French)
    assert not later.items.exists()


def test_approval_without_next_sitting_is_placed_later(
    drafted, director_general, clerk, body
):
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    assert minutes.approval_item is None
    with pytest.raises(ValidationError):
        services.minutes_place(minutes=minutes, by=clerk)
    target = make_meeting(
        body,
        number=5,
        starts_at=START.replace(month=4),
        state=Meeting.State.DRAFT,
        opened_at=None,
        closed_at=None,
    )
    item = services.minutes_place(minutes=minutes, by=clerk)
    assert item.meeting == target
    assert Minutes.objects.get(pk=minutes.pk).approval_item == item


def test_only_the_dg_approves(drafted, clerk, deputy_director_general, chair):
    for person in (clerk, deputy_director_general, chair):
        with pytest.raises(PermissionDenied):
            services.minutes_approve(minutes=drafted, by=person)
    assert Minutes.objects.get(pk=drafted.pk).state == Minutes.State.DRAFT


def test_approved_draft_cannot_be_edited_until_reopened(
    drafted, sitting, clerk, director_general, next_meeting
):
    services.minutes_approve(minutes=drafted, by=director_general)
    with pytest.raises(ValidationError):
        services.minutes_edit(
            minutes=drafted, by=clerk, summaries={sitting.budget.pk: "x"}
        )
    services.minutes_reopen(minutes=drafted, by=director_general, reason="objection")
    services.minutes_edit(
        minutes=drafted, by=clerk, summaries={sitting.budget.pk: "corrigé"}
    )
    assert Minutes.objects.get(pk=drafted.pk).state == Minutes.State.DRAFT


def test_member_objects_before_the_sitting_then_no_longer_after(
    drafted, director_general, councillor, clerk, next_meeting
):
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    objection = services.objection_lodge(
        minutes=minutes, by=councillor, text="Mon intervention est mal résumée."
    )
    assert objection.member == councillor
    with pytest.raises(PermissionDenied):
        services.objection_lodge(minutes=minutes, by=clerk, text="x")
    with pytest.raises(ValidationError):
        services.objection_lodge(minutes=minutes, by=councillor, text="  ")
    Meeting.objects.filter(pk=next_meeting.pk).update(state=Meeting.State.CLOSED)
    with pytest.raises(ValidationError) as exc:
        services.objection_lodge(minutes=minutes, by=councillor, text="trop tard")
    assert str(services.OBJECTION_TOO_LATE) in exc.value.messages
    assert Objection.objects.count() == 1


def test_no_objection_adoption_is_refused_when_someone_objected(
    drafted, director_general, councillor, clerk, next_meeting
):
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    services.objection_lodge(minutes=minutes, by=councillor, text="Erreur.")
    with pytest.raises(ValidationError) as exc:
        services.minutes_adopt(
            minutes=minutes, by=clerk, method=Minutes.AdoptionMethod.NO_OBJECTION
        )
    assert str(services.OBJECTIONS_PENDING) in exc.value.messages


def test_adoption_by_vote_needs_the_approval_vote_adopted(
    drafted, director_general, chair, next_meeting, monkeypatch
):
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    with pytest.raises(ValidationError):
        services.minutes_adopt(
            minutes=minutes, by=chair, method=Minutes.AdoptionMethod.VOTE
        )
    item = minutes.approval_item
    outcome = ItemOutcome(
        item_id=item.pk, secret=False, decision="rejected", yes=2, no=5
    )
    monkeypatch.setattr(
        "minutes.records.item_outcomes", lambda meeting: {item.pk: outcome}
    )
    with pytest.raises(ValidationError) as exc:
        services.minutes_adopt(
            minutes=minutes, by=chair, method=Minutes.AdoptionMethod.VOTE
        )
    assert str(services.VOTE_NOT_ADOPTED) in exc.value.messages
    adopted = dataclasses.replace(outcome, decision="adopted", yes=6, no=1)
    monkeypatch.setattr(
        "minutes.records.item_outcomes", lambda meeting: {item.pk: adopted}
    )
    minutes = services.minutes_adopt(
        minutes=minutes, by=chair, method=Minutes.AdoptionMethod.VOTE
    )
    assert Minutes.objects.get(pk=minutes.pk).state == Minutes.State.ADOPTED


def test_councillor_cannot_adopt(drafted, director_general, councillor, next_meeting):
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    with pytest.raises(PermissionDenied):
        services.minutes_adopt(
            minutes=minutes,
            by=councillor,
            method=Minutes.AdoptionMethod.NO_OBJECTION,
        )


@pytest.fixture
def adopted(drafted, director_general, clerk, next_meeting):
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    return services.minutes_adopt(
        minutes=minutes, by=clerk, method=Minutes.AdoptionMethod.NO_OBJECTION
    )


def test_adopted_minutes_are_immutable(adopted, sitting, clerk, director_general):
    with pytest.raises(ValidationError):
        services.minutes_edit(
            minutes=adopted, by=clerk, summaries={sitting.budget.pk: "x"}
        )
    with pytest.raises(ValidationError):
        services.minutes_generate(meeting=sitting.meeting, by=clerk)
    with pytest.raises(ValidationError):
        services.minutes_reopen(minutes=adopted, by=director_general, reason="x")
    row = Minutes.objects.get(pk=adopted.pk)
    row.content = {"forged": True}
    with pytest.raises(ValidationError) as exc:
        row.save()
    assert str(MINUTES_IMMUTABLE) in exc.value.messages
    with pytest.raises(ValidationError):
        row.delete()
    assert Minutes.objects.get(pk=adopted.pk).content["items"]


def test_versions_are_append_only(drafted):
    version = MinutesVersion.objects.get(minutes=drafted)
    version.content = {}
    with pytest.raises(ValidationError):
        version.save()


def test_diff_shows_changes_escaped(drafted, sitting, clerk):
    services.minutes_edit(
        minutes=drafted,
        by=clerk,
        summaries={sitting.budget.pk: "<script>alert(1)</script> nouveau texte"},
    )
    versions = list(drafted.versions.order_by("number"))
    html = diff_table(versions[0].content, versions[1].content, "v1", "v2")
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert "nouveau" in html


def test_every_step_is_audited(adopted):
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    for action in (
        "minutes.generate",
        "minutes.approve",
        "minutes.place",
        "minutes.adopt",
    ):
        assert action in actions


def test_the_approving_sitting_is_told_of_changes(
    drafted, director_general, councillor, clerk, next_meeting, monkeypatch
):
    told = []
    monkeypatch.setattr(services, "sitting_changed", told.append)
    minutes = services.minutes_approve(minutes=drafted, by=director_general)
    services.objection_lodge(minutes=minutes, by=councillor, text="Erreur.")
    assert told == [next_meeting, next_meeting]


def test_minutes_page_shows_local_times_and_safe_summaries(drafted, sitting, clerk):
    services.minutes_edit(
        minutes=drafted,
        by=clerk,
        summaries={sitting.budget.pk: "<img src=x onerror=alert(1)> **fort**"},
    )
    page = client_for(clerk).get(reverse("minutes:minutes", args=[sitting.meeting.pk]))
    html = page.content.decode()
    assert "<td>20:01</td><td>21:35</td>" in html  # Brussels time, UTC+1
    assert "First Speaker (GA) — 4:00" in html
    assert "&lt;img src=x onerror=alert(1)&gt; <strong>fort</strong>" in html
    assert "<img" not in html
