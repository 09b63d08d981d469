"""A convened meeting with public, closed and third-convocation items."""

import pytest
from channels.layers import channel_layers
from django.utils import timezone

from meetings.live import connect, publisher
from meetings.models import AgendaItem, Meeting
from tests.factories import make_item, make_meeting
from tests.meetings.sitting.contract_check import (  # noqa: F401 - an autouse fixture
    live_messages_follow_the_contract,
)


@pytest.fixture
def meeting(body):
    return make_meeting(
        body,
        number=1,
        title="Séance du conseil",
        starts_at=timezone.now(),
        state=Meeting.State.CONVENED,
        # Members join it from their page: remote presence is recorded.
        mode=Meeting.Mode.HYBRID,
        video_provider=Meeting.VideoProvider.JITSI,
        livestream_url="https://stream.example.org/live",
    )


@pytest.fixture
def items(meeting):
    return {
        "public": make_item(meeting, title="Budget 2027"),
        "closed": make_item(
            meeting,
            title="Nomination secrète du directeur",
            kind=AgendaItem.Kind.APPOINTMENT,
        ),
        "third": make_item(
            meeting, title="Règlement de voirie", third_convocation=True
        ),
    }


@pytest.fixture
def live_meeting(meeting, items, chair):
    """In session, on the public item."""
    meeting.state = Meeting.State.IN_SESSION
    meeting.current_item = items["public"]
    meeting.opened_at = timezone.now()
    meeting.save()
    return meeting


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast's passwords are hashed at every test; the real hasher is slow
    # on purpose, and no test here checks a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_publisher():
    # Test databases reuse ids: don't let one test's cached snapshot or
    # pending push stand for another's meeting. Each test also gets its own
    # channel layer: channels_redis keeps per-channel locks that a receive
    # cancelled as the previous test's event loop ended can leave bound to
    # that loop, and every later receive on the instance then fails.
    connect._snapshot_cache.clear()
    publisher._last_publish.clear()
    publisher._pending.clear()
    channel_layers.backends = {}
    yield
    connect._snapshot_cache.clear()
    channel_layers.backends = {}
