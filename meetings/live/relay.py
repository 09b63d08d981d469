"""The relay: a push crosses the channel layer once per server process.

Each process (each running event loop) has one relay. Its one channel joins
the group of every sitting audience that a socket of the process follows, and
hands each message's text to all of that group's local sockets. Consumers have
no channel of their own: with Redis, a message per socket would cost a round
trip each on the receiving side, and a receive loop per socket.

A message on a group is ``{"type": "sitting.message", "group": <group>,
"text": <the JSON text to send as it is>, "version": <the version pushed>}``
(see ``publisher.publish``). The relay remembers the last version pushed on
each group it follows (``version_of``): a connecting client is then served the
cached snapshot of that version with no query (see ``connect``).

The relay's channel leaves a group ``LINGER`` seconds after its last local
socket did (a page reloaded, or every client coming back after a network cut,
finds the relay still following and its versions known), and the relay stops
when it serves no group.

Group memberships live in the layer (in Redis, with an expiry) and a Redis
that restarted has none: the relay joins every group it follows again after
any failure to receive, and renews them all every ``RENEW_EVERY`` seconds (a
Redis restarted under a connection that reconnected by itself raises
nothing). If receiving fails (the layer lost its connection), it logs it
once, forgets the versions it knew (pushes may have been lost), and tries
again with backoff (``RETRY_DELAYS``) until it has joined its groups again
and receives. Then it sends its sockets the stored snapshot of each group
whose version moved on since the last push it received (``_heal``): a push
lost during the outage reaches them at once, not at their next ``sync``. The
channel's name is the client's own (nothing about it is stored in the layer
until a message waits on it), so it is kept.
"""

import asyncio
import logging
import time

from meetings.live.background import Outage, background

logger = logging.getLogger(__name__)

LINGER = 30.0  # seconds a group is still followed after its last local socket left
RENEW_EVERY = 1.0  # seconds between two renewals of the relay's memberships
RETRY_DELAYS = (0.1, 0.2, 0.5, 1.0)  # seconds; the last repeats while it fails


class Relay:
    """The sitting groups one process follows, and the local sockets of each."""

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.local: dict[str, set] = {}
        self.task: asyncio.Task | None = None
        self.lock = asyncio.Lock()
        self.versions: dict[str, int] = {}  # group -> last version received
        self.lingering: dict[str, asyncio.TimerHandle] = {}
        self.renewer: asyncio.Task | None = None
        self.outage = Outage("the sitting relay's channel layer", logger)
        self.rejoined = 0  # times every group was joined again after a failure
        self.receive_failed_at: float | None = None
        self.known_before: dict[str, int] = {}  # versions when receiving failed

    async def join(self, group: str, consumer) -> None:
        """Deliver the group's messages to ``consumer`` (``await consumer.send``)."""
        async with self.lock:
            if self.channel is None:
                # The layer's default prefix: channels_redis receives all of a
                # process's channels through one loop keyed on it.
                self.channel = await self.layer.new_channel()
                self.task = background(self._run(), name="sitting relay")
                self.renewer = background(self._renew(), name="sitting relay renewal")
            linger = self.lingering.pop(group, None)
            if linger is not None:
                linger.cancel()
            if group not in self.local:
                self.local[group] = set()
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception as exc:
                    # The layer is down: the socket gets its snapshot now and
                    # its pushes once the renewal has joined the group.
                    self.outage.failed(exc)
            self.local[group].add(consumer)

    def version_of(self, group: str) -> int | None:
        """The last version pushed on ``group`` since the relay follows it, if any."""
        return self.versions.get(group)

    async def leave(self, group: str, consumer) -> None:
        members = self.local.get(group)
        if members is None:
            return
        members.discard(consumer)
        if not members and group not in self.lingering:
            self.lingering[group] = asyncio.get_running_loop().call_later(
                LINGER, self._stop_following, group
            )

    def _stop_following(self, group: str) -> None:
        self.lingering.pop(group, None)
        background(self._discard(group), name=f"sitting relay leaves {group}")

    async def _discard(self, group: str) -> None:
        async with self.lock:
            if self.local.get(group) or group in self.lingering:
                return  # a socket joined meanwhile
            self.local.pop(group, None)
            self.versions.pop(group, None)
            if self.channel is not None:
                try:
                    await self.layer.group_discard(group, self.channel)
                except Exception as exc:  # its membership expires by itself
                    self.outage.failed(exc)
            if not self.local and self.task is not None:
                self.task.cancel()
                self.task = None
                if self.renewer is not None:
                    self.renewer.cancel()
                    self.renewer = None
                self.channel = None

    async def _join_all(self, channel: str) -> None:
        """Join every group followed (again): memberships may have been lost."""
        for group in list(self.local):
            await self.layer.group_add(group, channel)

    async def _renew(self) -> None:
        channel = self.channel
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                async with self.lock:
                    await self._join_all(channel)
            except Exception as exc:
                # The receive loop sees the outage too and joins again after it.
                self.outage.failed(exc)
                continue
            if self.receive_failed_at is None:
                self.outage.recovered()  # a failure of the renewal alone

    async def _run(self) -> None:
        channel = self.channel
        tries = 0
        while True:
            try:
                if self.receive_failed_at is not None:
                    async with self.lock:
                        await self._join_all(channel)
                    self.rejoined += 1
                    self.outage.recovered()
                    logger.info(
                        "sitting relay joined its %d groups again after %.1f s",
                        len(self.local),
                        time.monotonic() - self.receive_failed_at,
                    )
                    self.receive_failed_at, tries = None, 0
                    background(self._heal(self.known_before), name="relay heal")
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.outage.failed(exc)
                if self.receive_failed_at is None:
                    self.receive_failed_at = time.monotonic()
                    self.known_before = dict(self.versions)
                # Pushes may have been lost meanwhile.
                self.versions.clear()
                await asyncio.sleep(RETRY_DELAYS[min(tries, len(RETRY_DELAYS) - 1)])
                tries += 1
                continue
            group = message.get("group", "")
            version = message.get("version")
            if isinstance(version, int) and version > self.versions.get(group, -1):
                self.versions[group] = version
            for consumer in list(self.local.get(group, ())):
                try:
                    await consumer.send(text_data=message["text"])
                except Exception:  # noqa: S112 - one closed socket must not stop the rest
                    continue

    async def _heal(self, known_before: dict[str, int]) -> None:
        """Send each group's sockets the stored snapshot if it is newer than theirs."""
        # connect needs no relay: no import cycle at run time.
        from meetings.live.connect import cached_version, snapshot_message

        for group in list(self.local):
            _, meeting_id, audience = group.split(".")
            try:
                text = await snapshot_message(int(meeting_id), audience)
            except Exception as exc:
                logger.info("sitting relay could not heal %s: %s", group, exc)
                continue  # their sync heals them instead
            # snapshot_message leaves the version it answered in the cache.
            version = cached_version(int(meeting_id), audience) or 0
            if version <= known_before.get(group, -1):
                continue  # nothing was pushed meanwhile
            for consumer in list(self.local.get(group, ())):
                try:
                    await consumer.send(text_data=text)
                except Exception:  # noqa: S112 - one closed socket must not stop the rest
                    continue


_relays: dict[asyncio.AbstractEventLoop, Relay] = {}


def relay_for(layer) -> Relay:
    """The relay of the running loop on this channel layer."""
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None or relay.layer is not layer:
        for old in [known for known in _relays if known.is_closed()]:
            del _relays[old]
        relay = _relays[loop] = Relay(layer)
    return relay
