"""Websocket endpoints of a live sitting: members, and the public gallery.

Consumers only translate: check who is asking, join the sitting's audience
through the process's relay (which sends them each pushed text as it is), and
map JSON actions to services. The messages are declared in
``meetings.live.contract``.
"""

import contextlib
import json
import logging
import time
import uuid
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from council.permissions import NOT_ALLOWED, Action, can
from meetings import live
from meetings.live import db_call, presence
from meetings.models import Meeting
from meetings.services import sitting as services

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 2048
MAX_BAD_MESSAGES = 5
CLOSE_BAD_CLIENT = 4400
CLOSE_TOO_FAST = 4429
PONG = json.dumps({"type": "pong"})

# Per connection, each kind of action: (burst, seconds to earn the whole
# burst back). A page sends ``sync`` every 20 s, ``ping`` every
# ``Hello.ping`` seconds and ``resync`` after a missed update; a member asks
# for the floor by hand. An action past its limit is refused with
# ``too_fast``; the next one past it closes the socket.
RATE_LIMITS = {
    "resync": (5, 10.0),
    "sync": (5, 20.0),
    "ping": (20, 1.0),  # no query: wide, yet a flood is bounded
    "floor": (5, 5.0),
    "attendance": (4, 10.0),
    "other": (10, 10.0),
}
RATE_OF_ACTION = {
    "resync": "resync",
    "sync": "sync",
    "ping": "ping",
    "ask_floor": "floor",
    "withdraw": "floor",
    "join": "attendance",
    "leave": "attendance",
}
TOO_FAST = _("Too many requests: slow down.")
UNAVAILABLE = _("The server could not do this just now. Try again in a moment.")


