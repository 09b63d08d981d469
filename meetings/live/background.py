"""Tasks that outlive the client that started them, and outages logged once.

Every task the live engine leaves running is started by ``background``: in a
fresh context (the caller's, its database connection included, is not the
task's) and with its outcome always retrieved, so a failure is logged once by
its own code and never as "Task exception was never retrieved".

``Outage`` logs a failing dependency (the database, the channel layer) once
when it starts failing and once when it works again, however many attempts
fail in between; a failure soon after it worked again (``FLAPPING``) is
still the same outage.
"""

import asyncio
import contextvars
import logging
import time
from collections.abc import Coroutine

logger = logging.getLogger(__name__)

FLAPPING = 10.0  # seconds after a recovery in which a failure is not news


def _retrieve(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error("background task %s failed", task.get_name(), exc_info=exc)


def _retrieve_quietly(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


def background(
    coroutine: Coroutine, name: str | None = None, *, awaited: bool = False
) -> asyncio.Task:
    """Run ``coroutine`` as a task of the running loop, its outcome retrieved.

    A failure is logged here, unless the task is ``awaited`` by callers that
    handle its failure themselves (it is still retrieved if none is left).
    """
    task = asyncio.get_running_loop().create_task(
        coroutine, name=name, context=contextvars.Context()
    )
    task.add_done_callback(_retrieve_quietly if awaited else _retrieve)
    return task


class Outage:
    """One dependency's failures, logged at the first and at the recovery."""

    def __init__(self, what: str, log: logging.Logger):
        self.what = what
        self.log = log
        self.failures = 0
        self.announced = False
        self.recovered_at = -FLAPPING

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self, exc: BaseException) -> None:
        if not self.failures and time.monotonic() - self.recovered_at > FLAPPING:
            self.announced = True
            self.log.warning(
                "%s failed (%s: %s); retrying with backoff",
                self.what,
                type(exc).__name__,
                exc,
            )
        self.failures += 1

    def recovered(self) -> None:
        if self.failures:
            if self.announced:
                self.log.info(
                    "%s works again after %d failed attempts", self.what, self.failures
                )
            self.recovered_at = time.monotonic()
        self.failures = 0
        self.announced = False
