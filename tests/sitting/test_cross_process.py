"""Two Daphne processes on Redis: a change made through one reaches the other."""

import asyncio
import json
import os
from functools import partial

import pytest
from django.db import connections

from tests.sitting.conftest import arrive, cookie_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]


@pytest.fixture
def two_servers(django_db_blocker):
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess

    with django_db_blocker.unblock():
        connections.close_all()
    processes = []
    for _ in range(2):
        process = DaphneProcess(
            "127.0.0.1",
            partial(make_application, static_wrapper=None),
            setup=django_db_blocker.unblock,
        )
        process.start()
        processes.append(process)
    for process in processes:
        assert process.ready.wait(timeout=30), "a server did not start"
    yield [f"127.0.0.1:{process.port.value}" for process in processes]
    for process in processes:
        process.terminate()
        process.join(timeout=10)


async def _receive(socket, kind: str) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
        if message["type"] == kind:
            return message


async def _scenario(first: str, second: str, meeting_id: int, cookie: str, me: int):
    import websockets

    origin = "http://127.0.0.1"
    async with websockets.connect(
        f"ws://{second}/ws/sitting/{meeting_id}/public/", origin=origin
    ) as public:
        await _receive(public, "snapshot")
        async with websockets.connect(
            f"ws://{first}/ws/sitting/{meeting_id}/",
            origin=origin,
            additional_headers={"Cookie": f"sessionid={cookie}"},
        ) as member:
            snapshot = await _receive(member, "snapshot")
            version = snapshot["version"]
            await asyncio.sleep(0.3)
            await member.send(json.dumps({"action": "ask_floor"}))
            while True:
                update = await _receive(public, "update")
                queue = update["changes"].get("queue")
                if queue:
                    return update, version


def test_change_through_one_process_reaches_a_client_of_the_other(
    two_servers, live_meeting, councillor
):
    arrive(live_meeting, councillor)
    cookie = cookie_for(councillor)
    first, second = two_servers
    update, version = asyncio.run(
        _scenario(first, second, live_meeting.pk, cookie, councillor.pk)
    )
    assert update["changes"]["queue"][0]["person_id"] == councillor.pk
    assert update["version"] > version