class BadMessage(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class TokenBucket:
    """``burst`` actions at once, earned back at ``burst / per`` a second."""

    def __init__(self, burst: int, per: float):
        self.capacity = float(burst)
        self.rate = burst / per
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _parse(text_data: str | None, bytes_data: bytes | None) -> dict:
    if text_data is None:
        raise BadMessage("not_text", _("Messages are JSON text."))
    if len(text_data) > MAX_MESSAGE_BYTES:
        raise BadMessage("too_long", _("Message too long."))
    try:
        message = json.loads(text_data)
    except ValueError:
        raise BadMessage("not_json", _("Messages are JSON objects.")) from None
    if not isinstance(message, dict) or not isinstance(message.get("action"), str):
        raise BadMessage("no_action", _("A message names its action."))
    return message


def _language(scope: dict) -> str:
    """The language of the page that opened the socket (it sends ``?lang=``)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    try:
        return translation.get_supported_language_variant(query.get("lang", [""])[0])
    except LookupError:
        return settings.LANGUAGE_CODE


@db_call
def _meeting(meeting_id: int) -> Meeting | None:
    return Meeting.objects.select_related("body").filter(pk=meeting_id).first()


@db_call
def _admit(meeting_id: int, user) -> tuple[Meeting | None, bool, bool]:
    """The meeting, and whether the user may follow it and attend it.

    One trip to a worker thread for what a member's connect needs to know:
    in a storm of reconnects every hop queues behind the others.
    """
    meeting = Meeting.objects.select_related("body").filter(pk=meeting_id).first()
    if meeting is None or not can(user, Action.VIEW_MEMBER_AREA, meeting.body):
        return meeting, False, False
    return meeting, True, can(user, Action.ATTEND, meeting.body)


def _presence_only(scope: dict) -> bool:
    """A page with no live view of its own holds only the member's presence."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("presence", [""])[0] == "1"


@db_call
def _connected(meeting: Meeting, user, connection_id: str, track: bool, join: bool):
    if track:
        live.connection_opened(
            meeting=meeting, person=user, connection_id=connection_id
        )
    if join:
        # Connecting asks for nothing: in an in-person sitting the page
        # simply records no remote arrival.
        with contextlib.suppress(ValidationError):
            services.attendance_join(meeting=meeting, by=user)


_disconnected = db_call(live.connection_closed)


class _SittingConsumerBase(AsyncWebsocketConsumer):
    audience = live.MEMBERS
    # No channel of its own: the process's relay delivers the pushes. That
    # saves a channel-layer receive per socket (and its failure modes).
    channel_layer_alias = "sitting-sockets-use-the-relay"
    actions: tuple[str, ...] = ("resync", "sync", "ping")

    async def dispatch(self, message):
        """Hand a message to its handler, with no hop to the one sync thread.

        Channels first closes the stale database connections of the process's
        one sync thread before each message. These consumers never query on
        that thread (their queries run in ``db_call``, which closes its own
        connections), and in a storm of reconnects that hop made every
        connect and every disconnect of the process queue on one thread.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def _relay(self, meeting_id: int):
        """The process's relay, and this socket's group on it."""
        self.meeting_id = meeting_id
        self.group = live.group_name(meeting_id, self.audience)
        layer = get_channel_layer()
        if layer is not None:
            self.relay = live.relay_for(layer)

    async def _join(self, meeting_id: int, follow: bool = True) -> None:
        """Accept the socket and greet it; with ``follow``, it gets the pushes."""
        if follow and not hasattr(self, "group"):
            self._relay(meeting_id)
        self.meeting_id = meeting_id
        self.bad_messages = 0
        if not getattr(self, "connection_id", None):
            self.connection_id = uuid.uuid4().hex
        await self.accept()
        if hasattr(self, "relay"):
            await self.relay.join(self.group, self)
        user = self.scope.get("user")
        await self.send(
            text_data=json.dumps(
                {
                    "type": "hello",
                    "now": int(time.time() * 1000),
                    "user": getattr(user, "pk", None),
                    "ping": presence.ping_seconds(),
                }
            )
        )

    async def disconnect(self, code):
        if hasattr(self, "relay"):
            await self.relay.leave(self.group, self)

    def _relayed(self) -> int | None:
        """The last version the relay received for this socket's audience."""
        return self.relay.version_of(self.group) if hasattr(self, "relay") else None

    async def send_snapshot(self, *, connecting: bool = False) -> None:
        """The snapshot; on connect, the relay's latest one if cached (no query).

        A resync or a client behind always reads the stored version: it may
        have missed a push the relay missed too.
        """
        relayed = self._relayed() if connecting else None
        await self.send(
            text_data=await live.snapshot_message(
                self.meeting_id, self.audience, relayed
            )
        )

    async def error(
        self, code: str, message: str, bad: bool = True, close: int | None = None
    ) -> None:
        """Answer an action with an error; close after too many bad ones.

        Once closing, the socket reads nothing more (``_receive``).
        """
        await self.send(
            text_data=json.dumps(
                {"type": "error", "code": code, "message": str(message)}
            )
        )
        if bad:
            self.bad_messages += 1
            if self.bad_messages >= MAX_BAD_MESSAGES:
                close = CLOSE_BAD_CLIENT
        if close is not None:
            self.closing = True
            await self.close(code=close)

    def _within_rate(self, action: str) -> bool:
        """Take one action from this connection's budget for its kind."""
        buckets = getattr(self, "buckets", None)
        if buckets is None:
            buckets = self.buckets = {}
        kind = RATE_OF_ACTION.get(action, "other")
        bucket = buckets.get(kind)
        if bucket is None:
            bucket = buckets[kind] = TokenBucket(*RATE_LIMITS[kind])
        return bucket.take()

    async def receive(self, text_data=None, bytes_data=None):
        # Whatever the page says, it is alive: its lease goes on being renewed.
        presence.heard(getattr(self, "connection_id", None))
        # A refusal is read by whoever acted: in the language of their page.
        with translation.override(_language(self.scope)):
            await self._receive(text_data, bytes_data)

    async def _receive(self, text_data=None, bytes_data=None) -> None:
        if getattr(self, "closing", False):
            return  # a flood queued behind the close costs nothing more
        try:
            message = _parse(text_data, bytes_data)
        except BadMessage as exc:
            await self.error(exc.code, exc.message)
            return
        action = message["action"]
        if not self._within_rate(action):
            # Once refused; past the limit again while refused, closed.
            over = getattr(self, "over_rate", False)
            self.over_rate = True
            await self.error(
                "too_fast", TOO_FAST, bad=False, close=CLOSE_TOO_FAST if over else None
            )
            return
        self.over_rate = False
        if action not in self.actions:
            await self.error("unknown_action", _("Unknown action."))
            return
        try:
            await getattr(self, f"do_{action}")(message)
        except BadMessage as exc:
            await self.error(exc.code, exc.message)
        except PermissionDenied as exc:
            await self.error("forbidden", str(exc) or NOT_ALLOWED)
        except ValidationError as exc:
            await self.error("refused", exc.messages[0], bad=False)
        except (OperationalError, InterfaceError):
            # The database is unreachable: say so, and keep the socket open.
            logger.warning(
                "sitting %s: %s failed on the database", self.meeting_id, action
            )
            await self.error("unavailable", UNAVAILABLE, bad=False)

    async def do_ping(self, message: dict) -> None:
        """The page's heartbeat (``receive`` noted it): answered, so it knows too."""
        await self.send(text_data=PONG)

    async def do_resync(self, message: dict) -> None:
        await self.send_snapshot()

    async def do_sync(self, message: dict) -> None:
        """A periodic check from the client: a snapshot only if it fell behind.

        Against the sitting's current version: a change not pushed yet is
        pushed first (``live.behind``).
        """
        version = message.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise BadMessage("bad_version", _("A version is a number."))
        if await live.behind(self.meeting_id, self.audience, version):
            await self.send_snapshot()


class SittingConsumer(_SittingConsumerBase):
    """A member's (or the DG's, the clerk's) live sitting.

    With ``?presence=1`` the socket of a page that shows no live view (the
    vote controls, the ballot, the meeting's page): no pushes, no arrival
    recorded, only the attending member's lease, renewed while it pings.
    """

    audience = live.MEMBERS
    actions = ("resync", "sync", "ping", "ask_floor", "withdraw", "leave", "join")

    async def connect(self):
        user = self.scope.get("user")
        meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        presence_only = _presence_only(self.scope)
        if not getattr(user, "is_authenticated", False):
            await self.close(code=4401)
            return
        meeting, may_follow, self.attends = await _admit(meeting_id, user)
        if meeting is None or not may_follow or (presence_only and not self.attends):
            await self.close(code=4403)
            return
        if presence_only:
            # The lease first: a page that got its hello holds the presence.
            self.actions = ("ping",)
            self.connection_id = uuid.uuid4().hex
            await self._hold(meeting, join=False)
            await self._join(meeting.pk, follow=False)
            return
        await self._join(meeting.pk)
        if self.attends:
            await self._hold(meeting, join=True)
        await self.send_snapshot(connecting=True)

    async def _hold(self, meeting: Meeting, join: bool) -> None:
        """Open this socket's lease on the member's presence; ``join``: record it."""
        user = self.scope["user"]
        presence.this_process(self.scope)
        await _connected(meeting, user, self.connection_id, track=True, join=join)
        presence.hold(
            self,
            connection_id=self.connection_id,
            meeting_id=meeting.pk,
            person_id=user.pk,
        )

    async def disconnect(self, code):
        await super().disconnect(code)
        connection_id = getattr(self, "connection_id", None)
        if presence.release(connection_id):
            # The lease ends; the absence check after the grace period is a
            # job in the queue, whatever becomes of this process.
            await _disconnected(connection_id=connection_id)

    async def _service(self, function, **kwargs):
        meeting = await _meeting(self.meeting_id)
        return await db_call(function)(meeting=meeting, by=self.scope["user"], **kwargs)

    async def do_ask_floor(self, message: dict) -> None:
        kind = message.get("kind", "contribution")
        if not isinstance(kind, str):
            raise BadMessage("bad_kind", _("Unknown kind of request."))
        await self._service(services.floor_request, kind=kind)

    async def do_withdraw(self, message: dict) -> None:
        await self._service(services.floor_withdraw)

    async def do_leave(self, message: dict) -> None:
        await self._service(services.attendance_leave)
        if presence.release(self.connection_id):
            # Left on purpose: no grace period, no second departure.
            await _disconnected(connection_id=self.connection_id, check_absence=False)

    async def do_join(self, message: dict) -> None:
        if not self.attends:
            raise PermissionDenied(NOT_ALLOWED)
        await self._service(services.attendance_join)
        if not presence.holds(self.connection_id):
            await self._hold(await _meeting(self.meeting_id), join=False)


class PublicSittingConsumer(_SittingConsumerBase):
    """The public gallery: no login, the filtered stream only."""

    audience = live.PUBLIC

    async def connect(self):
        meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        self._relay(meeting_id)
        # A public snapshot is cached only for a meeting found published, and
        # a meeting once published stays so: no need to read it again.
        if live.cached_version(meeting_id, self.audience) is None:
            meeting = await _meeting(meeting_id)
            if meeting is None or not meeting.is_published:
                await self.close(code=4404)
                return
        await self._join(meeting_id)
        await self.send_snapshot(connecting=True)
