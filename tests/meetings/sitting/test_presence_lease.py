"""Presence is a lease: attacked the way it breaks.

A process dies (its leases stop being renewed), a process restarts (a new
boot token under the same server name), a member goes from the sitting to
the ballot, a socket goes silent, jobs run twice. The absence after the grace
period is a job in the database queue, run here by the real worker command.
"""

import asyncio
import datetime
import json
import os
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from council.asgi import application
from meetings import tasks
from meetings.live import presence
from meetings.models import AttendanceEvent, LiveConnection, SittingState
from meetings.register import Register
from meetings.services import sitting as services
from tests.conftest import cookie_for
from tests.meetings.sitting.test_websocket import HEADERS, next_of, open_socket

ROOT = Path(__file__).resolve().parents[3]
DEAD = presence.Process("dead-host:127.0.0.1:8001", "deadbeef")
OTHER = presence.Process("other-host:127.0.0.1:8002", "cafe")
Cause = AttendanceEvent.Cause


def run_due_jobs() -> None:
    call_command(
        "run_worker", batch=True, no_startup_delay=True, reload=False, interval=0
    )


def ago(seconds: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=seconds)


def departures(meeting) -> list[tuple[int, str]]:
    return list(
        AttendanceEvent.objects.filter(
            meeting=meeting, kind=AttendanceEvent.Kind.LEFT
        ).values_list("person_id", "cause")
    )


def checks_queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=tasks.absence_check.module_path))


def published_quorum(meeting) -> dict:
    state = SittingState.objects.get(pk=meeting.pk)
    return json.loads(state.members_json)["quorum"]


