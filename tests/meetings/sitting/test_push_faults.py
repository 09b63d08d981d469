"""Pushes heal themselves: Redis restarted, the database failing, a lost push.

The Redis test starts a ``redis-server`` of its own on a free port, kills it
under a connected relay and starts it again on the same port.
"""

import asyncio
import gc
import logging
import shutil
import socket
import subprocess
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.db import OperationalError

from meetings.live import publisher
from meetings.live.relay import _relays
from meetings.models import SittingState
from meetings.services import sitting as services
from meetings.services.meetings import meeting_resume
from tests.factories import arrive
from tests.meetings.sitting.test_websocket import drain, next_of, open_socket, run

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_PORTS = range(16310, 16320)


# ---- a Redis of the test's own --------------------------------------------------


def _free_port() -> int:
    for port in REDIS_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {REDIS_PORTS}")


class OwnRedis:
    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary")
    redis = OwnRedis(_free_port())
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture
def own_layer(settings, own_redis):
    """The project's Redis channel layer, on the test's own Redis."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "council.channel_layer.BlockingPoolRedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": f"redis://127.0.0.1:{own_redis.port}/0"}],
                "prefix": f"relay-{uuid.uuid4().hex[:8]}",
            },
        }
    }
    channel_layers.backends = {}
    yield own_redis
    channel_layers.backends = {}


@pytest.fixture
async def unretrieved():
    """Every error the loop's exception handler sees ("never retrieved"...)."""
    loop = asyncio.get_running_loop()
    seen: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda loop, context: seen.append(context))
    yield seen
    loop.set_exception_handler(previous)


def _status_of(message: dict) -> str | None:
    if message["type"] == "snapshot":
        return message["data"]["status"]
    if message["type"] == "update":
        return message["changes"].get("status")
    return None


async def _until_status(socket, status: str, timeout: float) -> float:
    """Seconds until a message shows the sitting in ``status``."""
    started = time.monotonic()
    while True:
        left = timeout - (time.monotonic() - started)
        assert left > 0, f"no message showed {status!r} within {timeout} s"
        message = await socket.receive_json_from(timeout=left)
        if _status_of(message) == status:
            return time.monotonic() - started


# ---- Redis restarted ------------------------------------------------------------


@pytest.mark.redis
async def test_pushes_resume_within_two_seconds_after_redis_restarts(
    live_meeting, chair, own_layer, caplog, unretrieved
):
    caplog.set_level(logging.INFO, logger="meetings.live")
    public = await open_socket(live_meeting, public=True)
    await next_of(public, "snapshot")
    await drain(public, quiet=0.3)
    relay = next(iter(_relays.values()))

    await asyncio.to_thread(own_layer.kill)
    await asyncio.sleep(2)  # the relay finds the layer gone and keeps retrying
    await asyncio.to_thread(own_layer.start)  # empty: no group, no membership
    await run(services.sitting_suspend, meeting=live_meeting, by=chair)
    elapsed = await _until_status(public, "suspended", timeout=2)
    # And the pushes after it, which need the relay's membership in Redis.
    await asyncio.sleep(publisher.PUBLISH_INTERVAL)
    await run(meeting_resume, meeting=live_meeting, by=chair)
    again = await _until_status(public, "in_session", timeout=2)
    await public.disconnect()

    relay_warnings = [
        r
        for r in caplog.records
        if r.name == "meetings.live.relay" and r.levelno >= logging.WARNING
    ]
    print(f"after the restart: first push in {elapsed:.2f} s, next in {again:.2f} s")
    assert len(relay_warnings) == 1, [r.getMessage() for r in relay_warnings]
    assert relay.rejoined >= 1
    assert elapsed < 2 and again < 2
    gc.collect()
    assert unretrieved == []


@pytest.mark.redis
async def test_a_relay_whose_memberships_vanished_is_joined_again(
    live_meeting, chair, own_layer
):
    # Redis emptied under a connection that never failed (a restart hidden by
    # a reconnect, or the groups' expiry): only the renewal can notice.
    public = await open_socket(live_meeting, public=True)
    await next_of(public, "snapshot")
    await drain(public, quiet=0.3)
    layer = channel_layers["default"]
    async with layer.connection(0) as connection:
        await connection.flushall()
    await asyncio.sleep(1.5)  # one renewal
    await run(services.sitting_suspend, meeting=live_meeting, by=chair)
    assert await _until_status(public, "suspended", timeout=2) < 2
    await public.disconnect()


