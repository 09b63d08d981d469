"""No timing channel on the live stream: what a secret ballot's pushes reveal.

During a closed session the public stream says nothing while members vote
(not even an empty update), and its quorum does not move on a recusal. The
members' count of an open secret ballot moves on the clock's ticks, never at
the moment of one ballot.
"""

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async

from meetings.live import MEMBERS, PUBLIC, build_snapshots
from meetings.models import AgendaItem, Meeting
from meetings.services import sitting as services
from tests.factories import Role, arrive, make_item, make_member
from tests.meetings.sitting.test_websocket import drain, next_of, open_socket, run
from voting.services.ballots import secret_ballot_cast
from voting.services.polls import poll_close, poll_open

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_publisher():
    from channels.layers import channel_layers

    from meetings.live import connect, publisher

    connect._snapshot_cache.clear()
    publisher._last_publish.clear()
    publisher._pending.clear()
    channel_layers.backends = {}
    yield
    connect._snapshot_cache.clear()
    channel_layers.backends = {}


@pytest.fixture
def voters(body, members):
    """Ten members present: the nine of the cast and one more."""
    return [*members, make_member(body, Role.COUNCILLOR, first_name="Dixième")]


@pytest.fixture
def closed_sitting(meeting, voters, chair, keys):
    """In closed session on a secret item, everyone present, its vote open."""
    arrive(meeting, *voters)
    item = make_item(meeting, vote_kind=AgendaItem.VoteKind.SECRET, title="Huis clos")
    services.sitting_enter_closed_session(meeting=meeting, by=chair)
    poll = poll_open(item=item, by=chair)
    return Meeting.objects.get(pk=meeting.pk), item, poll


async def _texts(socket, quiet: float) -> list[dict]:
    return [json.loads(text) for text in await drain(socket, quiet=quiet)]


async def test_secret_ballots_in_closed_session_send_nothing_to_the_public(
    closed_sitting, voters, councillor, settings
):
    settings.SECRET_COUNT_INTERVAL = 0.5
    meeting, _, poll = closed_sitting
    public = await open_socket(meeting, public=True)
    before = (await next_of(public, "snapshot"))["version"]
    member = await open_socket(meeting, councillor)
    await next_of(member, "snapshot")
    await drain(public, quiet=0.6)
    await drain(member, quiet=0.6)
    for voter in voters:
        await run(secret_ballot_cast, poll=poll, by=voter, choice="yes")
    members_saw = await _texts(member, quiet=1.2)
    public_saw = await _texts(public, quiet=0.3)
    assert public_saw == []
    # The ballots were pushed, to members.
    counts = [
        m["changes"]["vote"]["voted"]
        for m in members_saw
        if "vote" in m.get("changes", {})
    ]
    assert counts and counts[-1] == len(voters)
    # Nor does the public's sync reveal how many changes it missed.
    await public.send_json_to({"action": "sync", "version": 0})
    held = (await next_of(public, "snapshot"))["version"]
    assert held == before
    await public.send_json_to({"action": "sync", "version": held})
    assert await public.receive_nothing(timeout=0.3)
    await public.disconnect()
    await member.disconnect()


async def test_a_recusal_in_closed_session_does_not_show_on_the_public_stream(
    closed_sitting, voters, clerk
):
    meeting, item, _ = closed_sitting
    public = await open_socket(meeting, public=True)
    before = (await next_of(public, "snapshot"))["data"]["quorum"]
    await drain(public, quiet=0.6)
    await run(services.recusal_record, item=item, person=voters[3], by=clerk)
    assert await _texts(public, quiet=0.6) == []
    await public.send_json_to({"action": "resync"})
    after = (await next_of(public, "snapshot"))["data"]["quorum"]
    assert after == before
    await public.disconnect()

    snapshots = await database_sync_to_async(build_snapshots)(
        await database_sync_to_async(
            lambda: Meeting.objects.select_related("body", "current_item").get(
                pk=meeting.pk
            )
        )()
    )
    # Members see the item's quorum, the recusal out of it.
    assert snapshots[MEMBERS]["quorum"]["present"] == before["present"] - 1
    assert snapshots[PUBLIC]["quorum"] == before


async def test_a_secret_count_moves_on_the_clock_ticks_not_with_each_ballot(
    meeting, voters, chair, councillor, keys, settings
):
    interval = settings.SECRET_COUNT_INTERVAL = 2.0
    await database_sync_to_async(arrive)(meeting, *voters)
    item = await database_sync_to_async(make_item)(
        meeting, vote_kind=AgendaItem.VoteKind.SECRET
    )
    poll = await run(poll_open, item=item, by=chair)
    member = await open_socket(meeting, councillor)
    await next_of(member, "snapshot")
    await drain(member, quiet=0.6)

    pushes: list[tuple[float, int]] = []

    async def listen():
        while True:
            message = await member.receive_json_from(timeout=10)
            vote = message.get("changes", {}).get("vote")
            if vote is not None:
                pushes.append((time.time(), vote["voted"]))
                if vote["voted"] == len(voters):
                    return

    listening = asyncio.ensure_future(listen())
    started = time.time()
    for voter in voters:
        await run(secret_ballot_cast, poll=poll, by=voter, choice="yes")
        await asyncio.sleep(0.05)
    span = time.time() - started
    await asyncio.wait_for(listening, timeout=10)

    # One push per tick the ballots spanned, not one per ballot. (Bounds wide
    # enough for a loaded machine: a push is late, never early.)
    assert len(pushes) <= span / interval + 2
    assert len(pushes) < len(voters)
    for (earlier, _), (later, _) in zip(pushes, pushes[1:], strict=False):
        assert later - earlier > interval / 2
    for at, _ in pushes:
        assert at % interval < 0.75 * interval, "counts are pushed on clock ticks"

    # Anything else is pushed at once: closing the vote, just after a tick,
    # does not wait for the next one.
    started = time.monotonic()
    await run(poll_close, poll=poll, by=chair)
    while True:
        message = await member.receive_json_from(timeout=5)
        vote = message.get("changes", {}).get("vote")
        if vote is not None and vote["state"] == "closed":
            break
    assert time.monotonic() - started < 0.75 * interval
    await member.disconnect()