@pytest.fixture
def members(chair, councillor, other_councillors):
    return [chair, councillor, *other_councillors]


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test is one run of this process, named the same across tests."""
    monkeypatch.setattr(presence, "_process", presence.Process("test:8000", "now"))
    monkeypatch.setattr(presence, "_pid", os.getpid())
    monkeypatch.setattr(presence, "_started_up", True)
    monkeypatch.setattr(presence, "_held", {})
    monkeypatch.setattr(presence, "_last_sweep", 0.0)


async def open_presence(meeting, user) -> WebsocketCommunicator:
    """The socket of a page without a live view (ballot, vote controls)."""
    cookie = await database_sync_to_async(cookie_for)(user)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/sitting/{meeting.pk}/?presence=1",
        headers=[*HEADERS, (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, code = await communicator.connect()
    assert connected, code
    hello = await communicator.receive_json_from()
    assert hello["type"] == "hello" and hello["ping"] > 0
    return communicator


def join_all(meeting, people) -> None:
    for person in people:
        services.attendance_join(meeting=meeting, by=person)


# ---- a process dies ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dead_process_takes_its_members_presence_after_the_grace(
    live_meeting, members, settings
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    join_all(live_meeting, members)
    AttendanceEvent.objects.update(at=ago(60))  # they joined a minute ago
    assert published_quorum(live_meeting)["present"] == 9
    # Six members were on the process that was killed: their leases were last
    # renewed 40 s ago and expired 10 s ago. Three are on a live process.
    gone, staying = members[:6], members[6:]
    for index, person in enumerate(gone):
        presence.lease_open(
            meeting_id=live_meeting.pk,
            person_id=person.pk,
            connection_id=f"dead-{index}",
            process=DEAD,
            at=ago(40),
        )
    for index, person in enumerate(staying):
        presence.lease_open(
            meeting_id=live_meeting.pk,
            person_id=person.pk,
            connection_id=f"live-{index}",
            process=OTHER,
        )

    assert presence.sweep() == 6
    assert not LiveConnection.objects.filter(server=DEAD.server).exists()
    assert len(checks_queued()) == 6
    run_due_jobs()

    assert sorted(departures(live_meeting)) == sorted(
        (p.pk, Cause.CONNECTION_LOST) for p in gone
    )
    # Recorded when they were last seen, not when the job ran.
    for event in AttendanceEvent.objects.filter(kind=AttendanceEvent.Kind.LEFT):
        assert abs((event.at - ago(40)).total_seconds()) < 5
    register = Register.of(live_meeting)
    assert register.present_ids() == {p.pk for p in staying}
    assert not register.quorum(live_meeting.current_item).reached
    quorum = published_quorum(live_meeting)
    assert (quorum["present"], quorum["reached"]) == (3, False)


@pytest.mark.django_db
def test_an_expired_lease_does_not_count_as_online(live_meeting, councillor):
    services.attendance_join(meeting=live_meeting, by=councillor)
    presence.lease_open(
        meeting_id=live_meeting.pk,
        person_id=councillor.pk,
        connection_id="stale",
        process=DEAD,
        at=ago(31),
    )
    event = services.attendance_connection_lost(
        meeting=live_meeting, person=councillor, disconnected_at=ago(31)
    )
    assert event is not None and event.cause == Cause.CONNECTION_LOST


# ---- a process restarts --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_restarted_process_clears_its_earlier_run(
    live_meeting, councillor, chair, settings, monkeypatch
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    earlier = presence.Process("test:8000", "earlier-run")

    @database_sync_to_async
    def before_restart():
        join_all(live_meeting, [councillor, chair])
        for person in (councillor, chair):
            presence.lease_open(
                meeting_id=live_meeting.pk,
                person_id=person.pk,
                connection_id=f"earlier-{person.pk}",
                process=earlier,
            )

    await before_restart()
    # The same server, started again: a new boot token, nothing done yet.
    monkeypatch.setattr(presence, "_started_up", False)
    # The chair comes back; the councillor does not.
    socket = await open_socket(live_meeting, chair)
    await next_of(socket, "snapshot")
    for _ in range(100):
        left = await database_sync_to_async(
            LiveConnection.objects.filter(boot=earlier.boot).count
        )()
        if not left:
            break
        await asyncio.sleep(0.02)
    assert left == 0
    run_due_jobs()
    assert await database_sync_to_async(departures)(live_meeting) == [
        (councillor.pk, Cause.CONNECTION_LOST)
    ]
    present = await database_sync_to_async(
        lambda: Register.of(live_meeting).present_ids()
    )()
    assert present == {chair.pk}
    await socket.disconnect()


@pytest.mark.django_db
def test_clearing_an_earlier_run_spares_other_servers_and_this_run(
    live_meeting, councillor, chair, members
):
    for index, process in enumerate(
        [presence.Process("test:8000", "old"), OTHER, presence.this_process()]
    ):
        presence.lease_open(
            meeting_id=live_meeting.pk,
            person_id=members[index].pk,
            connection_id=f"c{index}",
            process=process,
        )
    assert presence.clear_earlier_run() == 1
    assert set(LiveConnection.objects.values_list("channel_name", flat=True)) == {
        "c1",
        "c2",
    }


# ---- moving between pages ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "role",
    [
        "councillor",  # from the sitting page to the ballot
        "chair",  # from the console to the vote controls
    ],
)
async def test_going_from_the_sitting_to_the_ballot_is_not_a_departure(
    live_meeting, request, role, settings
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    councillor = request.getfixturevalue(role)
    sitting_page = await open_socket(live_meeting, councillor)
    await next_of(sitting_page, "snapshot")
    await sitting_page.disconnect()
    ballot_page = await open_presence(live_meeting, councillor)
    run_due_jobs()
    assert await database_sync_to_async(departures)(live_meeting) == []
    results = await database_sync_to_async(checks_queued)()
    assert [(r.status, r.return_value) for r in results] == [
        (TaskResultStatus.SUCCESSFUL, False)
    ]
    # The ballot page was what held the presence: closing it ends it.
    await ballot_page.disconnect()
    await asyncio.sleep(0.05)
    run_due_jobs()
    assert await database_sync_to_async(departures)(live_meeting) == [
        (councillor.pk, Cause.CONNECTION_LOST)
    ]


@pytest.mark.django_db(transaction=True)
async def test_a_presence_socket_holds_a_lease_and_answers_pings_only(
    live_meeting, councillor
):
    socket = await open_presence(live_meeting, councillor)
    lease = await database_sync_to_async(LiveConnection.objects.get)()
    assert lease.person_id == councillor.pk
    assert lease.expires_at > timezone.now()
    assert (lease.server, lease.boot) == ("test:8000", "now")
    # No snapshot, no arrival: the page is not the sitting's live view.
    assert await socket.receive_nothing(timeout=0.3)
    assert not await database_sync_to_async(AttendanceEvent.objects.exists)()
    await socket.send_json_to({"action": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.send_json_to({"action": "resync"})
    assert (await next_of(socket, "error"))["code"] == "unknown_action"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_staff_get_no_presence_socket(live_meeting, clerk):
    cookie = await database_sync_to_async(cookie_for)(clerk)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/sitting/{live_meeting.pk}/?presence=1",
        headers=[*HEADERS, (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)
    assert not await database_sync_to_async(LiveConnection.objects.exists)()


# ---- renewal -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_renewed_lease_is_never_swept(live_meeting, councillor, chair, settings):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    join_all(live_meeting, [councillor, chair])
    # Both leases were opened 25 s ago; only this process renews the first.
    for person, name in ((councillor, "renewed"), (chair, "forgotten")):
        presence.lease_open(
            meeting_id=live_meeting.pk,
            person_id=person.pk,
            connection_id=name,
            at=ago(25),
        )
    assert presence.renew({"renewed": (live_meeting.pk, councillor.pk)}) == 1
    assert presence.sweep(now=ago(-10)) == 1  # ten seconds on
    assert list(LiveConnection.objects.values_list("channel_name", flat=True)) == [
        "renewed"
    ]
    run_due_jobs()
    assert departures(live_meeting) == [(chair.pk, Cause.CONNECTION_LOST)]


@pytest.mark.django_db(transaction=True)
async def test_the_heartbeat_keeps_a_talking_page_and_drops_a_silent_one(
    live_meeting, councillor, chair, settings
):
    settings.PRESENCE_LEASE_SECONDS = 0.4
    settings.PRESENCE_HEARTBEAT_SECONDS = 0.05
    settings.ATTENDANCE_GRACE_SECONDS = 0
    talking = await open_presence(live_meeting, councillor)
    silent = await open_presence(live_meeting, chair)
    for _ in range(20):  # a second: more than two leases
        await talking.send_json_to({"action": "ping"})
        await talking.receive_json_from()
        await asyncio.sleep(0.05)
    # Another process sweeps what nobody renews.
    await database_sync_to_async(presence.sweep)()
    leases = await database_sync_to_async(
        lambda: list(LiveConnection.objects.values_list("person_id", flat=True))
    )()
    assert leases == [councillor.pk]
    closed = await silent.receive_output(timeout=1)
    assert closed == {"type": "websocket.close", "code": presence.CLOSE_SILENT}
    assert [
        r.args_kwargs["args"][:2] for r in await database_sync_to_async(checks_queued)()
    ] == [[live_meeting.pk, chair.pk]]
    await talking.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_lease_swept_while_its_socket_lives_is_put_back(
    live_meeting, councillor, settings
):
    """A stalled process's leases are swept by another; it puts them back in time."""
    settings.ATTENDANCE_GRACE_SECONDS = 0
    await database_sync_to_async(services.attendance_join)(
        meeting=live_meeting, by=councillor
    )
    socket = await open_presence(live_meeting, councillor)
    await database_sync_to_async(
        lambda: LiveConnection.objects.update(expires_at=ago(1))
    )()
    assert await database_sync_to_async(presence.sweep)() == 1
    assert await presence.beat() == 0  # nothing to renew: it is put back
    assert await database_sync_to_async(LiveConnection.objects.online().count)() == 1
    run_due_jobs()
    assert await database_sync_to_async(departures)(live_meeting) == []
    await socket.disconnect()


