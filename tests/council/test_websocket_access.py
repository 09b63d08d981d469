import pytest
from channels.testing import WebsocketCommunicator

from council.asgi import application
from meetings.models import Meeting

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def meeting(body):
    from django.utils import timezone

    return Meeting.objects.create(
        body=body, number=1, title="Séance", starts_at=timezone.now()
    )


def _cookie_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _communicator(meeting, cookie=None, origin=b"http://127.0.0.1:8000"):
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(
        application, f"/ws/sitting/{meeting.pk}/", headers=headers
    )


async def test_member_websocket_is_accepted(meeting, councillor):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(_cookie_for)(councillor)
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
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(_cookie_for)(outsider)
    connected, code = await _communicator(meeting, cookie).connect()
    assert not connected
    assert code == 4403


async def test_foreign_origin_websocket_is_refused(meeting, councillor):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(_cookie_for)(councillor)
    communicator = _communicator(meeting, cookie, origin=b"https://evil.example")
    connected, _ = await communicator.connect()
    assert not connected
