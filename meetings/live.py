"""Contract of the live sitting, shared by the apps that build on meetings.

- ``sitting_changed(meeting)``: call inside the transaction of any service that
  changes what a sitting shows; the sitting's snapshot version is bumped in
  that transaction and, after commit, the change is pushed to members and
  (filtered) to the public.
- ``register_snapshot_part(key, builder)``: an app that builds on meetings
  (voting) adds its part of the snapshot without meetings importing it;
  ``builder(meeting, audience)`` returns JSON-ready data, ``audience`` being
  ``"members"`` or ``"public"``.
- ``register_sitting_panel(template_name)``: a template included on the member's
  sitting page (voting adds its ballot panel); it gets ``meeting``, ``item`` and
  ``user`` in its context.
- In the browser, the live-sitting script dispatches a ``sitting:snapshot``
  CustomEvent on ``document`` with the whole current snapshot (``detail``) after
  every applied update, so other scripts (the ballot) follow the sitting
  without opening their own websocket.
- ``speaking_log(meeting)``: the debate as recorded, for the minutes.

Protocol (server to client, JSON text):
``{"type": "snapshot", "version": V, "data": {...}}`` on connect and on resync;
``{"type": "update", "version": V, "prev": P, "changes": {...}}`` after a change,
``changes`` holding the top-level keys of the snapshot that differ from version
``P``. A client at version P applies it; one at a higher version drops it; any
other client missed a message (Channels drops messages to full channels) and
asks for ``{"action": "resync"}``. Each message is serialised once per audience
by the process that publishes it, and publishes of one sitting are coalesced
to at most one per ``PUBLISH_INTERVAL`` seconds in that process, always with
the latest state.
"""

import asyncio
import contextvars
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import SyncToAsync, async_to_sync
from channels.db import database_sync_to_async as _db_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)


def db_call(function):
    """Run database work on the worker pool, not on the one shared thread.

    Channels' default serialises every consumer's queries on one thread per
    process; a storm of connects then queues behind itself. These calls hold
    no thread-bound state, so any worker will do.
    """
    return _db_sync_to_async(function, thread_sensitive=False)


MEMBERS = "members"
PUBLIC = "public"
AUDIENCES = (MEMBERS, PUBLIC)
PUBLISH_INTERVAL = 0.25  # seconds: at most four pushes a second per sitting

SnapshotBuilder = Callable[[object, str], dict]
_parts: dict[str, SnapshotBuilder] = {}


def register_snapshot_part(key: str, builder: SnapshotBuilder) -> None:
    _parts[key] = builder


def snapshot_parts() -> dict[str, SnapshotBuilder]:
    return dict(_parts)


_panels: list[str] = []


def register_sitting_panel(template_name: str) -> None:
    if template_name not in _panels:
        _panels.append(template_name)


def sitting_panels() -> list[str]:
    return list(_panels)


def group_name(meeting_id: int, audience: str) -> str:
    return f"sitting.{meeting_id}.{audience}"


def _dumps(data) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


# ---- the snapshot --------------------------------------------------------------


def build_snapshot(meeting, audience: str) -> dict:
    """The state of the sitting as one audience may see it, JSON-ready.

    Language-neutral (codes, not labels): it is built once for everyone.
    """
    return build_snapshots(meeting, audiences=(audience,))[audience]


def build_snapshots(meeting, audiences=AUDIENCES) -> dict[str, dict]:
    """The snapshot of each audience, reading the database once for all."""
    from meetings.models import FloorRequest
    from meetings.register import Register

    item = meeting.current_item
    item_closed = item is not None and item.is_closed_session
    register = Register.of(meeting)
    where = {pk: register.place_of(pk) for pk in register.present_ids()}
    room = len(register.room_ids())
    recused = register.recused_ids(item)
    in_office = len(register.in_office_ids)
    q = register.quorum(item)
    requests = list(
        FloorRequest.objects.filter(
            meeting=meeting,
            status__in=[FloorRequest.Status.WAITING, FloorRequest.Status.SPEAKING],
        )
        .select_related("person")
        .order_by("requested_at", "pk")
    )
    speaker = next(
        (r for r in requests if r.status == FloorRequest.Status.SPEAKING), None
    )
    waiting = queue_order(
        [r for r in requests if r.status == FloorRequest.Status.WAITING]
    )

    def person(request) -> dict:
        return {
            "id": request.pk,
            "person_id": request.person_id,
            "name": request.person.display_name,
            "group": request.group,
            "kind": request.kind,
        }

    snapshots = {}
    for audience in audiences:
        public = audience == PUBLIC
        hidden = public and (meeting.closed_session or item_closed)
        data: dict = {
            "meeting": meeting.pk,
            "status": meeting.state,
            "closed_session": meeting.closed_session,
            "item": None,
            "speaker": None,
            "queue": [],
            "attendance": {
                "present": len(where),
                "remote": len(where) - room,
                "room": room,
                "in_office": in_office,
            },
            "quorum": q.as_dict(),
        }
        if item is not None:
            data["item"] = (
                {"id": None, "closed": True}
                if hidden
                else {
                    "id": item.pk,
                    "position": item.position,
                    "title": item.title,
                    "closed": item_closed,
                    "third_convocation": item.third_convocation,
                    "vote_kind": item.vote_kind,
                }
            )
        if not hidden:
            if speaker is not None:
                data["speaker"] = person(speaker) | {
                    "started_at": speaker.granted_at.isoformat(),
                    "limit": speaker.limit_seconds,
                }
            data["queue"] = [person(r) for r in waiting]
        if public:
            data["stream"] = (
                meeting.livestream_url
                if meeting.livestream_url and meeting.is_live and not hidden
                else ""
            )
        else:
            data["present_ids"] = sorted(where)
            data["room_ids"] = sorted(
                p for p, place in where.items() if place == "room"
            )
            data["recused_ids"] = sorted(recused)
        for key, builder in snapshot_parts().items():
            try:
                data[key] = builder(meeting, audience)
            except Exception:
                # Another app's part must not take the whole sitting down.
                logger.exception("snapshot part %s failed", key)
                data[key] = None
        snapshots[audience] = data
    return snapshots


