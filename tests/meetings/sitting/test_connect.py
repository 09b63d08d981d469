"""Connecting costs a fixed, small number of queries, whatever the council's size."""

import asyncio
from contextlib import contextmanager

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from council.asgi import application
from meetings.live import PUBLIC, connect
from meetings.live.relay import _relays as relays
from tests.conftest import cookie_for
from tests.factories import arrive, make_member
from tests.meetings.sitting.test_websocket import HEADERS, next_of

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def every_query():
    """Every statement of every thread's connection, transaction control included."""
    seen: list[str] = []
    execute, commit = CursorWrapper._execute, BaseDatabaseWrapper._commit

    def counted_execute(self, sql, *args):
        seen.append(sql)
        return execute(self, sql, *args)

    def counted_commit(self):
        seen.append("COMMIT")
        return commit(self)

    CursorWrapper._execute = counted_execute
    BaseDatabaseWrapper._commit = counted_commit
    try:
        yield seen
    finally:
        CursorWrapper._execute = execute
        BaseDatabaseWrapper._commit = commit


async def _connect(meeting, user=None) -> list[str]:
    """The statements of one connect, until the client holds its snapshot."""
    headers = list(HEADERS)
    if user is not None:
        cookie = await database_sync_to_async(cookie_for)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    path = f"/ws/sitting/{meeting.pk}/" + ("public/" if user is None else "")
    socket = WebsocketCommunicator(application, path, headers=headers)
    with every_query() as seen:
        assert (await socket.connect())[0]
        await next_of(socket, "snapshot")
    await socket.disconnect()
    return list(seen)


async def test_public_connect_reads_the_meeting_and_the_stored_snapshot(
    live_meeting, body
):
    await _connect(live_meeting)  # the first connect pushes the first snapshot
    connect._snapshot_cache.clear()
    small = await _connect(live_meeting)
    assert len(small) == 2
    for _ in range(20):
        member = await database_sync_to_async(make_member)(body)
        await database_sync_to_async(arrive)(live_meeting, member)
    await _connect(live_meeting)  # catches up with the arrivals
    # Served from this process's cache: the relay received the push of the
    # cached version, so neither the meeting nor the version is read.
    large = await _connect(live_meeting)
    assert len(large) == 0


async def test_a_public_connect_reads_again_when_the_relay_missed_pushes(
    live_meeting,
):
    await _connect(live_meeting)
    await _connect(live_meeting)
    assert len(await _connect(live_meeting)) == 0
    for relay in relays.values():
        relay.versions.clear()  # as after the relay lost its connection
    # The stored version is read again; the meeting is known to be published.
    assert len(await _connect(live_meeting)) == 1


async def test_a_member_reconnecting_costs_the_same_in_a_larger_council(
    live_meeting, councillor, body
):
    await _connect(live_meeting, councillor)  # arrives, and the push is made
    small = await _connect(live_meeting, councillor)
    for _ in range(20):
        member = await database_sync_to_async(make_member)(body)
        await database_sync_to_async(arrive)(live_meeting, member)
    await _connect(live_meeting, councillor)
    large = await _connect(live_meeting, councillor)
    # The session and its user, the meeting, the roles, the connection
    # recorded, the register's check that the member is already present (in
    # its transaction); the snapshot is the cached one the relay last received.
    assert len(large) == len(small) <= 8


async def test_clients_finding_the_cache_behind_at_once_read_the_row_once(
    live_meeting,
):
    await _connect(live_meeting)
    connect._snapshot_cache.clear()
    with every_query() as seen:
        texts = await asyncio.gather(
            *(connect.snapshot_message(live_meeting.pk, PUBLIC) for _ in range(10))
        )
    assert len(seen) == 1
    assert len(set(texts)) == 1 and '"type":"snapshot"' in texts[0]
