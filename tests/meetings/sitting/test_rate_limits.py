"""A flooding client is refused, then closed; the server's work stays bounded."""

import asyncio
import json
import tracemalloc

import pytest
from channels.db import database_sync_to_async

from council.models import AuditEntry
from meetings import consumers
from meetings.models import FloorRequest
from tests.factories import arrive
from tests.meetings.sitting.test_connect import every_query
from tests.meetings.sitting.test_websocket import drain, next_of, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def _everything(socket, timeout: float = 5) -> tuple[list[dict], int | None]:
    """Every message the server sent until it closed the socket, and the code."""
    messages = []
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return messages, output.get("code")
        messages.append(json.loads(output["text"]))


async def test_a_resync_flood_is_answered_a_few_times_then_closed(
    live_meeting, councillor
):
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await drain(socket, quiet=0.3)
    burst, _ = consumers.RATE_LIMITS["resync"]
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        with every_query() as queries:
            # 20,000 resyncs, none of the answers read meanwhile.
            for _ in range(20_000):
                await socket.send_json_to({"action": "resync"})
            messages, code = await _everything(socket, timeout=30)
        await socket.disconnect(timeout=60)  # once every message was handled
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kinds = [m["type"] for m in messages]
    assert code == consumers.CLOSE_TOO_FAST
    assert kinds.count("snapshot") <= burst + 1  # plus what it earned meanwhile
    assert kinds[-2:] == ["error", "error"]
    assert [m["code"] for m in messages if m["type"] == "error"] == [
        "too_fast",
        "too_fast",
    ]
    # One read of the stored snapshot per answered resync, and no more.
    assert len(queries) <= burst + 1
    # The answers the client never read are all the server holds for it: a few
    # snapshots, not 20,000 (the flood's own messages are the test's).
    print(f"held after 20,000 unread resyncs: {held - before} bytes")
    assert held - before < 1_000_000


async def test_a_floor_flood_writes_a_handful_of_entries_and_pushes(
    live_meeting, councillor
):
    await database_sync_to_async(arrive)(live_meeting, councillor)
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await drain(socket, quiet=0.3)
    audited = await database_sync_to_async(AuditEntry.objects.count)()
    for _ in range(150):
        await socket.send_json_to({"action": "ask_floor"})
        await socket.send_json_to({"action": "withdraw"})
    messages, code = await _everything(socket)
    await socket.disconnect(timeout=10)
    assert code == consumers.CLOSE_TOO_FAST
    burst, _ = consumers.RATE_LIMITS["floor"]
    requests = await database_sync_to_async(FloorRequest.objects.count)()
    entries = await database_sync_to_async(AuditEntry.objects.count)() - audited
    assert requests <= burst
    assert entries <= burst + 1
    updates = [m for m in messages if m["type"] == "update"]
    assert len(updates) <= burst + 1


async def test_a_client_keeping_to_its_rate_is_never_refused(
    live_meeting, councillor, monkeypatch
):
    # The same budget earned back fast: ten times the burst, spaced out.
    monkeypatch.setitem(consumers.RATE_LIMITS, "sync", (2, 0.1))
    socket = await open_socket(live_meeting, councillor)
    version = (await next_of(socket, "snapshot"))["version"]
    await drain(socket, quiet=0.3)
    for _ in range(20):
        await socket.send_json_to({"action": "sync", "version": version})
        await asyncio.sleep(0.06)
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_the_public_stream_is_limited_too(live_meeting):
    socket = await open_socket(live_meeting, public=True)
    await next_of(socket, "snapshot")
    for _ in range(1000):
        await socket.send_json_to({"action": "sync", "version": 0})
    messages, code = await _everything(socket)
    await socket.disconnect(timeout=10)
    assert code == consumers.CLOSE_TOO_FAST
    burst, _ = consumers.RATE_LIMITS["sync"]
    assert sum(m["type"] == "snapshot" for m in messages) <= burst + 1


async def test_a_ping_flood_is_closed_after_a_bounded_number_of_pongs(
    live_meeting, councillor
):
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await drain(socket, quiet=0.3)
    for _ in range(10_000):
        await socket.send_json_to({"action": "ping"})
    messages, code = await _everything(socket, timeout=30)
    await socket.disconnect(timeout=60)
    assert code == consumers.CLOSE_TOO_FAST
    burst, per = consumers.RATE_LIMITS["ping"]
    # The burst, and what it earned back while the flood was read.
    assert sum(m["type"] == "pong" for m in messages) < 10 * burst