def queue_order(waiting: list) -> list:
    """Points of order first, then everyone in the order they asked."""
    return sorted(
        waiting,
        key=lambda r: (r.kind != "point_of_order", r.requested_at, r.pk),
    )


# ---- versioning ------------------------------------------------------------------


def sitting_changed(meeting) -> None:
    """Bump the sitting's version in the caller's transaction; push after commit."""
    from meetings.models import SittingState

    updated = SittingState.objects.filter(pk=meeting.pk).update(
        version=F("version") + 1
    )
    if not updated:
        SittingState.objects.get_or_create(meeting_id=meeting.pk)
    meeting_id = meeting.pk
    transaction.on_commit(lambda: request_publish(meeting_id))


def _read_unpublished(meeting_id: int) -> tuple[int, dict[str, dict]] | None:
    """The sitting's version and both snapshots, read from one database snapshot.

    No lock: on PostgreSQL the read runs in a REPEATABLE READ transaction, so
    the version and the state it reads match (every change bumps the version
    in its own transaction) while changes keep committing. Building the
    snapshots under the state row's lock, as before, held up every ballot
    (each bumps that row) for the whole build, several times a second during
    a vote.
    """
    from meetings.models import Meeting, SittingState

    # Within a caller's transaction (tests) a savepoint cannot change the
    # isolation level; it reads with the caller's.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = (
            SittingState.objects.filter(pk=meeting_id)
            .values_list("version", "published_version")
            .first()
        )
        if row is None or row[1] >= row[0]:
            return None
        meeting = (
            Meeting.objects.select_related("body", "current_item")
            .filter(pk=meeting_id)
            .first()
        )
        if meeting is None:
            return None
        return row[0], build_snapshots(meeting)


def _publish_texts(meeting_id: int) -> dict[str, str] | None:
    """Build, diff and record the next update of each audience.

    The snapshots are read without a lock (``_read_unpublished``); the state
    row is locked only to diff against the last push and record this one,
    which serialises publishers of one sitting across processes. A publisher
    that finds a push at or past its version already recorded sends nothing.
    """
    from meetings.models import SittingState

    SittingState.objects.get_or_create(meeting_id=meeting_id)
    read = _read_unpublished(meeting_id)
    if read is None:
        return None
    version, snapshots = read
    with transaction.atomic():
        state = SittingState.objects.select_for_update().get(pk=meeting_id)
        if state.published_version >= version:
            return None
        texts = {}
        for audience, built in snapshots.items():
            data = json.loads(_dumps(built))
            field = f"{audience}_json"
            old = json.loads(getattr(state, field) or "{}")
            changes = {k: v for k, v in data.items() if old.get(k) != v}
            changes.update({k: None for k in old if k not in data})
            setattr(state, field, _dumps(data))
            texts[audience] = _dumps(
                {
                    "type": "update",
                    "version": version,
                    "prev": state.published_version,
                    "changes": changes,
                }
            )
        state.published_version = version
        state.save(update_fields=["published_version", "members_json", "public_json"])
    return texts


async def publish(meeting_id: int) -> None:
    """Push the latest state of the sitting to both audiences, if it moved on."""
    texts = await db_call(_publish_texts)(meeting_id)
    if not texts:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    for audience, text in texts.items():
        try:
            group = group_name(meeting_id, audience)
            await layer.group_send(
                group, {"type": "sitting.message", "group": group, "text": text}
            )
        except Exception:
            # A lost push is healed by the next update's version chain or a
            # resync; it must never fail the change that was committed.
            logger.exception("push to sitting %s failed", meeting_id)


_last_publish: dict[int, float] = {}
_pending: dict[int, asyncio.Task] = {}


async def _publish_later(meeting_id: int, delay: float) -> None:
    try:
        await asyncio.sleep(delay)
    finally:
        _pending.pop(meeting_id, None)
    _last_publish[meeting_id] = time.monotonic()
    await publish(meeting_id)


