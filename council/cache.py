"""The shared Redis cache, answered from this process's memory while Redis is down.

Allauth keeps login rate limits and the TOTP codes already used in the default
cache; with a bare RedisCache every login answers 500 while Redis is
unreachable. This backend catches Redis's connection and timeout errors and
answers from a LocMemCache of its own instead: rate limits keep counting,
per process, for the length of the outage. The outage is logged once when it
begins and once when it ends. For `RETRY_SECONDS` after a failure Redis is
not asked at all, so a dead Redis costs a request nothing; then the next call
tries it again. When Redis answers again the local copy is dropped and Redis's
own values (counts from before the outage included) apply again.

Settings: ``"BACKEND": "council.cache.FallbackRedisCache"``, with short
``socket_connect_timeout`` and ``socket_timeout`` in ``OPTIONS`` so that a
Redis that does not answer costs milliseconds before the fallback.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_SECONDS = 2.0


class Outage:
    """Whether one Redis location is taken for down; shared by every thread."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.since: float | None = None
        self.retry_at = 0.0
        self._lock = threading.Lock()

    def skipping(self) -> bool:
        return self.since is not None and time.monotonic() < self.retry_at

    def begin(self, error: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            self.retry_at = now + RETRY_SECONDS
            if self.since is None:
                self.since = now
                logger.warning(
                    "Redis cache at %s unreachable (%s): rate limits and cached "
                    "values are kept in this process until it answers.",
                    self.location,
                    error,
                )

    def end(self) -> bool:
        """Mark Redis reachable; True when that ends an outage."""
        if self.since is None:
            return False
        with self._lock:
            if self.since is None:
                return False
            lasted = time.monotonic() - self.since
            self.since = None
        logger.warning(
            "Redis cache at %s answers again after %.1f s; the values kept in "
            "this process meanwhile are dropped.",
            self.location,
            lasted,
        )
        return True


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def outage_of(location: str) -> Outage:
    with _outages_lock:
        return _outages.setdefault(location, Outage(location))


class FallbackRedisCache(RedisCache):
    """RedisCache whose calls fall back to a local cache while Redis is down."""

    def __init__(self, server, params):
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        self.outage = outage_of(location)
        # Same key prefix, version and timeout: a value means the same in both.
        self.local = LocMemCache(
            f"council.cache.fallback:{location}", {**params, "OPTIONS": {}}
        )


def _falling_back(name: str):
    on_redis = getattr(RedisCache, name)

    def method(self, *args, **kwargs):
        if self.outage.skipping():
            return getattr(self.local, name)(*args, **kwargs)
        try:
            result = on_redis(self, *args, **kwargs)
        except UNREACHABLE as error:
            self.outage.begin(error)
            return getattr(self.local, name)(*args, **kwargs)
        if self.outage.end():
            self.local.clear()
        return result

    method.__name__ = name
    method.__doc__ = on_redis.__doc__
    return method


# decr, get_or_set, incr_version... are built on these in BaseCache.
for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(FallbackRedisCache, _name, _falling_back(_name))
