"""The live-sitting protocol over websockets (in-memory channel layer)."""

import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.db import transaction

from council.asgi import application
from meetings import consumers, live
from meetings.models import AttendanceEvent, Meeting, SittingState
from meetings.services import sitting as services
from meetings.services.meetings import meeting_resume
from tests.conftest import cookie_for
from tests.factories import arrive

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


async def open_socket(meeting, user=None, public=False) -> WebsocketCommunicator:
    headers = list(HEADERS)
    if user is not None:
        cookie = await sync_to_async(cookie_for)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    path = f"/ws/sitting/{meeting.pk}/" + ("public/" if public else "")
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    assert connected, code
    hello = await communicator.receive_json_from()
    assert hello["type"] == "hello"
    return communicator


async def next_of(communicator, kind: str, timeout: float = 2) -> dict:
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == kind:
            return message


async def drain(communicator, quiet: float = 0.5) -> list[str]:
    """Every message until the socket stays quiet, as raw text."""
    texts = []
    while not await communicator.receive_nothing(timeout=quiet):
        texts.append(await communicator.receive_from())
    return texts


def run(function, **kwargs):
    return database_sync_to_async(function)(**kwargs)


@database_sync_to_async
def db_version(meeting) -> int:
    return SittingState.objects.get(pk=meeting.pk).version


async def test_member_gets_snapshot_on_connect_and_is_recorded_present(
    live_meeting, councillor
):
    socket = await open_socket(live_meeting, councillor)
    snapshot = await next_of(socket, "snapshot")
    assert snapshot["version"] >= 1
    assert snapshot["data"]["status"] == "in_session"
    assert snapshot["data"]["item"]["title"] == "Budget 2027"
    assert snapshot["data"]["present_ids"] == [councillor.pk]
    assert snapshot["data"]["quorum"]["present"] == 1
    event = await database_sync_to_async(AttendanceEvent.objects.get)()
    assert (event.person_id, event.kind, event.place) == (
        councillor.pk,
        "arrived",
        "remote",
    )
    await socket.disconnect()


async def test_updates_carry_increasing_versions_and_only_changes(
    live_meeting, chair, councillor
):
    socket = await open_socket(live_meeting, councillor)
    version = (await next_of(socket, "snapshot"))["version"]
    await drain(socket)
    await run(services.floor_request, meeting=live_meeting, by=councillor)
    update = await next_of(socket, "update")
    assert update["version"] > version and update["prev"] == version
    assert update["changes"]["queue"][0]["person_id"] == councillor.pk
    assert "status" not in update["changes"]
    await asyncio.sleep(live.PUBLISH_INTERVAL)
    await run(services.floor_grant, meeting=live_meeting, by=chair)
    second = await next_of(socket, "update")
    assert second["prev"] == update["version"]
    assert second["version"] > update["version"]
    assert second["changes"]["speaker"]["person_id"] == councillor.pk
    assert second["changes"]["queue"] == []
    await socket.disconnect()


async def test_member_asks_for_the_floor_over_the_socket(live_meeting, councillor):
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await drain(socket)
    await socket.send_json_to({"action": "ask_floor", "kind": "point_of_order"})
    update = await next_of(socket, "update")
    assert update["changes"]["queue"][0]["kind"] == "point_of_order"
    await socket.send_json_to({"action": "ask_floor"})
    error = await next_of(socket, "error")
    assert error["code"] == "refused"
    assert error["message"] == str(services.ALREADY_ASKED)
    await socket.send_json_to({"action": "withdraw"})
    update = await next_of(socket, "update")
    assert update["changes"]["queue"] == []
    await socket.disconnect()