async def _request_publish(meeting_id: int) -> None:
    pending = _pending.get(meeting_id)
    if (
        pending is not None
        and not pending.done()
        and not pending.get_loop().is_closed()
    ):
        return  # the pending push will carry this change too
    wait = _last_publish.get(meeting_id, 0.0) + PUBLISH_INTERVAL - time.monotonic()
    # Always a task, never awaited here: the caller is a worker thread blocked
    # in async_to_sync, and publishing needs a worker thread of its own to
    # read the snapshot. Awaiting it held the request (a ballot) for the whole
    # build and, with every worker casting at once, none was left to build:
    # the casts waited for ever. A fresh context: the caller's is gone by the
    # time the push runs.
    _pending[meeting_id] = asyncio.get_running_loop().create_task(
        _publish_later(meeting_id, max(wait, 0.0)), context=contextvars.Context()
    )


def _server_loop_running() -> bool:
    # Under Daphne (or any async caller) sync code runs in a thread whose
    # async_to_sync goes back to the long-lived server loop, where a delayed
    # push can wait. Elsewhere (management commands, plain sync tests) the loop
    # would end with the call, so the push goes out at once.
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    return loop is not None and pid == os.getpid() and loop.is_running()


def request_publish(meeting_id: int) -> None:
    """Push the sitting's new state now, or soon if it was pushed a moment ago."""
    try:
        if _server_loop_running():
            async_to_sync(_request_publish)(meeting_id)
        else:
            async_to_sync(publish)(meeting_id)
    except Exception:
        logger.exception("publishing sitting %s failed", meeting_id)


# ---- what a client gets on connect ---------------------------------------------------

_snapshot_cache: dict[tuple[int, str], tuple[int, str]] = {}


def _published(meeting_id: int, audience: str, known: int | None) -> tuple[int, str]:
    from meetings.models import SittingState

    row = (
        SittingState.objects.filter(pk=meeting_id)
        .values_list("version", "published_version")
        .first()
    )
    if row is None or row[1] < row[0]:
        return (-1, "")  # never pushed, or a push is due: publish first
    if row[1] == known:
        return (row[1], "")
    data = (
        SittingState.objects.filter(pk=meeting_id)
        .values_list(f"{audience}_json", flat=True)
        .first()
    )
    return (row[1], data or "{}")


async def published_version(meeting_id: int) -> int:
    from meetings.models import SittingState

    def read() -> int:
        row = (
            SittingState.objects.filter(pk=meeting_id)
            .values_list("published_version", flat=True)
            .first()
        )
        return row or 0

    return await db_call(read)()


async def snapshot_message(meeting_id: int, audience: str) -> str:
    """The full snapshot as sent, serialised once per version in this process."""
    cached = _snapshot_cache.get((meeting_id, audience))
    known = cached[0] if cached else None
    reader = db_call(_published)
    version, data = await reader(meeting_id, audience, known)
    if version < 0:
        await _ensure_state(meeting_id)
        await publish(meeting_id)
        version, data = await reader(meeting_id, audience, known)
    if cached and version == cached[0]:
        return cached[1]
    text = f'{{"type":"snapshot","version":{version},"data":{data or "{}"}}}'
    _snapshot_cache[(meeting_id, audience)] = (version, text)
    return text


async def _ensure_state(meeting_id: int) -> None:
    from meetings.models import SittingState

    def ensure() -> None:
        SittingState.objects.get_or_create(meeting_id=meeting_id)

    await db_call(ensure)()


# ---- the debate, for the minutes -----------------------------------------------------


@dataclass(frozen=True)
class Speech:
    item_id: int
    order: int
    person_id: int
    name: str
    group: str
    seconds: int
    kind: str  # contribution, reply, point of order


def speaking_log(meeting) -> list[Speech]:
    """Speeches of the sitting in the order they were given."""
    from meetings.models import FloorRequest

    speeches = (
        FloorRequest.objects.filter(meeting=meeting, granted_at__isnull=False)
        .select_related("person")
        .order_by("granted_at", "pk")
    )
    now = timezone.now()
    log = []
    for order, speech in enumerate(speeches, start=1):
        seconds = speech.seconds
        if speech.status == FloorRequest.Status.SPEAKING:
            seconds = int((now - speech.granted_at).total_seconds())
        log.append(
            Speech(
                item_id=speech.item_id,
                order=order,
                person_id=speech.person_id,
                name=speech.person.display_name,
                group=speech.group,
                seconds=seconds,
                kind=speech.kind,
            )
        )
    return log


def speaking_totals(meeting) -> tuple[dict[str, int], dict[str, int]]:
    """Seconds spoken per person (by name) and per political group."""
    people: dict[str, int] = {}
    groups: dict[str, int] = {}
    for speech in speaking_log(meeting):
        people[speech.name] = people.get(speech.name, 0) + speech.seconds
        group = speech.group or "—"
        groups[group] = groups.get(group, 0) + speech.seconds
    return people, groups