@pytest.mark.django_db
def test_a_socket_that_closed_during_a_beat_is_not_put_back(live_meeting, councillor):
    # The beat read what it held, then the socket closed and ended its lease.
    held = {"closed-meanwhile": (live_meeting.pk, councillor.pk)}
    assert presence.renew(held) == 0
    assert not LiveConnection.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sockets", [1, 50])
def test_renewing_is_one_query_per_process_whatever_it_holds(
    live_meeting, councillor, sockets
):
    held = {}
    for index in range(sockets):
        presence.lease_open(
            meeting_id=live_meeting.pk,
            person_id=councillor.pk,
            connection_id=f"s{index}",
            at=ago(20),
        )
        held[f"s{index}"] = (live_meeting.pk, councillor.pk)
    with CaptureQueriesContext(connection) as queries:
        assert presence.renew(held) == sockets
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert LiveConnection.objects.online(at=ago(-25)).count() == sockets


@pytest.mark.django_db(transaction=True)
def test_a_sweep_that_finds_nothing_is_one_query(live_meeting, councillor):
    presence.lease_open(
        meeting_id=live_meeting.pk, person_id=councillor.pk, connection_id="fresh"
    )
    with CaptureQueriesContext(connection) as queries:
        assert presence.sweep() == 0
    assert len(queries) == 1, [q["sql"] for q in queries]