async def test_a_push_lost_while_the_relay_was_cut_off_reaches_its_sockets(
    live_meeting, chair, monkeypatch
):
    public = await open_socket(live_meeting, public=True)
    await next_of(public, "snapshot")
    await drain(public, quiet=0.3)
    relay = next(iter(_relays.values()))
    relay.renewer.cancel()  # only the receive loop's own recovery is at work
    layer = relay.layer
    receive, group_add = layer.receive, layer.group_add
    cut_off = True

    def unless_cut_off(call):
        async def calling(*args):
            if cut_off:
                raise ConnectionError("Connection closed by server.")
            return await call(*args)

        return calling

    monkeypatch.setattr(layer, "receive", unless_cut_off(receive))
    monkeypatch.setattr(layer, "group_add", unless_cut_off(group_add))
    # Wake the pending receive: the next one fails.
    await layer.send(
        relay.channel, {"type": "sitting.message", "group": "", "text": ""}
    )
    await asyncio.sleep(0.2)
    # Meanwhile the layer lost the memberships, and a push is lost with them.
    for group in list(relay.local):
        await layer.group_discard(group, relay.channel)
    await run(services.sitting_suspend, meeting=live_meeting, by=chair)
    await asyncio.sleep(0.5)
    assert await public.receive_nothing(timeout=0.1)
    cut_off = False
    message = await public.receive_json_from(timeout=2)
    assert message["type"] == "snapshot"
    assert message["data"]["status"] == "suspended"
    # Joined again: the next push arrives as an update.
    await asyncio.sleep(publisher.PUBLISH_INTERVAL)
    await run(meeting_resume, meeting=live_meeting, by=chair)
    update = await next_of(public, "update")
    assert update["changes"]["status"] == "in_session"
    assert update["prev"] == message["version"]
    await public.disconnect()


# ---- the database failing ---------------------------------------------------------


async def test_a_push_failing_on_the_database_is_retried_and_logged_once(
    live_meeting, chair, monkeypatch, caplog, unretrieved
):
    caplog.set_level(logging.INFO, logger="meetings.live")
    public = await open_socket(live_meeting, public=True)
    await next_of(public, "snapshot")
    await drain(public, quiet=0.3)
    real = publisher._prepare_update
    failures = []

    def failing(meeting_id, **how):
        if len(failures) < 2:
            failures.append(meeting_id)
            raise OperationalError("terminating connection due to administrator")
        return real(meeting_id, **how)

    monkeypatch.setattr(publisher, "_prepare_update", failing)
    await run(services.sitting_suspend, meeting=live_meeting, by=chair)
    # Retried after 0.2 s and 0.5 s.
    assert await _until_status(public, "suspended", timeout=3) < 3
    await public.disconnect()
    assert len(failures) == 2
    warnings = [
        r
        for r in caplog.records
        if r.name == "meetings.live.publisher" and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert not any("never retrieved" in r.getMessage() for r in caplog.records)
    gc.collect()
    assert unretrieved == []
    state = await database_sync_to_async(SittingState.objects.get)(pk=live_meeting.pk)
    assert state.published_version == state.version


async def test_a_push_failing_on_the_channel_layer_is_retried(
    live_meeting, chair, monkeypatch, unretrieved
):
    public = await open_socket(live_meeting, public=True)
    await next_of(public, "snapshot")
    await drain(public, quiet=0.3)
    layer = channel_layers["default"]
    real = layer.group_send
    failures = []

    async def failing(group, message):
        if len(failures) < 2:
            failures.append(group)
            raise ConnectionError("Connection closed by server.")
        return await real(group, message)

    monkeypatch.setattr(layer, "group_send", failing)
    await run(services.sitting_suspend, meeting=live_meeting, by=chair)
    assert await _until_status(public, "suspended", timeout=3) < 3
    await public.disconnect()
    assert len(failures) == 2
    gc.collect()
    assert unretrieved == []


# ---- sync against the current version ----------------------------------------------


async def test_sync_at_the_published_version_gets_the_current_state(
    live_meeting, councillor, monkeypatch
):
    await database_sync_to_async(arrive)(live_meeting, councillor)
    socket = await open_socket(live_meeting, councillor)
    version = (await next_of(socket, "snapshot"))["version"]
    await drain(socket, quiet=0.3)
    # A change whose push never happens (its task died with the database).
    monkeypatch.setattr(publisher, "request_publish", lambda meeting_id: None)
    await run(services.floor_request, meeting=live_meeting, by=councillor)
    assert await socket.receive_nothing(timeout=0.4)
    state = await database_sync_to_async(SittingState.objects.get)(pk=live_meeting.pk)
    assert state.published_version == version < state.version

    await socket.send_json_to({"action": "sync", "version": version})
    snapshot = await next_of(socket, "snapshot")
    assert snapshot["version"] == state.version
    assert snapshot["data"]["queue"][0]["person_id"] == councillor.pk
    state = await database_sync_to_async(SittingState.objects.get)(pk=live_meeting.pk)
    assert state.published_version == state.version
    # Current now: the next sync is answered by nothing.
    await drain(socket, quiet=0.3)
    await socket.send_json_to({"action": "sync", "version": state.version})
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()
