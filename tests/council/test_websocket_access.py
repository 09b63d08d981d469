import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from council.asgi import application
from tests.conftest import cookie_for
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def meeting(body):
    return make_meeting(body, number=1, title="Séance", starts_at=timezone.now())


def _communicator(meeting, cookie=None, origin=b"http://127.0.0.1:8000"):
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(
        application, f"/ws/sitting/{meeting.pk}/", headers=headers
    )


async def test_member_websocket_is_accepted(meeting, councillor):
    cookie = await sync_to_async(cookie_for)(councillor)
    communicator = _communicator(meeting, cookie)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


async def test_anonymous_websocket_is_refused(meeting):
    communicator = _communicator(meeting)
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_outsider_websocket_is_refused(meeting, outsider):
    cookie = await sync_to_async(cookie_for)(outsider)
    connected, code = await _communicator(meeting, cookie).connect()
    assert not connected
    assert code == 4403


async def test_foreign_origin_websocket_is_refused(meeting, councillor):
    cookie = await sync_to_async(cookie_for)(councillor)
    communicator = _communicator(meeting, cookie, origin=b"https://evil.example")
    connected, _ = await communicator.connect()
    assert not connected
