"""Presence is a lease: each open page of a sitting holds one, its process renews it.

A member's socket on any page of the sitting (member page, console, vote
controls, ballot, the meeting's page) holds a ``LiveConnection`` row naming
the serving process, ``Process``: ``server``, its name across restarts, and
``boot``, the token of this run. The row expires ``PRESENCE_LEASE_SECONDS``
after its last renewal; the process's heartbeat loop renews the leases of
all the sockets it holds with one UPDATE every ``PRESENCE_HEARTBEAT_SECONDS``.
Pages ping; a socket whose page has said nothing for a whole lease is
dropped, so a half-open socket stops renewing. Only unexpired leases count
(``LiveConnection.objects.online()``).

Whatever ends a lease schedules an absence check after the grace period
(``meetings.tasks.absence_check``), in the transaction that ends it: a socket
that closes, the sweep of expired leases (by each process's heartbeat loop
and by the worker's periodic ``presence_sweep``), and a process starting up,
which clears the rows its earlier run left (same server, another boot). The
check records an absence only if no lease of the member is online by then,
so moving between pages of the sitting never records a departure.
"""

import asyncio
import contextvars
import datetime
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from meetings.live.publisher import db_call
from meetings.models import LiveConnection

logger = logging.getLogger(__name__)

CLOSE_SILENT = 4408  # the page stopped talking; it reconnects if it is alive


@dataclass(frozen=True)
class Process:
    """Who holds a lease: the server process, and which run of it."""

    server: str
    boot: str


_process: Process | None = None
_pid: int | None = None  # the process _process was named in (a fork renames)


def lease_seconds() -> float:
    return float(settings.PRESENCE_LEASE_SECONDS)


def heartbeat_seconds() -> float:
    return float(settings.PRESENCE_HEARTBEAT_SECONDS)


def ping_seconds() -> float:
    return float(settings.PRESENCE_PING_SECONDS)


def _server_name(scope: dict | None) -> str:
    """``PRESENCE_SERVER_ID``, else the host and the address this process serves.

    The address (Daphne's port or unix socket) is what stays the same when
    the process is restarted; without a server in the scope, the pid.
    """
    if settings.PRESENCE_SERVER_ID:
        return settings.PRESENCE_SERVER_ID
    host = socket.gethostname()[:60]
    served = (scope or {}).get("server")
    if served and served[0]:
        address = served[0] if served[1] is None else f"{served[0]}:{served[1]}"
        return f"{host}:{address}"[:200]
    return f"{host}:pid{os.getpid()}"


def this_process(scope: dict | None = None) -> Process:
    """This process, named from the first connection it serves.

    Its boot token is drawn then: a forked child is a run of its own.
    """
    global _process, _pid, _started_up
    if _process is None or _pid != os.getpid():
        if _pid is not None and _pid != os.getpid():
            _held.clear()
            _started_up = False
        _process = Process(_server_name(scope), secrets.token_hex(8))
        _pid = os.getpid()
    return _process


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=lease_seconds())


# ---- the leases in the database ------------------------------------------------------


def lease_open(
    *,
    meeting_id: int,
    person_id: int,
    connection_id: str,
    process: Process | None = None,
    at: datetime.datetime | None = None,
) -> LiveConnection:
    at = at or timezone.now()
    process = process or this_process()
    return LiveConnection.objects.create(
        meeting_id=meeting_id,
        person_id=person_id,
        channel_name=connection_id,
        connected_at=at,
        server=process.server,
        boot=process.boot,
        expires_at=_expiry(at),
    )


def _end(
    leases, *, check_absence: bool = True, since: datetime.datetime | None = None
) -> int:
    """Delete the leases (a queryset) and schedule the absence checks they call for.

    In one transaction: with the database queue, a lease is never gone without
    its check. Concurrent sweepers skip each other's rows (PostgreSQL). The
    member was last seen at ``since``, or else at each lease's last renewal.
    """
    if not leases.exists():
        return 0  # the usual answer, in one query
    with transaction.atomic():
        rows = list(
            leases.select_for_update(skip_locked=True).values_list(
                "pk", "meeting_id", "person_id", "expires_at"
            )
        )
        if not rows:
            return 0
        LiveConnection.objects.filter(pk__in=[row[0] for row in rows]).delete()
        if check_absence:
            _schedule_checks(rows, since)
    return len(rows)


def _schedule_checks(rows, since: datetime.datetime | None) -> None:
    # The tasks module asks the services, which ask the live engine.
    from meetings.tasks import schedule_absence_check

    now = timezone.now()
    lease = datetime.timedelta(seconds=lease_seconds())
    last_seen: dict[tuple[int, int], datetime.datetime] = {}
    for _pk, meeting_id, person_id, expires_at in rows:
        # Last renewed one lease before it expires; never later than now.
        seen = since or min(expires_at - lease, now)
        key = (meeting_id, person_id)
        last_seen[key] = max(last_seen.get(key, seen), seen)
    for (meeting_id, person_id), seen in sorted(last_seen.items()):
        schedule_absence_check(meeting_id=meeting_id, person_id=person_id, since=seen)


def lease_close(*, connection_id: str, check_absence: bool = True) -> int:
    """A socket closed: its lease ends now, the member's absence is checked later."""
    return _end(
        LiveConnection.objects.filter(channel_name=connection_id),
        check_absence=check_absence,
        since=timezone.now(),
    )


