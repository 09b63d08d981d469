"""The relay: a push crosses the channel layer once per server process.

Each process (each running event loop) has one relay. Its one channel joins
the group of every sitting audience that a socket of the process follows, and
hands each message's text to all of that group's local sockets. Consumers have
no channel of their own: with Redis, a message per socket would cost a round
trip each on the receiving side, and a receive loop per socket.

A message on a group is ``{"type": "sitting.message", "group": <group>,
"text": <the JSON text to send as it is>}`` (see ``publisher.publish``). The
relay's channel leaves a group when its last local socket does, and the
relay stops when it serves no group. If receiving fails (the layer lost its
connection), it waits a second and receives again; the clients' ``sync``
heals any message lost meanwhile.
"""

import asyncio
import contextvars
import logging

logger = logging.getLogger(__name__)


class Relay:
    """The sitting groups one process follows, and the local sockets of each."""

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.local: dict[str, set] = {}
        self.task: asyncio.Task | None = None
        self.lock = asyncio.Lock()

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
        if group not in self.local:
            self.local[group] = set()
            await self.layer.group_add(group, self.channel)
        self.local[group].add(consumer)

    async def leave(self, group: str, consumer) -> None:
        members = self.local.get(group)
        if members is None:
            return
        members.discard(consumer)
        if not members:
            del self.local[group]
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
                await asyncio.sleep(1)
                continue
            for consumer in list(self.local.get(message.get("group", ""), ())):
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
