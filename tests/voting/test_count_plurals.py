"""A count printed with its noun takes the noun's number: "1 ballot", "2 ballots"."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from meetings.models import Meeting
from minutes import selectors
from tests.factories import make_meeting
from tests.voting.conftest import recent_client
from voting.services.ballots import secret_ballot_cast
from voting.services.polls import poll_close

pytestmark = pytest.mark.django_db


def _unseal_page(poll, director_general) -> str:
    client = recent_client(director_general)
    client.cookies["django_language"] = "en"
    return client.get(reverse("voting:unseal", args=[poll.pk])).content.decode()


def test_the_unseal_page_counts_one_ballot_in_the_singular(
    secret_poll, councillor, chair, director_general
):
    secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    poll_close(poll=secret_poll, by=chair)
    page = _unseal_page(secret_poll, director_general)
    assert "1 ballot for 1 member who voted." in page
    assert "1 ballots" not in page and "1 members" not in page


def test_the_unseal_page_counts_several_ballots_in_the_plural(
    secret_poll, members, chair, director_general
):
    for member in members[:2]:
        secret_ballot_cast(poll=secret_poll, by=member, choice="no")
    poll_close(poll=secret_poll, by=chair)
    assert "2 ballots for 2 members who voted." in _unseal_page(
        secret_poll, director_general
    )


def test_the_ten_meetings_warning_counts_one_sitting_in_the_singular(body):
    today = datetime.date(2026, 7, 1)
    make_meeting(
        body,
        number=100,
        starts_at=datetime.datetime(2026, 1, 10, 18, tzinfo=datetime.UTC),
        mode=Meeting.Mode.IN_PERSON,
        state=Meeting.State.CLOSED,
    )
    with translation.override("en"):
        warnings = [w.message for w in selectors.compliance_warnings(body, today)]
    assert any(
        "Only 1 sitting held in the room this year while 4 were due by now" in w
        for w in warnings
    ), warnings