def renew(
    held: dict[str, tuple[int, int]],
    *,
    process: Process | None = None,
    now: datetime.datetime | None = None,
) -> int:
    """One UPDATE: the leases of every socket this process holds, renewed.

    ``held`` maps each connection to its (meeting, member). A lease someone
    else removed meanwhile (a sweep while this process was stalled, a clash
    of server names) is put back, so a live socket never loses its presence.
    """
    if not held:
        return 0
    process = process or this_process()
    now = now or timezone.now()
    renewed = LiveConnection.objects.filter(channel_name__in=list(held)).update(
        expires_at=_expiry(now)
    )
    if renewed < len(held):
        _restore(held, process, now)
    return renewed


def _restore(held: dict[str, tuple[int, int]], process: Process, now) -> None:
    present = set(
        LiveConnection.objects.filter(channel_name__in=list(held)).values_list(
            "channel_name", flat=True
        )
    )
    missing = [
        LiveConnection(
            meeting_id=meeting_id,
            person_id=person_id,
            channel_name=connection_id,
            connected_at=now,
            server=process.server,
            boot=process.boot,
            expires_at=_expiry(now),
        )
        for connection_id, (meeting_id, person_id) in held.items()
        # A socket that closed meanwhile (its lease ended on purpose) stays gone.
        if connection_id not in present and connection_id in _held
    ]
    if not missing:
        return
    LiveConnection.objects.bulk_create(missing, ignore_conflicts=True)
    logger.warning(
        "put back %d lease(s) removed while their sockets lived", len(missing)
    )


def sweep(now: datetime.datetime | None = None) -> int:
    """End every expired lease, whoever held it; how many."""
    return _end(LiveConnection.objects.expired(now or timezone.now()))


def clear_earlier_run(process: Process | None = None) -> int:
    """End the leases an earlier run of this process left (same server, other boot)."""
    process = process or this_process()
    return _end(
        LiveConnection.objects.filter(server=process.server).exclude(boot=process.boot)
    )


# ---- the sockets this process holds, and its heartbeat -------------------------------


@dataclass
class _Held:
    consumer: object  # the socket's consumer: ``close(code=...)``
    meeting_id: int
    person_id: int
    loop: asyncio.AbstractEventLoop
    heard: float  # time.monotonic() of the page's last message


_held: dict[str, _Held] = {}
_beating: asyncio.Task | None = None
_started_up = False  # this run's first heartbeat cleared the earlier run's leases
_last_sweep = 0.0
_failing = False


def hold(consumer, *, connection_id: str, meeting_id: int, person_id: int) -> None:
    """Keep renewing the lease of this socket (its row exists) until released."""
    loop = asyncio.get_running_loop()
    _held[connection_id] = _Held(
        consumer, meeting_id, person_id, loop, time.monotonic()
    )
    _ensure_beating(loop)


def holds(connection_id: str | None) -> bool:
    return connection_id in _held


def heard(connection_id: str | None) -> None:
    """The page said something: its socket is alive."""
    held = _held.get(connection_id)
    if held is not None:
        held.heard = time.monotonic()


def release(connection_id: str | None) -> bool:
    """Stop renewing this socket's lease; whether it was held."""
    return _held.pop(connection_id, None) is not None


def _ensure_beating(loop: asyncio.AbstractEventLoop) -> None:
    global _beating
    if _beating is None or _beating.done() or _beating.get_loop() is not loop:
        _beating = loop.create_task(_heartbeat(), context=contextvars.Context())


def _start_up() -> None:
    """Once per run: clear the earlier run's leases. Each time: the worker sweeps."""
    global _started_up
    from meetings.tasks import schedule_presence_sweep

    if not _started_up:
        cleared = clear_earlier_run()
        _started_up = True
        if cleared:
            logger.info("cleared %d lease(s) of this server's earlier run", cleared)
    schedule_presence_sweep()


def _mine(loop: asyncio.AbstractEventLoop) -> dict[str, _Held]:
    """The sockets of this loop (a test's loop ends; its sockets go with it)."""
    for connection_id in [c for c, h in _held.items() if h.loop.is_closed()]:
        _held.pop(connection_id, None)
    return {c: h for c, h in _held.items() if h.loop is loop}


async def beat() -> int:
    """One heartbeat of this process: drop silent sockets, renew, sweep now and then.

    Returns how many leases were renewed.
    """
    global _last_sweep
    loop = asyncio.get_running_loop()
    mine = _mine(loop)
    silent_after = time.monotonic() - lease_seconds()
    for connection_id, held in list(mine.items()):
        if held.heard < silent_after:
            del mine[connection_id]
            await _drop(connection_id, held)
    renewed = await db_call(renew)(
        {c: (h.meeting_id, h.person_id) for c, h in mine.items()}
    )
    if time.monotonic() - _last_sweep >= lease_seconds():
        _last_sweep = time.monotonic()
        await db_call(_sweep_and_reschedule)()
    return renewed


def _sweep_and_reschedule() -> None:
    from meetings.tasks import schedule_presence_sweep

    sweep()
    schedule_presence_sweep()


async def _drop(connection_id: str, held: _Held) -> None:
    if not release(connection_id):
        return
    try:
        await held.consumer.close(code=CLOSE_SILENT)
    except Exception:
        logger.debug("closing a silent socket failed", exc_info=True)
    await db_call(lease_close)(connection_id=connection_id)


async def _heartbeat() -> None:
    """Renew this process's leases every heartbeat while it holds any."""
    global _failing
    loop = asyncio.get_running_loop()
    try:
        await db_call(_start_up)()
    except Exception:
        logger.exception("starting the presence heartbeat failed")
    while _mine(loop):
        await asyncio.sleep(heartbeat_seconds())
        try:
            await beat()
        except Exception:
            # Logged once per outage, not every beat; the next beat retries.
            if not _failing:
                logger.exception("renewing the presence leases failed")
            _failing = True
        else:
            if _failing:
                logger.warning("renewing the presence leases works again")
            _failing = False