async def test_a_dropped_message_is_healed_by_resync(live_meeting, chair, councillor):
    socket = await open_socket(live_meeting, councillor)
    version = (await next_of(socket, "snapshot"))["version"]
    await drain(socket)
    layer = get_channel_layer()
    real_send = layer.group_send

    async def full_channel(group, message):
        return None  # what Channels does to a full channel: nothing, silently

    layer.group_send = full_channel
    try:
        await run(services.sitting_suspend, meeting=live_meeting, by=chair)
        assert await socket.receive_nothing(timeout=0.4)
    finally:
        layer.group_send = real_send
    await run(meeting_resume, meeting=live_meeting, by=chair)
    update = await next_of(socket, "update")
    # The client holds `version`; this update follows another: a gap.
    assert update["prev"] != version and update["version"] > version
    await socket.send_json_to({"action": "resync"})
    snapshot = await next_of(socket, "snapshot")
    assert snapshot["version"] == update["version"] == await db_version(live_meeting)
    assert snapshot["data"]["status"] == "in_session"
    await socket.disconnect()


async def test_sync_sends_a_snapshot_only_when_behind(live_meeting, councillor):
    socket = await open_socket(live_meeting, councillor)
    version = (await next_of(socket, "snapshot"))["version"]
    await drain(socket)
    await socket.send_json_to({"action": "sync", "version": version})
    assert await socket.receive_nothing(timeout=0.3)
    await socket.send_json_to({"action": "sync", "version": version - 1})
    assert (await next_of(socket, "snapshot"))["version"] == version
    await socket.disconnect()


async def test_bursts_are_coalesced_to_the_latest_state(live_meeting, councillor):
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await drain(socket)

    def burst(n: int) -> None:
        for _ in range(n):
            with transaction.atomic():
                live.sitting_changed(live_meeting)

    started = time.monotonic()
    await database_sync_to_async(burst)(40)
    elapsed = time.monotonic() - started
    texts = await drain(socket, quiet=0.6)
    updates = [json.loads(text) for text in texts]
    # At most one push per interval while the burst lasts (a slower database
    # makes it last longer), plus the first and the trailing one; far fewer
    # than the 40 changes.
    allowed = int(elapsed / live.PUBLISH_INTERVAL) + 2
    assert 1 <= len(updates) <= allowed
    assert len(updates) < 40
    assert updates[-1]["version"] == await db_version(live_meeting)
    await socket.disconnect()


async def test_public_stream_never_carries_closed_session_details(
    live_meeting, items, chair, councillor
):
    await database_sync_to_async(arrive)(live_meeting, councillor)
    public = await open_socket(live_meeting, public=True)
    first = await next_of(public, "snapshot")
    assert first["data"]["item"]["title"] == "Budget 2027"
    assert first["data"]["stream"] == "https://stream.example.org/live"
    assert "present_ids" not in first["data"]
    await drain(public)  # whatever was pushed before closed session
    texts = []
    steps = [
        (services.sitting_enter_closed_session, {}),
        (services.sitting_move_to_item, {"item": items["closed"]}),
    ]
    for function, kwargs in steps:
        await run(function, meeting=live_meeting, by=chair, **kwargs)
        texts += await drain(public)
    await run(services.floor_request, meeting=live_meeting, by=councillor)
    texts += await drain(public)
    await run(services.floor_grant, meeting=live_meeting, by=chair)
    texts += await drain(public)
    await public.send_json_to({"action": "resync"})
    texts += await drain(public)
    assert texts
    everything = "\n".join(texts)
    assert "Nomination secrète" not in everything
    assert councillor.display_name not in everything
    assert "stream.example.org" not in everything
    last = json.loads(texts[-1])
    assert last["type"] == "snapshot"
    assert last["data"]["closed_session"] is True
    assert last["data"]["speaker"] is None and last["data"]["queue"] == []
    assert last["data"]["item"] == {"id": None, "closed": True}
    await public.disconnect()


async def test_members_stream_does_carry_the_closed_item(
    live_meeting, items, chair, councillor
):
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await run(services.sitting_enter_closed_session, meeting=live_meeting, by=chair)
    await asyncio.sleep(live.PUBLISH_INTERVAL)
    await run(
        services.sitting_move_to_item,
        meeting=live_meeting,
        item=items["closed"],
        by=chair,
    )
    texts = "\n".join(await drain(socket))
    assert "Nomination secrète" in texts
    await socket.disconnect()


