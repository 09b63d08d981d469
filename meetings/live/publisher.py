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

An audience whose snapshot did not change gets no message: the public stream
is silent through a closed session's ballots (``SittingState.public_version``
is the version its clients hold). A change made only of paced parts (see
``SnapshotPart.pace``: a secret ballot's count) waits on the server's loop
for the next tick of the clock, so no push times one ballot.

A push that fails (the database or the channel layer is down) is retried with
backoff (``RETRY_DELAYS``) for ``RETRY_FOR`` seconds; the outage is logged
once, and once more when it is over. Past that, a client's ``sync`` asks for
the push again.
"""

import asyncio
import contextvars
import json
import logging
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F

from meetings.live.background import Outage, background
from meetings.live.contract import AUDIENCES, MEMBERS, PUBLIC
from meetings.live.snapshot import build_snapshots, snapshot_parts
from meetings.models import Meeting, SittingState

logger = logging.getLogger(__name__)

PUBLISH_INTERVAL = 0.25  # seconds: at most four pushes a second per sitting
RECORD_ATTEMPTS = 5
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)  # seconds between attempts; the last repeats
RETRY_FOR = 120.0  # seconds a failed push is retried on the server's loop
RETRY_FOR_SYNC = 2.0  # ... and in plain sync code, which waits for it
TICK_SLACK = 0.05  # seconds: a held push woken this early is on its tick

# The version an audience's clients hold: members get every push (so their
# version is the published one); the public only those that change its view.
VERSION_FIELD = {MEMBERS: "published_version", PUBLIC: "public_version"}

_database = Outage("reading the sitting for a push", logger)
_layer = Outage("sending a push on the channel layer", logger)


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
    public_version: int
    stored: dict[str, str]  # audience -> the JSON last pushed
    snapshots: dict[str, dict]


@dataclass(frozen=True)
class Held:
    """Nothing pushed: the change is paced, due at ``until`` (``time.time()``)."""

    until: float


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
        public_version=state.public_version,
        stored={a: getattr(state, f"{a}_json") for a in AUDIENCES},
        snapshots=build_snapshots(meeting),
    )


def _diffs(read: _Unpublished, stored: dict[str, str]) -> dict[str, tuple]:
    """Each audience's new snapshot (JSON-ready), its last push, and the changes."""
    diffs = {}
    for audience in AUDIENCES:
        new = json.loads(dumps(read.snapshots[audience]))
        old = json.loads(stored[audience] or "{}")
        changes = {k: v for k, v in new.items() if old.get(k) != v}
        changes.update({k: None for k in old if k not in new})
        diffs[audience] = (new, old, changes, not stored[audience])
    return diffs


def _held_until(read: _Unpublished, stored: dict[str, str]) -> float | None:
    """When a change made only of paced parts is due; None to push it now."""
    parts = snapshot_parts()
    pace = 0.0
    for new, old, changes, first in _diffs(read, stored).values():
        if first:
            return None
        for key in changes:
            part = parts.get(key)
            seconds = part.pace(old.get(key), new.get(key)) if part and part.pace else 0
            if seconds <= 0:
                return None
            pace = max(pace, seconds)
    if not pace:
        return None
    # On a grid of the clock, the same in every process: pushes from two
    # processes fall on the same ticks.
    return (math.floor(time.time() / pace) + 1) * pace


def _update_texts(
    read: _Unpublished, published: int, stored: dict[str, str], public: int
) -> tuple[dict[str, str], dict[str, object]]:
    """Each audience's update from ``published`` (whose JSON is ``stored``).

    ``public`` is the version the public's clients hold. An audience other
    than the members' whose view did not change gets no text, and keeps its
    version.
    """
    texts, record = {}, {}
    held = {MEMBERS: published, PUBLIC: public}
    for audience, (new, _old, changes, first) in _diffs(read, stored).items():
        if audience != MEMBERS and not changes and not first:
            continue
        record[f"{audience}_json"] = dumps(new)
        if audience != MEMBERS:
            record[VERSION_FIELD[audience]] = read.version
        texts[audience] = dumps(
            {
                "type": "update",
                "version": read.version,
                "prev": held[audience],
                "changes": changes,
            }
        )
    return texts, record


def prepare_update(meeting_id: int) -> dict[str, str] | None:
    """Build, diff and record the next update of each audience; its texts.

    None when there is nothing new to push (see ``_prepare_update``); an
    audience whose view did not change has no text. Paced changes are not
    held.
    """
    prepared = _prepare_update(meeting_id)
    return prepared[1] if prepared else None


def _prepare_update(
    meeting_id: int, *, hold_paced: bool = False
) -> tuple[int, dict[str, str]] | Held | None:
    """The version recorded as pushed and each audience's update text.

    None when there is nothing new to push; with ``hold_paced``, ``Held``
    (nothing recorded) when the change is made only of paced parts (see
    ``_held_until``). No lock is held and no
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
    published, public = read.published_version, read.public_version
    stored = read.stored
    at_one_moment = False
    for _ in range(RECORD_ATTEMPTS):
        if hold_paced:
            until = _held_until(read, stored)
            if until is not None:
                return Held(until)
        texts, record = _update_texts(read, published, stored, public)
        unchanged = {"published_version": published}
        if not at_one_moment:
            unchanged["version"] = read.version
        if SittingState.objects.filter(pk=meeting_id, **unchanged).update(
            published_version=read.version, **record
        ):
            return read.version, texts
        row = (
            SittingState.objects.filter(pk=meeting_id)
            .values_list(
                "version",
                "published_version",
                "public_version",
                "members_json",
                "public_json",
            )
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
            published, public = read.published_version, read.public_version
            stored = read.stored
        else:
            published, public = row[1], row[2]
            stored = dict(zip(AUDIENCES, row[3:], strict=True))
    logger.warning("sitting %s: no push recorded after retries", meeting_id)
    return None


async def _retrying(attempt, outage: Outage, retryable, give_up):
    """``await attempt()``, again after each ``retryable`` failure, with backoff.

    Stops when ``give_up(seconds_since_the_first_try)`` says so; the outage
    is logged once. Returns ``attempt``'s result, or ``_GAVE_UP``.
    """
    started = time.monotonic()
    tries = 0
    while True:
        try:
            result = await attempt()
        except retryable as exc:
            outage.failed(exc)
            delay = RETRY_DELAYS[min(tries, len(RETRY_DELAYS) - 1)]
            tries += 1
            if give_up(time.monotonic() - started + delay):
                logger.warning("%s: gave up after %d attempts", outage.what, tries)
                return _GAVE_UP
            await asyncio.sleep(delay)
            continue
        outage.recovered()
        return result


_GAVE_UP = object()
_newest: dict[int, int] = {}  # meeting -> the newest version this process pushed


async def _push(meeting_id: int, *, hold_paced: bool, retry_for: float):
    """Prepare and send the next update; ``Held`` if paced, else None."""
    prepared = await _retrying(
        lambda: db_call(_prepare_update)(meeting_id, hold_paced=hold_paced),
        _database,
        (OperationalError, InterfaceError),
        lambda waited: waited > retry_for,
    )
    if isinstance(prepared, Held):
        return prepared
    if not prepared or prepared is _GAVE_UP:
        return None
    version, texts = prepared
    _newest[meeting_id] = max(_newest.get(meeting_id, 0), version)
    layer = get_channel_layer()
    if layer is None:
        return None
    for audience, text in texts.items():
        group = group_name(meeting_id, audience)
        message = {
            "type": "sitting.message",
            "group": group,
            "text": text,
            "version": version,
        }
        # A newer push makes this one moot: its clients will resync from it.
        await _retrying(
            partial(layer.group_send, group, message),
            _layer,
            Exception,
            lambda waited, v=version: (
                waited > retry_for or _newest.get(meeting_id, 0) > v
            ),
        )
    return None


async def publish(meeting_id: int) -> None:
    """Push the latest state of the sitting to both audiences, if it moved on.

    On the server's loop a paced change is held for its tick (a push is then
    scheduled); elsewhere it goes out at once. Never raises for a failed push.
    """
    serving = server_loop() is asyncio.get_running_loop()
    try:
        held = await _push(
            meeting_id,
            hold_paced=serving,
            retry_for=RETRY_FOR if serving else RETRY_FOR_SYNC,
        )
    except Exception:
        logger.exception("pushing sitting %s failed", meeting_id)
        return
    if held is not None:
        publish_soon(meeting_id, at=held.until)


def held(meeting_id: int) -> bool:
    """Whether this process holds a paced change of the sitting for its tick."""
    task = _pending.get(meeting_id)
    return meeting_id in _tick and task is not None and not task.done()


# ---- coalescing, on the server's loop ------------------------------------------------

_last_publish: dict[int, float] = {}
_pending: dict[int, asyncio.Task] = {}
_wake: dict[int, asyncio.Event] = {}  # set by a change while the task runs
_tick: dict[int, float] = {}  # when a held change is due (``time.time()``)


async def _publishing(meeting_id: int, delay: float, wake: asyncio.Event) -> None:
    """The sitting's publishing task: pushes until no change is left to push."""
    me = asyncio.current_task()
    try:
        await asyncio.sleep(delay)
        while True:
            wake.clear()
            due = _tick.get(meeting_id)
            on_tick = due is not None and time.time() >= due - TICK_SLACK
            if on_tick:
                _tick.pop(meeting_id, None)
            _last_publish[meeting_id] = time.monotonic()
            try:
                held_change = await _push(
                    meeting_id, hold_paced=not on_tick, retry_for=RETRY_FOR
                )
            except Exception:
                logger.exception("pushing sitting %s failed", meeting_id)
                held_change = None
            if held_change is not None:
                _tick[meeting_id] = min(
                    _tick.get(meeting_id, math.inf), held_change.until
                )
            due = _tick.get(meeting_id)
            if due is None and not wake.is_set():
                return
            timeout = None if due is None else max(due - time.time(), 0.0)
            try:
                await asyncio.wait_for(wake.wait(), timeout)
            except TimeoutError:
                continue  # the tick of a held change
            await asyncio.sleep(PUBLISH_INTERVAL)  # a change came: coalesce
    finally:
        if _pending.get(meeting_id) is me:
            _pending.pop(meeting_id, None)
            _wake.pop(meeting_id, None)
            _tick.pop(meeting_id, None)


def publish_soon(meeting_id: int, *, at: float | None = None) -> None:
    """Schedule a push on the running loop, coalesced with any pending one.

    Called on the loop's own thread. The push is always a task, never awaited
    by the caller: a change's thread must not wait for the push, which needs a
    worker thread of its own to read the snapshot (with every worker casting
    a ballot at once, none would be left to build it). ``at`` schedules a
    held change for its tick.
    """
    pending = _pending.get(meeting_id)
    wake = _wake.get(meeting_id)
    loop = asyncio.get_running_loop()
    if (
        pending is not None
        and wake is not None
        and not pending.done()
        and pending.get_loop() is loop
    ):
        if at is None:
            wake.set()  # the running task pushes this change too
        return
    if at is not None:
        _tick[meeting_id] = at
        wait = at - time.time()
    else:
        _tick.pop(meeting_id, None)
        wait = _last_publish.get(meeting_id, 0.0) + PUBLISH_INTERVAL - time.monotonic()
    wake = _wake[meeting_id] = asyncio.Event()
    _pending[meeting_id] = background(
        _publishing(meeting_id, max(wait, 0.0), wake), name=f"publish {meeting_id}"
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
