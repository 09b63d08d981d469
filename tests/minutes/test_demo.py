import pytest

from council import demo as council_demo
from meetings.models import Meeting
from minutes import demo
from minutes.models import DecisionRecord, Minutes, MinutesVersion
from tests.factories import make_meeting
from voting.results import ItemOutcome

pytestmark = pytest.mark.django_db


def test_nothing_to_do_without_a_closed_sitting():
    cast = council_demo.seed()
    demo.seed(cast)
    assert not Minutes.objects.exists()


def test_minutes_and_records_of_the_demo_sitting_once(monkeypatch):
    cast = council_demo.seed()
    meeting = make_meeting(cast.body, number=1, state=Meeting.State.CLOSED)
    item = meeting.items.create(position=1, title="Budget", draft_decision="Approuvé.")
    outcome = ItemOutcome(item_id=item.pk, secret=False, decision="adopted", yes=30)
    monkeypatch.setattr("minutes.records.item_outcomes", lambda m: {item.pk: outcome})
    demo.seed(cast)
    demo.seed(cast)
    minutes = Minutes.objects.get(meeting=meeting)
    # Drafted, then approved by the director-general: two versions, not four.
    assert MinutesVersion.objects.filter(minutes=minutes).count() == 2
    assert minutes.state == Minutes.State.AWAITING_ADOPTION
    assert minutes.approved_by == cast.director_general
    assert DecisionRecord.objects.filter(meeting=meeting).count() == 1
    assert minutes.content["signatories"]["director_general"] == "Bernard Moreau"
