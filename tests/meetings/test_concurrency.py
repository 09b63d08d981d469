"""Writers of the same agenda at once: numbers stay 1..n, none lost or shared."""

import contextlib
import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from council.models import User
from meetings.models import AgendaItem, ItemSubmission, Meeting, SittingState
from meetings.services import agenda as svc
from meetings.services import submissions
from minutes import services as minutes_services
from minutes.models import Minutes
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_moves_and_additions_keep_the_numbering(body, clerk):
    meeting = make_meeting(body)
    for n in range(6):
        svc.item_create(meeting=meeting, by=clerk, title=f"Point {n}")
    ids = list(meeting.items.values_list("pk", flat=True))
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def mover(direction: str) -> None:
        me = User.objects.get(pk=clerk.pk)
        try:
            start.wait()
            for _ in range(6):
                for pk in ids:
                    # At the end already: a refusal, not a failure.
                    with contextlib.suppress(ValidationError):
                        svc.item_move(
                            item=AgendaItem.objects.get(pk=pk),
                            by=me,
                            direction=direction,
                        )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def adder() -> None:
        me = User.objects.get(pk=clerk.pk)
        try:
            start.wait()
            for n in range(5):
                svc.item_create(meeting=meeting, by=me, title=f"Ajout {n}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=mover, args=("up",)),
        threading.Thread(target=mover, args=("down",)),
        threading.Thread(target=adder),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    positions = list(
        AgendaItem.objects.filter(meeting=meeting)
        .order_by("position")
        .values_list("position", flat=True)
    )
    assert positions == list(range(1, 12))
    assert set(ids) <= set(meeting.items.values_list("pk", flat=True))


def test_concurrent_appends_from_every_writer_never_share_a_position(
    body, clerk, councillor
):
    """The clerk, a member's accepted item and the minutes append at once."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite runs one writer at a time: only PostgreSQL (set DATABASE_URL) "
            "lets these appends race."
        )
    rounds = 5
    target = make_meeting(body, state=Meeting.State.CONVENED)
    svc.item_create(meeting=target, by=clerk, title="Point 0")
    pending = [
        ItemSubmission.objects.create(
            meeting=target,
            submitted_by=councillor,
            submitted_at=timezone.now(),
            title=f"Point d'un membre {n}",
            explanatory_note="Note",
        )
        for n in range(rounds)
    ]
    awaiting = [
        Minutes.objects.create(
            meeting=make_meeting(
                body,
                state=Meeting.State.CLOSED,
                starts_at=timezone.now() - datetime.timedelta(days=30 + n),
            ),
            state=Minutes.State.AWAITING_ADOPTION,
        )
        for n in range(rounds)
    ]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(append) -> None:
        me = User.objects.get(pk=clerk.pk)
        try:
            start.wait()
            for n in range(rounds):
                append(me, n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def by_clerk(me, n):
        svc.item_create(meeting=target, by=me, title=f"Ajout {n}")

    def by_append(me, n):
        svc.item_append(meeting=target, by=me, title=f"Annexe {n}")

    def by_member(me, n):
        submissions.submission_accept(submission=pending[n], by=me)

    def by_minutes(me, n):
        minutes_services.minutes_place(minutes=awaiting[n], by=me)

    threads = [
        threading.Thread(target=writer, args=(append,))
        for append in (by_clerk, by_append, by_member, by_minutes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    positions = list(
        AgendaItem.objects.filter(meeting=target)
        .order_by("position")
        .values_list("position", flat=True)
    )
    assert positions == list(range(1, 4 * rounds + 2))
    assert Minutes.objects.filter(approval_item__meeting=target).count() == rounds


def test_a_locked_meeting_does_not_hold_up_rows_that_point_at_it(body):
    """A publish creating the sitting's state row does not wait for the lock.

    With FOR UPDATE, the foreign key's FOR KEY SHARE on the meeting waited for
    the lock's holder, which could itself be waiting for the publisher: a
    deadlock seen under load.
    """
    if connection.vendor != "postgresql":
        pytest.skip("Row locks exist only on PostgreSQL (set DATABASE_URL).")
    meeting = make_meeting(body, state=Meeting.State.IN_SESSION)
    SittingState.objects.filter(pk=meeting.pk).delete()
    locked = threading.Event()
    release = threading.Event()
    outcome: list[object] = []

    def holder():
        try:
            with transaction.atomic():
                Meeting.objects.lock(meeting.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    def inserter():
        try:
            locked.wait(10)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                SittingState.objects.create(meeting_id=meeting.pk)
            outcome.append("inserted")
        except Exception as exc:
            outcome.append(exc)
        finally:
            release.set()
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=inserter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcome == ["inserted"]
