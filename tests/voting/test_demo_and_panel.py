"""The demo hook and the sitting panel."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from council import demo as council_demo
from meetings.models import AgendaItem, Meeting
from tests.factories import make_item, make_meeting
from voting import demo
from voting.models import Candidate, SealingKey
from voting.services import sealing
from voting.services.ballots import public_vote_cast
from voting.services.polls import poll_close

pytestmark = pytest.mark.django_db


def test_demo_gives_keys_and_candidates_and_runs_twice():
    cast = council_demo.seed()
    meeting = make_meeting(cast.body, state=Meeting.State.IN_SESSION)
    item = make_item(meeting, kind=AgendaItem.Kind.APPOINTMENT)
    demo.seed(cast)
    demo.seed(cast)
    keys = SealingKey.objects.filter(body=cast.body, active=True)
    assert {k.holder for k in keys} == {
        cast.director_general,
        cast.deputy_director_general,
    }
    sealing.unlock_keyholder_key(keys[0], demo.DEMO_SEALING_PASSPHRASE)
    assert Candidate.objects.filter(item=item).count() == 3
    assert (
        cast.logins.count(
            ("Sealing passphrase (DG, deputy)", demo.DEMO_SEALING_PASSPHRASE)
        )
        == 1
    )


def render_panel(meeting, user):
    request = RequestFactory().get("/")
    request.user = user
    with translation.override("en"):
        return render_to_string(
            "voting/_sitting_panel.html",
            {"meeting": meeting, "item": meeting.current_item, "user": user},
            request=request,
        )


def test_panel_offers_the_public_ballot_and_then_the_result(
    public_poll, councillor, chair
):
    meeting = public_poll.item.meeting
    html = render_panel(meeting, councillor)
    assert html.count('type="radio"') == 3
    assert 'aria-live="polite"' in html and f'data-vote-poll="{public_poll.pk}"' in html
    public_vote_cast(poll=public_poll, member=councillor, choice="no")
    poll_close(poll=public_poll, by=chair)
    html = render_panel(meeting, councillor)
    assert 'type="radio"' not in html
    assert "Rejected" in html


def test_panel_sends_secret_voters_to_the_ballot_page(secret_poll, councillor):
    html = render_panel(secret_poll.item.meeting, councillor)
    assert 'type="radio"' not in html
    assert f"/polls/{secret_poll.pk}/" in html


def test_panel_without_poll(sitting, councillor):
    make_item(sitting)
    assert "No vote on the item under discussion." in render_panel(sitting, councillor)
