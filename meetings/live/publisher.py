"""The publisher: a change's version in its transaction, its push after commit.

``sitting_changed(meeting)`` is the one entry point, called by services inside
the transaction of any change to what a sitting shows. It bumps the sitting's
version there (so a rolled-back change bumps nothing, and versions are global
across processes); after commit the new state is built once, diffed against
the last push of each audience, recorded and sent to the audience's group.

Publishes of one sitting are coalesced to at most one per ``PUBLISH_INTERVAL``
in a server process, always carrying the latest state. Under the ASGI server
the push waits on the server's event loop, which the application tells the
publisher about (``serving``); in plain sync code (commands, the task worker)
it goes out at once.
"""

import asyncio
import contextvars
import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F

from meetings.live.contract import AUDIENCES
from meetings.live.snapshot import build_snapshots
from meetings.models import Meeting, SittingState

logger = logging.getLogger(__name__)

PUBLISH_INTERVAL = 0.25  # seconds: at most four pushes a second per sitting
RECORD_ATTEMPTS = 5


def db_call(function):
    """Run database work on the worker pool, not on the one shared thread.

    Channels' default serialises every consumer's queries on one thread per
    process; a storm of connects then queues behind itself. These calls hold
    no thread-bound state, so any worker will do.
    """
    return database_sync_to_async(function, thread_sensitive=False)


def group_name(meeting_id: int, audience: str) -> str:
    """The channel-layer group of one audience of one sitting."""
    return f"sitting.{meeting_id}.{audience}"


def dumps(data) -> str:
    """The one serialisation of what is sent and stored."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


# ---- the version, in the caller's transaction ----------------------------------------


def sitting_changed(meeting: Meeting) -> None:
    """Bump the sitting's version in the caller's transaction; push after commit."""
    updated = SittingState.objects.filter(pk=meeting.pk).update(
        version=F("version") + 1
    )
    if not updated:
        SittingState.objects.get_or_create(meeting_id=meeting.pk)
    transaction.on_commit(partial(request_publish, meeting.pk))


# ---- building and recording an update ----------------------------------------------


@contextmanager
def _one_moment():
    """Reads that all see the database as it stood at one moment.

    On PostgreSQL a REPEATABLE READ transaction (changes keep committing
    meanwhile); on SQLite a transaction. Inside a caller's transaction, the
    caller's is used.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


@dataclass(frozen=True)
class _Unpublished:
    version: int
    published_version: int
    stored: dict[str, str]  # audience -> the JSON last pushed
    snapshots: dict[str, dict]


_NO_STATE = object()


