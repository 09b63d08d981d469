"""What a client gets when it connects or falls behind, and its cache.

A connecting client is sent the last pushed snapshot of its audience, as
stored by the publisher: a storm of reconnects builds nothing, and the text is
serialised once per version in each process. When the process's relay has
received the push of the cached version (it follows the audience's group), the
client gets the cached text with no query at all; otherwise one row is read.
If the latest change is not pushed yet (or never was), it is pushed first,
once for all the clients of the process that connect meanwhile. The client
joins its group before this, so any later push reaches it as an update.

A client's periodic ``sync`` is compared with the sitting's current version
(``behind``): a change whose push failed or was lost is pushed then, and the
client sent the fresh snapshot.

Connections of members who attend are leases on their presence
(``meetings.live.presence``): the absence check after the grace period asks
whether a member is still, or again, online.
"""

import asyncio
import datetime
import logging

from django.db.models import Case, F, TextField, Value, When

from meetings.live import presence, publisher
from meetings.live.background import background
from meetings.live.publisher import VERSION_FIELD, db_call
from meetings.models import Meeting, SittingState

logger = logging.getLogger(__name__)

_snapshot_cache: dict[tuple[int, str], tuple[int, str]] = {}


def _stored(
    meeting_id: int, audience: str, known: int | None
) -> tuple[int, int, int, str] | None:
    """Version, published version, the audience's version, and its snapshot.

    The snapshot is read unless the audience's version is ``known``: one
    query; the text is read only if it is not the one cached.
    """
    shown = VERSION_FIELD[audience]
    return (
        SittingState.objects.filter(pk=meeting_id)
        .annotate(
            text=Case(
                When(**{shown: known}, then=Value("")),
                default=F(f"{audience}_json"),
                output_field=TextField(),
            )
        )
        .values_list("version", "published_version", shown, "text")
        .first()
    )


def _shared(running: dict, key, start) -> asyncio.Task:
    """The task running for ``key`` in this loop, or a new one from ``start()``.

    Clients of the process that ask the same thing meanwhile await the same
    task; it runs in a fresh context, as it outlives the client that started
    it, and leaves ``running`` when done.
    """
    loop = asyncio.get_running_loop()
    task = running.get(key)
    if task is None or task.done() or task.get_loop() is not loop:
        task = background(start(), name=f"shared {key}", awaited=True)
        running[key] = task
        task.add_done_callback(
            lambda done: running.pop(key) if running.get(key) is done else None
        )
    return task


_catching_up: dict[int, asyncio.Task] = {}


async def _catch_up(meeting_id: int) -> None:
    """Push now; clients of this process that ask meanwhile wait for the same push.

    Nothing to do if this process holds the change for its tick (it is paced).
    """
    if publisher.held(meeting_id):
        return
    task = _shared(_catching_up, meeting_id, lambda: publisher.publish(meeting_id))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        raise
    except Exception:
        # The client gets what was pushed last, and the next update.
        logger.exception("catching up sitting %s failed", meeting_id)


_reading: dict[tuple[int, str, int | None], asyncio.Task] = {}


async def _read_stored(
    meeting_id: int, audience: str, known: int | None
) -> tuple[int, int, int, str] | None:
    """``_stored``, read once for all the clients of the process asking meanwhile.

    In a storm of reconnects after a push, every client finds the cache one
    version behind at the same moment: one of them reads the row, the others
    wait for its answer (the same question: same audience, same cached version).
    """
    task = _shared(
        _reading,
        (meeting_id, audience, known),
        lambda: db_call(_stored)(meeting_id, audience, known),
    )
    return await asyncio.shield(task)


def cached_version(meeting_id: int, audience: str) -> int | None:
    """The version of the audience's snapshot cached in this process, if any."""
    cached = _snapshot_cache.get((meeting_id, audience))
    return cached[0] if cached else None


def cached_message(meeting_id: int, audience: str, relayed: int | None) -> str | None:
    """The cached snapshot message of the audience if it is of version ``relayed``.

    ``relayed`` is the last version this process's relay received for the
    audience (``Relay.version_of``): when the cache holds that version, it is
    the latest pushed one, and it costs no query.
    """
    cached = _snapshot_cache.get((meeting_id, audience))
    if cached is not None and relayed is not None and cached[0] == relayed:
        return cached[1]
    return None


async def snapshot_message(
    meeting_id: int, audience: str, relayed: int | None = None
) -> str:
    """The full snapshot message of the audience, as sent.

    With ``relayed`` (see ``cached_message``) the cached text of that version
    is sent as it is; otherwise the stored version is read (one query).
    """
    text = cached_message(meeting_id, audience, relayed)
    if text is not None:
        return text
    cached = _snapshot_cache.get((meeting_id, audience))
    known = cached[0] if cached else None
    row = await _read_stored(meeting_id, audience, known)
    if row is None or row[1] < row[0]:
        await _catch_up(meeting_id)
        row = await _read_stored(meeting_id, audience, known)
    version = row[2] if row else 0
    if cached and version == cached[0]:
        return cached[1]
    data = row[3] if row and row[3] else "{}"
    text = f'{{"type":"snapshot","version":{version},"data":{data}}}'
    _snapshot_cache[(meeting_id, audience)] = (version, text)
    return text


def _versions(meeting_id: int, audience: str) -> tuple[int, int, int] | None:
    return (
        SittingState.objects.filter(pk=meeting_id)
        .values_list("version", "published_version", VERSION_FIELD[audience])
        .first()
    )


async def published_version(meeting_id: int, audience: str) -> int:
    """The version the audience's clients hold after the last push."""
    row = await db_call(_versions)(meeting_id, audience)
    return row[2] if row else 0


async def behind(meeting_id: int, audience: str, held: int) -> bool:
    """Whether a client holding version ``held`` must be sent the snapshot.

    Compared with the sitting's current version: when the last change is not
    pushed yet (its push failed, or was lost), it is pushed first. One query
    when the client is current.
    """
    row = await db_call(_versions)(meeting_id, audience)
    if row is None:
        return False
    if row[1] < row[0]:
        await _catch_up(meeting_id)
        row = await db_call(_versions)(meeting_id, audience) or row
    return held != row[2]


def connection_opened(
    *, meeting: Meeting, person, connection_id: str, at: datetime.datetime | None = None
) -> None:
    """An attending member's page is connected: it holds a lease on their presence."""
    presence.lease_open(
        meeting_id=meeting.pk, person_id=person.pk, connection_id=connection_id, at=at
    )


def connection_closed(*, connection_id: str, check_absence: bool = True) -> None:
    """The page is gone: its lease ends, and the member's absence is checked after
    the grace period (``meetings.tasks.absence_check``) unless they left on purpose.
    """
    presence.lease_close(connection_id=connection_id, check_absence=check_absence)
