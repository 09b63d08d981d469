"""Two clerks reordering the same agenda at once: numbers stay 1..n, none lost."""

import contextlib
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from council.models import User
from meetings.models import AgendaItem
from meetings.services import agenda as svc
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
