"""Publishing never holds the worker thread of the change that asked for it."""

import asyncio
import time

from asgiref.sync import sync_to_async

from meetings import live
from meetings.live import publisher


async def test_request_from_a_worker_thread_returns_before_the_push(monkeypatch):
    # A ballot commits on a worker thread and asks for a push. If it waited for
    # the push, and the push needed a worker thread too, a room voting at once
    # would take every worker and wait for ever.
    started = asyncio.Event()
    release = asyncio.Event()
    pushed: list[int] = []

    async def slow_push(meeting_id: int, **how) -> None:
        started.set()
        await release.wait()
        pushed.append(meeting_id)

    monkeypatch.setattr(publisher, "_push", slow_push)
    live.remember_server_loop()  # what the ASGI application does
    begun = time.monotonic()
    await asyncio.wait_for(
        sync_to_async(live.request_publish, thread_sensitive=False)(42), timeout=5
    )
    assert time.monotonic() - begun < 5
    await asyncio.wait_for(started.wait(), timeout=5)
    assert pushed == []  # the request came back while the push was still running
    # A second change meanwhile is carried by the pending push or a later one,
    # and does not wait either.
    await asyncio.wait_for(
        sync_to_async(live.request_publish, thread_sensitive=False)(42), timeout=5
    )
    release.set()
    for _ in range(100):
        if pushed:
            break
        await asyncio.sleep(0.01)
    assert pushed[0] == 42
    for task in list(publisher._pending.values()):
        task.cancel()
