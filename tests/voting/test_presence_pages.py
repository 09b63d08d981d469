"""Every page of a live sitting holds the member's presence.

The member page, the console and the register have their own live socket
(sitting.js, which pings); the vote controls, the ballot and the meeting's
page load presence.js, which opens the socket in presence mode.
"""

import re

import pytest
from django.urls import reverse

from meetings.models import Meeting
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PRESENCE = re.compile(
    rb'<script type="module" src="[^"]*js/presence\.js"'
    rb' data-presence-path="/ws/sitting/(\d+)/">'
)


def pages(poll):
    meeting = poll.item.meeting
    return {
        "ballot": reverse("voting:poll", args=[poll.pk]),
        "controls": reverse("voting:controls", args=[meeting.pk]),
        "meeting": reverse("meetings:meeting_detail", args=[meeting.pk]),
    }


@pytest.mark.parametrize("page", ["ballot", "controls", "meeting"])
def test_pages_without_a_live_view_hold_presence_while_live(public_poll, chair, page):
    response = client_for(chair).get(pages(public_poll)[page])
    assert response.status_code == 200
    found = PRESENCE.findall(response.content)
    assert found == [str(public_poll.item.meeting_id).encode()]


@pytest.mark.parametrize("page", ["ballot", "meeting"])
def test_no_presence_socket_once_the_sitting_closed(public_poll, councillor, page):
    Meeting.objects.filter(pk=public_poll.item.meeting_id).update(
        state=Meeting.State.CLOSED
    )
    response = client_for(councillor).get(pages(public_poll)[page])
    assert response.status_code == 200
    assert not PRESENCE.findall(response.content)


@pytest.mark.parametrize("name", ["meetings:sitting", "meetings:sitting_console"])
def test_live_pages_hold_presence_through_their_own_socket(sitting, chair, name):
    response = client_for(chair).get(reverse(name, args=[sitting.pk]))
    assert b"js/sitting.js" in response.content
    assert b"js/presence.js" not in response.content
