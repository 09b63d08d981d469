"""Two Daphne processes on Redis: a change made through one reaches the other."""

import asyncio
import json
import os

import pytest
import websockets

from tests.conftest import cookie_for, start_test_server, stop_test_server
from tests.factories import arrive

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]


@pytest.fixture
def two_servers(django_db_blocker):
    processes = [
        start_test_server(django_db_blocker, serve_static=False) for _ in range(2)
    ]
    yield [f"127.0.0.1:{process.port.value}" for process in processes]
    for process in processes:
        stop_test_server(process)


async def _receive(socket, kind: str) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
        if message["type"] == kind:
            return message


async def _scenario(first: str, second: str, meeting_id: int, cookie: str, me: int):
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