@pytest.mark.django_db(transaction=True)
async def test_a_heartbeat_is_one_query_between_sweeps(
    live_meeting, councillor, chair, monkeypatch
):
    first = await open_presence(live_meeting, councillor)
    second = await open_presence(live_meeting, chair)
    monkeypatch.setattr(presence, "_last_sweep", presence.time.monotonic())
    counted = []
    renew = presence.renew

    def counting_renew(*args, **kwargs):
        # The beat's query runs on a worker thread: counted there.
        with CaptureQueriesContext(connection) as queries:
            renewed = renew(*args, **kwargs)
        counted.append(len(queries))
        return renewed

    monkeypatch.setattr(presence, "renew", counting_renew)
    monkeypatch.setattr(presence, "_sweep_and_reschedule", pytest.fail)
    assert await presence.beat() == 2
    assert counted == [1]
    await first.disconnect()
    await second.disconnect()


# ---- the jobs ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_absence_check_run_twice_records_one_departure(live_meeting, councillor):
    services.attendance_join(meeting=live_meeting, by=councillor)
    since = ago(5).isoformat()
    assert tasks.absence_check.call(live_meeting.pk, councillor.pk, since) is True
    assert tasks.absence_check.call(live_meeting.pk, councillor.pk, since) is False
    assert departures(live_meeting) == [(councillor.pk, Cause.CONNECTION_LOST)]


