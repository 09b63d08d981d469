"""Ways in: from its home page and the meeting page, each role reaches the
sitting about to sit by a link, and the public reaches the gallery.

The window is one rule (``Meeting.objects.sitting_soon``): from twelve hours
before the start until the close. The tests move the sitting around its edges
and follow every link the card offers.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Meeting
from tests.conftest import client_for
from tests.factories import (
    Role,
    make_body,
    make_item,
    make_mandate,
    make_meeting,
    make_member,
)

pytestmark = pytest.mark.django_db

HOURS = datetime.timedelta(hours=1)

# Role, the link's visible name, and the address it must lead to.
ROLE_LINKS = [
    (
        "councillor",
        "Join the live sitting",
        lambda m: reverse("meetings:sitting", args=[m.pk]),
    ),
    (
        "chair",
        "Open the console",
        lambda m: reverse("meetings:sitting_console", args=[m.pk]),
    ),
    (
        "chair",
        "Join the live sitting",
        lambda m: reverse("meetings:sitting", args=[m.pk]),
    ),
    (
        "chair",
        "Room display",
        lambda m: reverse("meetings:sitting_display", args=[m.pk]),
    ),
    (
        "clerk",
        "Keep the register",
        lambda m: reverse("meetings:sitting_register", args=[m.pk]),
    ),
    (
        "clerk",
        "Room display",
        lambda m: reverse("meetings:sitting_display", args=[m.pk]),
    ),
    (
        "director_general",
        "Oversee the sitting",
        lambda m: reverse("minutes:oversight", args=[m.body.slug]),
    ),
    (
        "deputy_director_general",
        "Oversee the sitting",
        lambda m: reverse("minutes:oversight", args=[m.body.slug]),
    ),
]
# What no role but its own may be offered.
ROLE_ONLY = {
    "Open the console": "chair",
    "Keep the register": "clerk",
    "Oversee the sitting": {"director_general", "deputy_director_general"},
}


def _sitting(body, *, starts_in=2 * HOURS, state=Meeting.State.CONVENED, **fields):
    meeting = make_meeting(
        body,
        title="Séance de décembre",
        starts_at=timezone.now() + starts_in,
        state=state,
        **fields,
    )
    make_item(meeting, title="Budget 2027")
    return meeting


def _card(html: str, meeting) -> str | None:
    """The ways-in card of the meeting in the page, or None."""
    found = re.search(
        rf'<section[^>]*data-ways-in="{meeting.pk}"[^>]*>(.*?)</section>', html, re.S
    )
    return found.group(1) if found else None


def _links(fragment: str) -> dict[str, str]:
    """Visible name -> address of every link in the fragment."""
    return {
        re.sub(r"\s+", " ", text).strip(): href
        for href, text in re.findall(
            r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', fragment, re.S
        )
    }


def gallery_of(meeting) -> str:
    return reverse("meetings:sitting_public", args=[meeting.pk])


def _pages(meeting):
    return [reverse("home"), reverse("meetings:meeting_detail", args=[meeting.pk])]


@pytest.fixture
def soon(body, cast):
    return _sitting(body)


@pytest.mark.parametrize(
    ("role", "name", "target"), ROLE_LINKS, ids=[f"{r}-{n}" for r, n, _t in ROLE_LINKS]
)
def test_each_role_finds_its_next_action_and_the_link_works(
    soon, cast, role, name, target
):
    client = client_for(cast[role])
    for page in _pages(soon):
        card = _card(client.get(page).content.decode(), soon)
        assert card is not None, page
        links = _links(card)
        assert links.get(name) == target(soon), (page, links)
        for other, holders in ROLE_ONLY.items():
            if role not in holders:
                assert other not in links, (page, other)
        assert client.get(links[name]).status_code == 200


def test_the_card_comes_first_on_the_body_above_the_tasks(soon, cast):
    # On a phone the tasks fill the first screen: the way in must precede them.
    html = client_for(cast["councillor"]).get(reverse("home")).content.decode()
    assert html.index(f'data-ways-in="{soon.pk}"') < html.index('class="tasks"')


def test_a_sitting_in_session_or_suspended_keeps_its_card_until_it_closes(body, cast):
    meeting = _sitting(body, starts_in=-3 * HOURS, state=Meeting.State.IN_SESSION)
    client = client_for(cast["councillor"])
    for state, title in [
        (Meeting.State.IN_SESSION, "In session now"),
        (Meeting.State.SUSPENDED, "Suspended"),
    ]:
        Meeting.objects.filter(pk=meeting.pk).update(state=state)
        for page in _pages(meeting):
            card = _card(client.get(page).content.decode(), meeting)
            assert card is not None and title in card
            assert "Join the live sitting" in _links(card)
    Meeting.objects.filter(pk=meeting.pk).update(
        state=Meeting.State.CLOSED, closed_at=timezone.now()
    )
    for role in ["councillor", "chair", "clerk", "director_general"]:
        for page in _pages(meeting):
            assert (
                _card(client_for(cast[role]).get(page).content.decode(), meeting)
                is None
            )


@pytest.mark.parametrize(
    ("starts_in", "state"),
    [
        (13 * HOURS, Meeting.State.CONVENED),  # too early
        (2 * HOURS, Meeting.State.DRAFT),  # not convened: no sitting
        (-13 * HOURS, Meeting.State.CONVENED),  # never opened, long past
        (-20 * 24 * HOURS, Meeting.State.CLOSED),
    ],
    ids=["13h-before", "draft", "13h-after-never-opened", "closed"],
)
def test_no_card_outside_the_window(body, cast, starts_in, state):
    meeting = _sitting(body, starts_in=starts_in, state=state)
    for role in ["councillor", "chair", "clerk", "director_general"]:
        client = client_for(cast[role])
        for page in _pages(meeting):
            response = client.get(page)
            if response.status_code == 200:
                assert _card(response.content.decode(), meeting) is None, (role, page)
    assert (
        'data-ways-in="' not in client_for(None).get(reverse("home")).content.decode()
    )


def test_the_window_opens_twelve_hours_before_the_start(body):
    meeting = _sitting(body, starts_in=24 * HOURS)
    minute = datetime.timedelta(minutes=1)
    opens = meeting.starts_at - Meeting.SITTING_SOON
    assert not meeting.is_about_to_sit(opens - minute)
    assert meeting.is_about_to_sit(opens + minute)
    assert meeting.is_about_to_sit(meeting.starts_at + 11 * HOURS)
    assert not meeting.is_about_to_sit(meeting.starts_at + 13 * HOURS)
    in_window = Meeting.objects.sitting_soon(opens + minute)
    assert list(in_window.values_list("pk", flat=True)) == [meeting.pk]


def test_the_public_home_leads_to_the_gallery_and_nowhere_else(soon, cast):
    client = client_for(None)
    links = _links(_card(client.get(reverse("home")).content.decode(), soon))
    assert links == {"Follow live": reverse("meetings:sitting_public", args=[soon.pk])}
    assert client.get(links["Follow live"]).status_code == 200
    # Logged in without a mandate (or as the administrator): no body, no card.
    for role in ["outsider", "administrator"]:
        html = client_for(cast[role]).get(reverse("home")).content.decode()
        assert _card(html, soon) is None
        assert reverse("meetings:sitting", args=[soon.pk]) not in html


def test_a_member_of_another_body_sees_no_card_for_this_sitting(soon):
    elsewhere = make_member(make_body(), Role.COUNCILLOR)
    _sitting(elsewhere.mandates.get().body)  # their own body sits too
    client = client_for(elsewhere)
    html = client.get(reverse("home")).content.decode()
    assert _card(html, soon) is None
    assert reverse("meetings:sitting", args=[soon.pk]) not in html
    assert reverse("meetings:sitting_console", args=[soon.pk]) not in html
    response = client.get(reverse("meetings:meeting_detail", args=[soon.pk]))
    assert response.status_code == 403
    assert _card(response.content.decode(), soon) is None


def test_the_header_marks_a_sitting_in_session_for_members_of_its_body(body, cast):
    meeting = _sitting(body, starts_in=-HOURS, state=Meeting.State.IN_SESSION)
    mark = "Sitting in session: Séance de décembre"
    address = reverse("meetings:sitting", args=[meeting.pk])
    for role in ["councillor", "chair", "clerk"]:
        html = client_for(cast[role]).get(reverse("home")).content.decode()
        header = html.split("</header>")[0]
        assert mark in header and f'href="{address}"' in header
    for user in [None, cast["outsider"], make_member(make_body())]:
        header = (
            client_for(user).get(reverse("home")).content.decode().split("</header>")[0]
        )
        assert mark not in header and address not in header
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.CLOSED)
    html = client_for(cast["councillor"]).get(reverse("home")).content.decode()
    assert mark not in html.split("</header>")[0]


# Session, user, mandates, member counts, next sittings, minutes panel, the
# sittings soon, the header's sittings in session: whatever the meetings.
HOME_QUERIES = 8


def test_the_home_page_costs_the_same_however_many_sittings(
    body, cast, django_assert_num_queries
):
    _sitting(body, starts_in=-HOURS, state=Meeting.State.IN_SESSION)
    client = client_for(cast["councillor"])
    client.get(reverse("home"))
    with django_assert_num_queries(HOME_QUERIES):
        html = client.get(reverse("home")).content.decode()
    assert html.count("data-ways-in=") == 1
    other = make_body()
    make_mandate(cast["councillor"], other)
    for n in range(6):
        _sitting(body, starts_in=n * HOURS)
        _sitting(other, starts_in=-HOURS, state=Meeting.State.IN_SESSION)
        _sitting(body, starts_in=-20 * 24 * HOURS, state=Meeting.State.CLOSED)
    with django_assert_num_queries(HOME_QUERIES):
        html = client.get(reverse("home")).content.decode()
    assert html.count("data-ways-in=") == 13
    assert html.split("</header>")[0].count("Sitting in session") == 7


def test_the_public_calendar_and_agenda_lead_to_the_gallery_and_the_results(
    body, django_assert_num_queries
):
    live = _sitting(body, starts_in=-HOURS, state=Meeting.State.IN_SESSION)
    coming = _sitting(body, starts_in=3 * HOURS)
    later = _sitting(body, starts_in=48 * HOURS)
    past = _sitting(body, starts_in=-20 * 24 * HOURS, state=Meeting.State.CLOSED)
    client = client_for(None)
    # The body, the upcoming and past sittings, the sittings soon: the list of
    # those live or about to sit reads the same lists again, not the database.
    with django_assert_num_queries(4):
        calendar = client.get(reverse("meetings:public_calendar", args=[body.slug]))
    live_section = (
        calendar.content.decode().split('id="live-title"')[1].split("</section>")[0]
    )
    assert gallery_of(live) in live_section and gallery_of(coming) in live_section
    assert gallery_of(later) not in live_section
    links = _links(calendar.content.decode())
    assert links[f"Follow live: {live.title}"] == gallery_of(live)
    assert gallery_of(coming) in links.values()
    assert gallery_of(later) not in links.values()
    results = reverse("voting:results", args=[past.pk])
    assert results in links.values()
    for address in [gallery_of(live), gallery_of(coming), results]:
        assert client.get(address).status_code == 200
    for meeting, expected in [(live, gallery_of(live)), (past, results)]:
        agenda = client.get(
            reverse("meetings:public_agenda", args=[body.slug, meeting.pk])
        )
        assert expected in agenda.content.decode()
    agenda = client.get(reverse("meetings:public_agenda", args=[body.slug, later.pk]))
    assert gallery_of(later) not in agenda.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_councillor_goes_from_home_to_the_live_sitting_by_the_link_name(
    logged_in_page, body, councillor
):
    meeting = _sitting(body, starts_in=-HOURS, state=Meeting.State.IN_SESSION)
    page = logged_in_page(councillor)
    page.goto("/")
    page.get_by_role("link", name="Join the live sitting").click()
    expect(page).to_have_url(re.compile(rf"/sitting/{meeting.pk}/$"))
    # Danger and secondary buttons are not painted as primary ones.
    colours = page.evaluate(
        """() => ['button button-danger', 'button button-secondary', 'button']
          .map(c => {
            const b = document.createElement('button');
            b.className = c; b.textContent = 'x'; document.body.append(b);
            const s = getComputedStyle(b); return [s.backgroundColor, s.color];
        })"""
    )
    assert colours[0] == ["rgb(179, 38, 30)", "rgb(255, 255, 255)"]
    assert colours[1] == ["rgb(255, 255, 255)", "rgb(11, 61, 110)"]
    assert colours[2] == ["rgb(11, 61, 110)", "rgb(255, 255, 255)"]


@pytest.mark.parametrize(
    ("role", "offered", "refused"),
    [
        ("councillor", ["Results of the votes", "Minutes"], ["Decision records"]),
        ("clerk", ["Results of the votes", "Minutes", "Decision records"], []),
    ],
)
def test_a_closed_sitting_leads_its_members_to_results_minutes_and_decisions(
    body, cast, role, offered, refused
):
    past = _sitting(body, starts_in=-20 * 24 * HOURS, state=Meeting.State.CLOSED)
    client = client_for(cast[role])
    html = client.get(reverse("meetings:meeting_detail", args=[past.pk])).content
    found = re.search(
        rf'<section[^>]*data-after-sitting="{past.pk}"[^>]*>(.*?)</section>',
        html.decode(),
        re.S,
    )
    links = _links(found.group(1))
    assert sorted(links) == sorted(offered)
    for name in refused:
        assert name not in links
    for address in links.values():
        assert client.get(address).status_code == 200
