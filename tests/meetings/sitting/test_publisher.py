"""The publisher: consistent pushes without a lock, and the loop a push waits on."""

import asyncio
import json
import os
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.db import transaction
from django.db.models import F

from council.asgi import application
from meetings import live
from meetings.live import publisher
from meetings.models import SittingState
from meetings.services import sitting as services
from tests.conftest import cookie_for, start_test_server, stop_test_server
from tests.factories import arrive


def _changed(meeting) -> None:
    with transaction.atomic():
        live.sitting_changed(meeting)


@pytest.fixture
def part():
    """A snapshot part whose build can act as a concurrent writer would."""
    during_build = []

    def build(meeting, register):
        if during_build:
            during_build.pop(0)(meeting)
        return {"built": True}

    live.register_snapshot_part("probe", build)
    yield during_build
    live.unregister_snapshot_part("probe")


# ---- pushes stay consistent without a lock ------------------------------------------


@pytest.mark.django_db
def test_a_change_committed_while_building_is_not_pushed_as_the_older_version(
    live_meeting, councillor, part
):
    publisher.prepare_update(live_meeting.pk)
    _changed(live_meeting)
    before = SittingState.objects.get(pk=live_meeting.pk).version

    def a_change_commits(meeting):
        # Between the version read and the record: the build may mix states.
        arrive(meeting, councillor)
        SittingState.objects.filter(pk=meeting.pk).update(version=F("version") + 1)

    part.append(a_change_commits)
    update = json.loads(publisher.prepare_update(live_meeting.pk)["members"])
    state = SittingState.objects.get(pk=live_meeting.pk)
    # Read again: pushed as the newer version, with the change in it.
    assert update["version"] == state.published_version == before + 1
    assert update["changes"]["present_ids"] == [councillor.pk]
    assert json.loads(state.members_json)["present_ids"] == [councillor.pk]


@pytest.mark.django_db
def test_a_push_recorded_meanwhile_by_another_process_is_not_repeated(
    live_meeting, part
):
    publisher.prepare_update(live_meeting.pk)
    _changed(live_meeting)

    def another_publisher_pushes_it(meeting):
        state = SittingState.objects.get(pk=meeting.pk)
        SittingState.objects.filter(pk=meeting.pk).update(
            published_version=state.version
        )

    part.append(another_publisher_pushes_it)
    assert publisher.prepare_update(live_meeting.pk) is None


@pytest.mark.django_db
def test_an_older_push_recorded_meanwhile_is_the_base_of_the_diff(live_meeting, part):
    first = json.loads(publisher.prepare_update(live_meeting.pk)["public"])
    _changed(live_meeting)
    _changed(live_meeting)
    older = first["version"] + 1
    stored = json.loads(SittingState.objects.get(pk=live_meeting.pk).public_json)

    def another_publisher_pushes_an_older_version(meeting):
        SittingState.objects.filter(pk=meeting.pk).update(
            published_version=older,
            public_version=older,  # it changed what the public sees
            public_json=json.dumps(stored | {"status": "suspended"}),
        )

    part.append(another_publisher_pushes_an_older_version)
    update = json.loads(publisher.prepare_update(live_meeting.pk)["public"])
    assert update["prev"] == older
    assert update["version"] == older + 1
    assert update["changes"] == {"status": "in_session"}


# ---- the loop a push waits on ------------------------------------------------------


@pytest.fixture
def no_server_loop(monkeypatch):
    monkeypatch.setattr(publisher, "_server", None)


@pytest.mark.django_db(transaction=True)
def test_plain_sync_code_pushes_before_the_service_returns(
    live_meeting, councillor, no_server_loop
):
    arrive(live_meeting, councillor)
    services.floor_request(meeting=live_meeting, by=councillor)
    state = SittingState.objects.get(pk=live_meeting.pk)
    assert state.published_version == state.version
    assert json.loads(state.members_json)["queue"][0]["person_id"] == councillor.pk


def test_no_server_loop_outside_a_server(no_server_loop):
    assert publisher.server_loop() is None


async def test_the_asgi_application_tells_the_publisher_its_loop(no_server_loop):
    assert publisher.server_loop() is None
    communicator = HttpCommunicator(application, "GET", "/healthz-not-a-page/")
    await communicator.get_response()
    assert publisher.server_loop() is asyncio.get_running_loop()
    # Sync code in a worker thread of this server schedules on this loop.
    seen = []
    publisher_soon = publisher.publish_soon

    def publish_soon(meeting_id):
        seen.append((meeting_id, threading.get_ident()))
        publisher_soon(meeting_id)

    publisher.publish_soon = publish_soon
    try:
        await sync_to_async(live.request_publish, thread_sensitive=False)(-1)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
    finally:
        publisher.publish_soon = publisher_soon
        for task in list(publisher._pending.values()):
            task.cancel()
    assert seen == [(-1, threading.get_ident())]


async def test_a_stopped_loop_or_one_of_another_process_is_not_waited_on(
    no_server_loop,
):
    live.remember_server_loop()
    loop = asyncio.get_running_loop()
    assert publisher.server_loop() is loop
    publisher._server = publisher._ServerLoop(loop, os.getpid() + 1)  # a parent's
    assert publisher.server_loop() is None
    other = asyncio.new_event_loop()
    other.close()
    publisher._server = publisher._ServerLoop(other, os.getpid())
    assert publisher.server_loop() is None


# ---- under Daphne ------------------------------------------------------------------


@pytest.fixture
def daphne(django_db_blocker):
    process = start_test_server(django_db_blocker, serve_static=False)
    yield f"127.0.0.1:{process.port.value}"
    stop_test_server(process)


async def _floor_over_daphne(server: str, meeting_id: int, cookie: str) -> list:
    import websockets

    async def receive(socket, kind: str) -> dict:
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            if message["type"] == kind:
                return message

    async with websockets.connect(
        f"ws://{server}/ws/sitting/{meeting_id}/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as socket:
        snapshot = await receive(socket, "snapshot")
        for action in ("ask_floor", "withdraw", "ask_floor"):
            await socket.send(json.dumps({"action": action}))
        updates = [await receive(socket, "update")]
        while True:  # every update, until the sitting stays quiet
            try:
                updates.append(await asyncio.wait_for(receive(socket, "update"), 1.5))
            except TimeoutError:
                return [snapshot, *updates]


@pytest.mark.django_db(transaction=True)
def test_under_daphne_changes_are_pushed_and_coalesced(
    daphne, live_meeting, councillor
):
    arrive(live_meeting, councillor)
    messages = asyncio.run(
        _floor_over_daphne(daphne, live_meeting.pk, cookie_for(councillor))
    )
    snapshot, *updates = messages
    chain = [snapshot["version"]]
    for update in updates:
        assert update["prev"] == chain[-1]
        chain.append(update["version"])
    assert 1 <= len(updates) <= 3
    assert updates[-1]["changes"]["queue"][0]["person_id"] == councillor.pk
    state = SittingState.objects.get(pk=live_meeting.pk)
    assert chain[-1] == state.published_version == state.version
