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
when it serves no group. If receiving fails (the layer lost its connection),
it forgets the versions it knew, waits a second and receives again; the
clients' ``sync`` heals any message lost meanwhile.
"""

import asyncio
import contextvars
import logging

logger = logging.getLogger(__name__)

LINGER = 30.0  # seconds a group is still followed after its last local socket left


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

    async def join(self, group: str, consumer) -> None:
        """Deliver the group's messages to ``consumer`` (``await consumer.send``)."""
        async with self.lock:
            if self.channel is None:
                # The layer's default prefix: channels_redis receives all of a
                # process's channels through one loop keyed on it.
                self.channel = await self.layer.new_channel()
                self.task = asyncio.get_running_loop().create_task(
                    self._run(), context=contextvars.Context()
                )
            linger = self.lingering.pop(group, None)
            if linger is not None:
                linger.cancel()
            if group not in self.local:
                self.local[group] = set()
                await self.layer.group_add(group, self.channel)
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
        asyncio.get_running_loop().create_task(
            self._discard(group), context=contextvars.Context()
        )

    async def _discard(self, group: str) -> None:
        async with self.lock:
            if self.local.get(group) or group in self.lingering:
                return  # a socket joined meanwhile
            self.local.pop(group, None)
            self.versions.pop(group, None)
            if self.channel is not None:
                await self.layer.group_discard(group, self.channel)
            if not self.local and self.task is not None:
                self.task.cancel()
                self.task = None
                self.channel = None

    async def _run(self) -> None:
        channel = self.channel
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("sitting relay could not receive")
                # Pushes may have been lost meanwhile.
                self.versions.clear()
                await asyncio.sleep(1)
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
