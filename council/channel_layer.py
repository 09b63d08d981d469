"""Project wiring: the Redis channel layer, whose connection pool waits if full."""

# redis-py's asyncio ConnectionPool caps itself at 100 connections and raises
# MaxConnectionsError at once when a burst of websocket connects and
# disconnects needs more (every group_add and group_discard borrows one). A
# blocking pool of the configured size makes those calls queue for a free
# connection, so a reconnect storm slows down instead of dropping clients.

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff


class BlockingPoolRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args, pool_size: int = 200, pool_timeout: float = 30, **kw):
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        super().__init__(*args, **kw)

    def create_pool(self, index):
        host = dict(self.hosts[index])
        address = host.pop("address")
        # A receive blocks up to brpop_timeout in Redis; the socket must wait
        # longer than that, or an idle receive fails (redis-py's default read
        # timeout is 5 s, the same as channels_redis's brpop_timeout).
        host.setdefault("socket_timeout", self.brpop_timeout + 5)
        # A Redis that is down or unreachable fails a call within seconds
        # (the relay and the publisher retry), instead of the system's minutes.
        host.setdefault("socket_connect_timeout", 5)
        # After a Redis restart every pooled connection is dead: a command is
        # tried again on a fresh one (a few times, within a fraction of a
        # second) instead of failing once per connection in the pool. A Redis
        # still down fails the call, and the relay and publisher take over.
        host.setdefault("retry", Retry(ExponentialBackoff(cap=0.25, base=0.05), 3))
        return BlockingConnectionPool.from_url(
            address,
            max_connections=self.pool_size,
            timeout=self.pool_timeout,
            **host,
        )