@pytest.mark.django_db(transaction=True)
def test_the_worker_running_the_checks_twice_records_once(
    live_meeting, councillor, settings
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    services.attendance_join(meeting=live_meeting, by=councillor)
    presence.lease_open(
        meeting_id=live_meeting.pk,
        person_id=councillor.pk,
        connection_id="x",
        process=DEAD,
        at=ago(60),
    )
    assert presence.sweep() == 1
    assert presence.sweep() == 0
    # A killed worker's job is run again: the same check queued twice.
    first = checks_queued()[0]
    tasks.absence_check.using(run_after=timezone.now()).enqueue(
        *first.args_kwargs["args"]
    )
    run_due_jobs()
    run_due_jobs()
    assert departures(live_meeting) == [(councillor.pk, Cause.CONNECTION_LOST)]
    assert {r.status for r in checks_queued()} == {TaskResultStatus.SUCCESSFUL}


@pytest.mark.django_db
def test_a_check_after_the_sitting_closed_records_nothing(live_meeting, councillor):
    services.attendance_join(meeting=live_meeting, by=councillor)
    live_meeting.state = live_meeting.State.CLOSED
    live_meeting.save()
    since = ago(1).isoformat()
    assert tasks.absence_check.call(live_meeting.pk, councillor.pk, since) is False
    assert departures(live_meeting) == []


@pytest.mark.django_db
def test_a_departure_is_never_recorded_before_the_presence_it_ends(
    live_meeting, councillor
):
    # The member's page was lost, then they left and joined again by hand.
    lost_at = ago(30)
    services.attendance_join(meeting=live_meeting, by=councillor)
    services.attendance_leave(meeting=live_meeting, by=councillor)
    services.attendance_join(meeting=live_meeting, by=councillor)
    event = services.attendance_connection_lost(
        meeting=live_meeting, person=councillor, disconnected_at=lost_at
    )
    assert event.at > lost_at
    assert Register.of(live_meeting).present_ids() == set()


@pytest.mark.django_db
def test_one_sweep_job_waits_at_a_time(live_meeting, councillor, settings):
    settings.PRESENCE_SWEEP_SECONDS = 30
    assert tasks.schedule_presence_sweep() is True
    assert tasks.schedule_presence_sweep() is False
    waiting = DBTaskResult.objects.filter(task_path=tasks.presence_sweep.module_path)
    assert waiting.count() == 1
    assert abs((waiting.get().run_after - ago(-30)).total_seconds()) < 5


@pytest.mark.django_db(transaction=True)
def test_the_worker_sweeps_and_comes_back_while_leases_are_held(
    live_meeting, councillor, chair, settings
):
    settings.ATTENDANCE_GRACE_SECONDS = 0
    join_all(live_meeting, [councillor, chair])
    presence.lease_open(
        meeting_id=live_meeting.pk,
        person_id=councillor.pk,
        connection_id="dead",
        process=DEAD,
        at=ago(60),
    )
    presence.lease_open(
        meeting_id=live_meeting.pk,
        person_id=chair.pk,
        connection_id="alive",
        process=OTHER,
    )
    tasks.presence_sweep.using(run_after=timezone.now()).enqueue()
    run_due_jobs()  # the sweep, then the check it queued
    assert departures(live_meeting) == [(councillor.pk, Cause.CONNECTION_LOST)]
    pending = DBTaskResult.objects.filter(
        task_path=tasks.presence_sweep.module_path, status=TaskResultStatus.READY
    )
    assert pending.count() == 1  # a lease is still held: it comes back
    LiveConnection.objects.all().delete()
    pending.update(run_after=timezone.now())
    run_due_jobs()
    assert not pending.exists()  # nothing held: it stops


# ---- no timer in memory --------------------------------------------------------------


def test_no_grace_timer_is_left_in_the_server_process():
    source = (ROOT / "meetings/consumers.py").read_text()
    assert "asyncio.sleep" not in source
    assert "_grace_tasks" not in source and "_after_grace" not in source


@pytest.mark.django_db(transaction=True)
async def test_a_disconnect_queues_the_check_for_the_end_of_the_grace(
    live_meeting, councillor, settings
):
    settings.ATTENDANCE_GRACE_SECONDS = 60
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await socket.disconnect()
    closed_at = timezone.now()
    await asyncio.sleep(0.05)
    (check,) = await database_sync_to_async(checks_queued)()
    assert check.status == TaskResultStatus.READY
    assert abs((check.run_after - closed_at).total_seconds() - 60) < 2
    assert check.args_kwargs["args"][:2] == [live_meeting.pk, councillor.pk]
    # Not due yet: the worker leaves the member present.
    run_due_jobs()
    assert await database_sync_to_async(departures)(live_meeting) == []


# ---- naming the process, and its settings --------------------------------------------


def test_a_forked_process_is_a_run_of_its_own(monkeypatch):
    parent = presence.this_process()
    monkeypatch.setattr(presence, "_pid", os.getpid() + 1)  # as if forked
    child = presence.this_process()
    assert child.boot != parent.boot
    assert presence.this_process() is child


def test_the_server_is_named_by_the_address_it_serves(settings):
    settings.PRESENCE_SERVER_ID = ""
    name = presence._server_name({"server": ("127.0.0.1", 8101)})
    assert name.endswith(":127.0.0.1:8101")
    assert presence._server_name({"server": ["/run/council/d-1.sock", None]}).endswith(
        ":/run/council/d-1.sock"
    )
    settings.PRESENCE_SERVER_ID = "council@2"
    assert presence._server_name({"server": ("127.0.0.1", 8101)}) == "council@2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PRESENCE_HEARTBEAT_SECONDS": "30"},
            "PRESENCE_HEARTBEAT_SECONDS=30 must be below PRESENCE_LEASE_SECONDS=30",
        ),
        (
            {"PRESENCE_LEASE_SECONDS": "12", "PRESENCE_PING_SECONDS": "15"},
            "PRESENCE_PING_SECONDS=15 must be below PRESENCE_LEASE_SECONDS=12",
        ),
        ({"PRESENCE_LEASE_SECONDS": "2"}, "PRESENCE_LEASE_SECONDS=2 is below"),
    ],
)
def test_bad_presence_settings_stop_the_start_up(env, message):
    from tests.council.test_settings import settings_error

    assert message in settings_error(**env)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)
def test_two_sweepers_at_once_queue_each_check_once(live_meeting, members):
    import threading

    for index, person in enumerate(members):
        presence.lease_open(
            meeting_id=live_meeting.pk,
            person_id=person.pk,
            connection_id=f"dead-{index}",
            process=DEAD,
            at=ago(60),
        )
    locked, release = threading.Event(), threading.Event()

    def other_sweeper():
        # Another process's sweep, holding the rows it is ending.
        from django.db import connection as its_connection
        from django.db import transaction

        with transaction.atomic():
            list(LiveConnection.objects.select_for_update().filter(server=DEAD.server))
            locked.set()
            release.wait(10)
        its_connection.close()

    thread = threading.Thread(target=other_sweeper)
    thread.start()
    assert locked.wait(10)
    try:
        assert presence.sweep() == 0  # it skips what the other is ending
        assert checks_queued() == []
    finally:
        release.set()
        thread.join(10)
    assert presence.sweep() == len(members)
    assert len(checks_queued()) == len(members)
