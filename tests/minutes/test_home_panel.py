import datetime

from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from tests.conftest import client_for
from tests.factories import make_meeting


def _home(user) -> str:
    return client_for(user).get(reverse("home")).content.decode()


def _closed_meeting(body, number, days_ago, title):
    return make_meeting(
        body,
        number=number,
        title=title,
        starts_at=timezone.now() - datetime.timedelta(days=days_ago),
        state=Meeting.State.CLOSED,
    )


def test_members_are_led_to_the_minutes_of_the_last_closed_sitting(body, councillor):
    _closed_meeting(body, 1, 60, "Séance de janvier")
    last = _closed_meeting(body, 2, 30, "Séance de février")
    html = _home(councillor)
    assert reverse("minutes:minutes", args=[last.pk]) in html
    assert "Séance de février" in html and "Séance de janvier" not in html
    assert reverse("minutes:decisions", args=[last.pk]) not in html
    assert reverse("minutes:oversight", args=[body.slug]) not in html


def test_clerk_is_led_to_the_decisions_to_print(body, clerk):
    last = _closed_meeting(body, 1, 30, "Séance de février")
    assert reverse("minutes:decisions", args=[last.pk]) in _home(clerk)


def test_director_general_is_led_to_oversight(body, director_general):
    assert reverse("minutes:oversight", args=[body.slug]) in _home(director_general)


def test_outsider_sees_no_minutes_links(body, outsider):
    _closed_meeting(body, 1, 30, "Séance de février")
    assert "/minutes/" not in _home(outsider)