def _read_unpublished(meeting_id: int):
    """The version not yet pushed and the snapshots built after reading it.

    None if there is nothing new to push (or no such meeting); ``_NO_STATE``
    if the sitting has no state yet. One query for the meeting with its
    state, then the snapshot's reads.
    """
    meeting = (
        Meeting.objects.select_related("body", "current_item", "sitting_state")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None:
        return None
    state = getattr(meeting, "sitting_state", None)
    if state is None:
        return _NO_STATE
    if state.published_version >= state.version:
        return None
    return _Unpublished(
        version=state.version,
        published_version=state.published_version,
        stored={a: getattr(state, f"{a}_json") for a in AUDIENCES},
        snapshots=build_snapshots(meeting),
    )


def _update_texts(
    read: _Unpublished, published: int, stored: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each audience's update from ``published`` (whose JSON is ``stored``)."""
    texts, record = {}, {}
    for audience in AUDIENCES:
        new = json.loads(dumps(read.snapshots[audience]))
        old = json.loads(stored[audience] or "{}")
        changes = {k: v for k, v in new.items() if old.get(k) != v}
        changes.update({k: None for k in old if k not in new})
        record[f"{audience}_json"] = dumps(new)
        texts[audience] = dumps(
            {
                "type": "update",
                "version": read.version,
                "prev": published,
                "changes": changes,
            }
        )
    return texts, record


def prepare_update(meeting_id: int) -> dict[str, str] | None:
    """Build, diff and record the next update of each audience; its texts.

    None when there is nothing new to push (see ``_prepare_update``).
    """
    prepared = _prepare_update(meeting_id)
    return prepared[1] if prepared else None


def _prepare_update(meeting_id: int) -> tuple[int, dict[str, str]] | None:
    """The version recorded as pushed and each audience's update text.

    None when there is nothing new to push. No lock is held and no
    transaction is open while building: ballots keep committing. Instead the
    push is recorded only if, when it is recorded, (a) no other publisher (of
    any process) recorded one since the read, so updates form one chain
    ``prev`` -> ``version``, and (b) the version is still the one read: no
    change committed while the snapshot was read (every change bumps the
    version in its own transaction), so the snapshot shows that version and
    no mix of two. If (a) fails the update is diffed again against the newer
    push, or dropped if that one is as new; if (b) fails the snapshot is read
    again in one transaction that sees one moment, and recorded under (a).
    """
    read = _read_unpublished(meeting_id)
    if read is _NO_STATE:
        # Never changed since it was created: its first push is still due.
        SittingState.objects.get_or_create(meeting_id=meeting_id)
        read = _read_unpublished(meeting_id)
    if not isinstance(read, _Unpublished):
        return None
    published, stored = read.published_version, read.stored
    at_one_moment = False
    for _ in range(RECORD_ATTEMPTS):
        texts, record = _update_texts(read, published, stored)
        unchanged = {"published_version": published}
        if not at_one_moment:
            unchanged["version"] = read.version
        if SittingState.objects.filter(pk=meeting_id, **unchanged).update(
            published_version=read.version, **record
        ):
            return read.version, texts
        row = (
            SittingState.objects.filter(pk=meeting_id)
            .values_list("version", "published_version", "members_json", "public_json")
            .first()
        )
        if row is None or row[1] >= read.version:
            return None  # another publisher pushed this state or a later one
        if row[0] != read.version and not at_one_moment:
            # A change committed while this snapshot was read.
            with _one_moment():
                read = _read_unpublished(meeting_id)
            if not isinstance(read, _Unpublished):
                return None
            at_one_moment = True
            published, stored = read.published_version, read.stored
        else:
            published, stored = row[1], dict(zip(AUDIENCES, row[2:], strict=True))
    logger.warning("sitting %s: no push recorded after retries", meeting_id)
    return None


async def publish(meeting_id: int) -> None:
    """Push the latest state of the sitting to both audiences, if it moved on."""
    prepared = await db_call(_prepare_update)(meeting_id)
    if not prepared:
        return
    version, texts = prepared
    layer = get_channel_layer()
    if layer is None:
        return
    for audience, text in texts.items():
        group = group_name(meeting_id, audience)
        message = {
            "type": "sitting.message",
            "group": group,
            "text": text,
            "version": version,
        }
        try:
            await layer.group_send(group, message)
        except Exception:
            # A lost push is healed by the next update's version chain or a
            # resync; it must never fail the change that was committed.
            logger.exception("push to sitting %s failed", meeting_id)


# ---- coalescing, on the server's loop ------------------------------------------------

_last_publish: dict[int, float] = {}
_pending: dict[int, asyncio.Task] = {}


async def _publish_later(meeting_id: int, delay: float) -> None:
    try:
        await asyncio.sleep(delay)
    finally:
        _pending.pop(meeting_id, None)
    _last_publish[meeting_id] = time.monotonic()
    await publish(meeting_id)


def publish_soon(meeting_id: int) -> None:
    """Schedule a push on the running loop, coalesced with any pending one.

    Called on the loop's own thread. The push is always a task, never awaited
    by the caller: a change's thread must not wait for the push, which needs a
    worker thread of its own to read the snapshot (with every worker casting
    a ballot at once, none would be left to build it).
    """
    pending = _pending.get(meeting_id)
    if (
        pending is not None
        and not pending.done()
        and not pending.get_loop().is_closed()
    ):
        return  # the pending push will carry this change too
    wait = _last_publish.get(meeting_id, 0.0) + PUBLISH_INTERVAL - time.monotonic()
    # A fresh context: the caller's (its database connection included) is not
    # the push's.
    _pending[meeting_id] = asyncio.get_running_loop().create_task(
        _publish_later(meeting_id, max(wait, 0.0)), context=contextvars.Context()
    )


@dataclass(frozen=True)
class _ServerLoop:
    loop: asyncio.AbstractEventLoop
    pid: int


_server: _ServerLoop | None = None


def remember_server_loop() -> None:
    """Tell the publisher that the running loop serves this process.

    Called from async code of the ASGI application (``serving`` does, at
    every connection); delayed pushes then wait on this loop.
    """
    global _server
    loop = asyncio.get_running_loop()
    if _server is None or _server.loop is not loop or _server.pid != os.getpid():
        _server = _ServerLoop(loop, os.getpid())


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The loop serving this process, if one is running (not one of a parent's)."""
    server = _server
    if server is None or server.pid != os.getpid():
        return None
    if server.loop.is_closed() or not server.loop.is_running():
        return None
    return server.loop


def serving(application):
    """The project's ASGI application, telling the publisher its server loop."""

    async def app(scope, receive, send):
        remember_server_loop()
        return await application(scope, receive, send)

    return app


def request_publish(meeting_id: int) -> None:
    """Push the sitting's new state soon on the server's loop, or now without one.

    Returns at once under a server; in plain sync code it returns once pushed.
    """
    try:
        try:
            loop = asyncio.get_running_loop()  # sync code on a loop's own thread
        except RuntimeError:
            loop = server_loop()
        if loop is None:
            async_to_sync(publish)(meeting_id)
        else:
            loop.call_soon_threadsafe(
                publish_soon, meeting_id, context=contextvars.Context()
            )
    except Exception:
        logger.exception("publishing sitting %s failed", meeting_id)