@pytest.mark.parametrize(
    "garbage",
    [
        "not json",
        "[1, 2, 3]",
        '{"action": 42}',
        '{"action": "explode"}',
        '{"action": "sync", "version": "x"}',
        "x" * 5000,
    ],
)
async def test_garbage_gets_an_error_and_repeated_garbage_closes(
    live_meeting, councillor, garbage
):
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await drain(socket)
    for _ in range(consumers.MAX_BAD_MESSAGES - 1):
        await socket.send_to(text_data=garbage)
        assert (await next_of(socket, "error"))["code"]
    await socket.send_to(text_data=garbage)
    assert (await next_of(socket, "error"))["type"] == "error"
    closed = await socket.receive_output(timeout=1)
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_BAD_CLIENT}
    # The server is still up: a new connection works.
    again = await open_socket(live_meeting, councillor)
    assert (await next_of(again, "snapshot"))["data"]["status"] == "in_session"
    await again.disconnect()


async def test_public_and_staff_cannot_act_on_the_floor(live_meeting, director_general):
    public = await open_socket(live_meeting, public=True)
    await next_of(public, "snapshot")
    await public.send_json_to({"action": "ask_floor"})
    assert (await next_of(public, "error"))["code"] == "unknown_action"
    await public.disconnect()
    staff = await open_socket(live_meeting, director_general)
    await next_of(staff, "snapshot")
    await staff.send_json_to({"action": "ask_floor"})
    assert (await next_of(staff, "error"))["code"] == "forbidden"
    await staff.send_json_to({"action": "join"})
    assert (await next_of(staff, "error"))["code"] == "forbidden"
    await staff.disconnect()
    assert not await database_sync_to_async(AttendanceEvent.objects.exists)()


async def test_public_socket_of_a_draft_meeting_is_refused(meeting):
    meeting.state = Meeting.State.DRAFT
    await database_sync_to_async(meeting.save)()
    communicator = WebsocketCommunicator(
        application, f"/ws/sitting/{meeting.pk}/public/", headers=HEADERS
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4404


async def _wait_grace(monkeypatch) -> None:
    """The grace period is over: the worker runs the absence checks now due."""
    await asyncio.sleep(0.05)  # the disconnect's lease and job are written
    call_command(
        "run_worker", batch=True, no_startup_delay=True, reload=False, interval=0
    )


async def test_connection_lost_past_the_grace_period_records_absence(
    live_meeting, councillor, settings, monkeypatch
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await socket.disconnect()
    await _wait_grace(monkeypatch)
    events = await database_sync_to_async(
        lambda: list(AttendanceEvent.objects.order_by("pk"))
    )()
    assert [(e.kind, e.cause) for e in events] == [
        ("arrived", "joined"),
        ("left", "connection_lost"),
    ]
    # Recorded at the time of the disconnect, not when the check ran.
    assert (events[1].at - events[0].at).total_seconds() < 0.5


async def test_reconnecting_within_the_grace_period_keeps_presence(
    live_meeting, councillor, settings, monkeypatch
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await socket.disconnect()
    again = await open_socket(live_meeting, councillor)
    await next_of(again, "snapshot")
    await _wait_grace(monkeypatch)
    kinds = await database_sync_to_async(
        lambda: list(AttendanceEvent.objects.values_list("kind", flat=True))
    )()
    assert kinds == ["arrived"]
    await again.disconnect()


async def test_leaving_by_the_socket_records_at_once_and_no_second_departure(
    live_meeting, councillor, settings, monkeypatch
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await drain(socket)
    await socket.send_json_to({"action": "leave"})
    update = await next_of(socket, "update")
    assert update["changes"]["present_ids"] == []
    await socket.disconnect()
    await _wait_grace(monkeypatch)
    causes = await database_sync_to_async(
        lambda: list(AttendanceEvent.objects.values_list("cause", flat=True))
    )()
    assert causes == ["joined", "left_button"]
