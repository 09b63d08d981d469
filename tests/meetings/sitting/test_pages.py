"""Who may open which sitting page, and what the public sees."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meetings import live
from meetings.live import snapshot
from meetings.models import AgendaItem, AttendanceEvent, FloorRequest, Meeting
from meetings.services import sitting as services
from tests.conftest import client_for
from tests.factories import arrive, make_member

pytestmark = pytest.mark.django_db

ROLES = [
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
    "administrator",
    "outsider",
]
MEMBER_AREA = {
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
}
PAGES = {
    "meetings:sitting": MEMBER_AREA,
    "meetings:sitting_display": MEMBER_AREA,
    "meetings:sitting_console": {"chair"},
    "meetings:sitting_register": {"clerk"},
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_page_access_by_role(page, role, cast, live_meeting):
    response = client_for(cast[role]).get(reverse(page, args=[live_meeting.pk]))
    assert response.status_code == (200 if role in PAGES[page] else 403)


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(page, live_meeting):
    response = client_for(None).get(reverse(page, args=[live_meeting.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


MEMBER_POSTS = ["sitting_join", "sitting_leave", "sitting_floor", "sitting_withdraw"]


@pytest.mark.parametrize("name", MEMBER_POSTS)
@pytest.mark.parametrize(
    "role", ["director_general", "clerk", "administrator", "outsider"]
)
def test_member_actions_are_refused_to_non_members(name, role, cast, live_meeting):
    response = client_for(cast[role]).post(
        reverse(f"meetings:{name}", args=[live_meeting.pk])
    )
    assert response.status_code == 403


@pytest.mark.parametrize("name", MEMBER_POSTS)
def test_member_actions_send_anonymous_to_login(name, live_meeting):
    response = client_for(None).post(
        reverse(f"meetings:{name}", args=[live_meeting.pk])
    )
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_member_joins_asks_withdraws_and_leaves_without_javascript(
    live_meeting, councillor
):
    client = client_for(councillor)
    url = lambda name: reverse(f"meetings:{name}", args=[live_meeting.pk])  # noqa: E731
    assert client.post(url("sitting_join")).status_code == 302
    assert client.post(url("sitting_floor"), {"kind": "reply"}).status_code == 302
    request = FloorRequest.objects.get()
    assert request.kind == "reply"
    page = client.get(url("sitting")).content.decode()
    assert councillor.display_name in page  # in the queue, server-rendered
    client.post(url("sitting_withdraw"))
    request.refresh_from_db()
    assert request.status == FloorRequest.Status.WITHDRAWN
    client.post(url("sitting_leave"))
    assert AttendanceEvent.objects.filter(kind="left", person=councillor).exists()


def test_clerk_records_presence_and_recusal_by_form(
    live_meeting, items, councillor, clerk
):
    client = client_for(clerk)
    response = client.post(
        reverse("meetings:sitting_register_record", args=[live_meeting.pk]),
        {"person": councillor.pk, "kind": "arrived", "place": "room"},
    )
    assert response.status_code == 302
    assert AttendanceEvent.objects.get().place == "room"
    client.post(
        reverse("meetings:sitting_recusal", args=[live_meeting.pk]),
        {"person": councillor.pk, "item": items["public"].pk, "reason": "Intérêt"},
    )
    assert items["public"].recusals.get().person == councillor
    client.post(
        reverse("meetings:sitting_recusal", args=[live_meeting.pk]),
        {"person": councillor.pk, "item": items["public"].pk, "cancel": "1"},
    )
    assert not items["public"].recusals.exists()


@pytest.mark.parametrize("role", ["councillor", "director_general", "outsider"])
def test_register_forms_are_refused_to_others(role, cast, live_meeting, items):
    for name, data in [
        (
            "sitting_register_record",
            {"person": cast["councillor"].pk, "kind": "arrived"},
        ),
        (
            "sitting_recusal",
            {"person": cast["councillor"].pk, "item": items["public"].pk},
        ),
    ]:
        response = client_for(cast[role]).post(
            reverse(f"meetings:{name}", args=[live_meeting.pk]), data
        )
        assert response.status_code == 403
    assert not AttendanceEvent.objects.exists()
    assert not items["public"].recusals.exists()


def test_register_page_queries_do_not_grow_with_the_council(live_meeting, body, clerk):
    client = client_for(clerk)
    url = reverse("meetings:sitting_register", args=[live_meeting.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    assert small <= 22  # one register read for the page
    for _ in range(6):
        member = make_member(body)
        arrive(live_meeting, member)
    assert count() == small


def test_public_page_needs_no_login_and_shows_public_items_only(live_meeting, items):
    response = client_for(None).get(
        reverse("meetings:sitting_public", args=[live_meeting.pk])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert items["public"].title in page
    assert items["third"].title in page
    assert items["closed"].title not in page
    assert "https://stream.example.org/live" in page


def test_public_page_in_closed_session_hides_item_speaker_and_stream(
    live_meeting, items, chair, councillor
):
    arrive(live_meeting, councillor)
    services.floor_request(meeting=live_meeting, by=councillor)
    services.floor_grant(meeting=live_meeting, by=chair)
    services.sitting_enter_closed_session(meeting=live_meeting, by=chair)
    services.sitting_move_to_item(meeting=live_meeting, item=items["closed"], by=chair)
    page = (
        client_for(None)
        .get(
            reverse("meetings:sitting_public", args=[live_meeting.pk]),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        .content.decode()
    )
    assert "closed session" in page
    assert items["closed"].title not in page
    assert councillor.display_name not in page
    assert "https://stream.example.org/live" not in page


def test_public_page_of_a_draft_is_not_found(meeting):
    meeting.state = Meeting.State.DRAFT
    meeting.save()
    response = client_for(None).get(
        reverse("meetings:sitting_public", args=[meeting.pk])
    )
    assert response.status_code == 404


def test_member_page_embeds_the_jitsi_room_with_the_display_name(
    live_meeting, councillor, settings
):
    page = (
        client_for(councillor)
        .get(reverse("meetings:sitting", args=[live_meeting.pk]))
        .content.decode()
    )
    assert f"https://{settings.JITSI_DOMAIN}/{live_meeting.video_room}" in page
    assert "userInfo.displayName" in page
    assert "Nom" in page.split(live_meeting.video_room, 1)[1][:200]


def test_external_video_is_a_link_and_the_public_never_sees_the_room(
    live_meeting, councillor
):
    public = (
        client_for(None)
        .get(reverse("meetings:sitting_public", args=[live_meeting.pk]))
        .content.decode()
    )
    assert live_meeting.video_room not in public
    live_meeting.video_provider = Meeting.VideoProvider.EXTERNAL
    live_meeting.video_url = "https://teams.example.org/room/123"
    live_meeting.save()
    page = (
        client_for(councillor)
        .get(reverse("meetings:sitting", args=[live_meeting.pk]))
        .content.decode()
    )
    assert "https://teams.example.org/room/123" in page
    assert "<iframe" not in page


def test_sitting_panels_of_other_apps_are_included(
    live_meeting, councillor, tmp_path, settings
):
    (tmp_path / "panel.html").write_text("<p>PANEL {{ meeting.pk }}</p>")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates  # a new value, so the engines are rebuilt
    live.register_sitting_panel("panel.html")
    try:
        page = (
            client_for(councillor)
            .get(reverse("meetings:sitting", args=[live_meeting.pk]))
            .content.decode()
        )
    finally:
        snapshot._panels.remove("panel.html")
    assert f"PANEL {live_meeting.pk}" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "page, role",
    [
        ("meetings:sitting_public", None),
        ("meetings:sitting", "councillor"),
        ("meetings:sitting_console", "chair"),
    ],
)
def test_sitting_pages_queries_do_not_grow_with_agenda_and_queue(
    page, role, cast, live_meeting, body, chair
):
    client = client_for(cast[role] if role else None)
    url = reverse(page, args=[live_meeting.pk])
    client.get(url)
    small = _queries(client, url)
    for position in range(10, 20):
        AgendaItem.objects.create(
            meeting=live_meeting, position=position, title=f"Point {position}"
        )
    for _ in range(5):
        member = make_member(body)
        arrive(live_meeting, member)
        services.floor_request(meeting=live_meeting, by=member)
    assert _queries(client, url) == small
