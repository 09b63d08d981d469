"""Pages cost the same number of queries whatever the number of items, documents,
meetings and members."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Convocation, Document, ItemSubmission, Meeting
from tests.conftest import client_for
from tests.factories import make_body, make_item, make_meeting, make_member
from tests.meetings.conftest import set_state

pytestmark = pytest.mark.django_db


def _grow(meeting, *, items, members, meetings, councillor):
    body = meeting.body
    for n in range(items):
        item = make_item(
            meeting,
            title=f"Point {n}",
            session="closed" if n % 3 == 0 else "public",
            rapporteur=councillor,
        )
        for k in range(2):
            Document.objects.create(
                item=item,
                file=f"meetings/{meeting.pk}/x{n}-{k}.pdf",
                original_name=f"annexe-{n}-{k}.pdf",
                content_type="application/pdf",
                size=1000,
                sha256="0" * 64,
                uploaded_at=timezone.now(),
            )
    for _ in range(members):
        person = make_member(body)
        Convocation.objects.create(
            meeting=meeting,
            person=person,
            email=person.email,
            language="fr",
            created_at=timezone.now(),
            sent_at=timezone.now(),
        )
        ItemSubmission.objects.create(
            meeting=meeting,
            submitted_by=person,
            submitted_at=timezone.now(),
            title="Motion",
            explanatory_note="Note",
        )
    for n in range(meetings):
        other = make_meeting(
            body, starts_at=timezone.now() + datetime.timedelta(days=40 + n)
        )
        set_state(other, Meeting.State.CONVENED)
        make_item(other)


PAGES = [
    ("clerk", "meetings:body_meetings", lambda m: [m.body.slug]),
    ("councillor", "meetings:body_meetings", lambda m: [m.body.slug]),
    ("clerk", "meetings:meeting_edit", lambda m: [m.pk]),
    ("clerk", "meetings:meeting_convene", lambda m: [m.pk]),
    ("councillor", "meetings:meeting_detail", lambda m: [m.pk]),
    (None, "meetings:public_calendar", lambda m: [m.body.slug]),
    (None, "meetings:public_agenda", lambda m: [m.body.slug, m.pk]),
    (None, "meetings:calendar_feed", lambda m: [m.body.slug]),
    ("clerk", "home", lambda m: []),
    ("director_general", "home", lambda m: []),
]
# The numbers pinned: any change to them is a change to review. Every page
# for a logged-in person has one more: the header's sittings in session.
PINNED = {
    ("clerk", "meetings:body_meetings"): 7,
    ("councillor", "meetings:body_meetings"): 6,
    ("clerk", "meetings:meeting_edit"): 9,
    ("clerk", "meetings:meeting_convene"): 7,
    ("councillor", "meetings:meeting_detail"): 9,  # + is_about_to_sit
    (None, "meetings:public_calendar"): 4,  # + sittings soon
    (None, "meetings:public_agenda"): 5,  # + sittings soon
    (None, "meetings:calendar_feed"): 2,
    ("clerk", "home"): 9,  # + the minutes panel, + sittings soon
    ("director_general", "home"): 10,  # + minutes, sealing key, sittings soon
}


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("role", "name", "args"), PAGES, ids=[f"{p[1]}-{p[0]}" for p in PAGES]
)
def test_page_query_count_is_constant(
    cast, members, meeting, role, name, args, django_assert_num_queries
):
    set_state(meeting, Meeting.State.CONVENED)
    make_item(meeting)
    client = client_for(cast[role] if role else None)
    url = reverse(name, args=args(meeting))
    client.get(url)  # warm the session and any per-process cache
    _grow(meeting, items=2, members=1, meetings=1, councillor=cast["councillor"])
    with django_assert_num_queries(PINNED[(role, name)]):
        assert client.get(url).status_code == 200
    _grow(meeting, items=25, members=12, meetings=8, councillor=cast["councillor"])
    with django_assert_num_queries(PINNED[(role, name)]):
        assert client.get(url).status_code == 200


def test_anonymous_home_links_every_body_public_calendar(
    django_assert_num_queries, body
):
    client = Client()
    client.get(reverse("home"))
    with django_assert_num_queries(2):  # the bodies; the sittings soon of all
        html = client.get(reverse("home")).content.decode()
    assert reverse("meetings:public_calendar", args=[body.slug]) in html
    others = [make_body() for _ in range(4)]
    with django_assert_num_queries(2):
        html = client.get(reverse("home")).content.decode()
    for other in others:
        assert reverse("meetings:public_calendar", args=[other.slug]) in html
