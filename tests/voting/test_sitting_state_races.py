"""Suspending or closing a sitting while ballots are in flight, with real locks.

A cast holds its poll's row, then the meeting's, in share mode: suspending
waits for the casts in flight and a cast arriving meanwhile waits, then sees
the sitting suspended; closing the sitting with confirmed open votes waits
for the casts in flight, counts them, and never deadlocks with them.
"""

import os
import threading
import time

import pytest
from django.db import connections, transaction

from council.refusals import Refusal
from meetings.models import AgendaItem, Meeting
from meetings.services.meetings import meeting_suspend
from meetings.services.sitting import sitting_close, sitting_move_to_item
from tests.factories import make_item
from voting.models import Ballot, Participation, Poll
from voting.services import sealing
from voting.services.ballots import SITTING_SUSPENDED, secret_ballot_cast
from voting.services.polls import poll_open

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="real row locks and concurrent transactions need PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


class Worker(threading.Thread):
    """Runs ``target`` on its own connection; keeps its result or exception."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self.target, self.result, self.error = target, None, None

    def run(self):
        try:
            self.result = self.target()
        except Exception as exc:  # noqa: BLE001 — the test reads it
            self.error = exc
        finally:
            connections.close_all()


def test_a_cast_waits_for_the_suspension_and_is_then_refused(
    secret_poll, councillor, chair
):
    meeting = secret_poll.item.meeting
    locked, go = threading.Event(), threading.Event()

    def suspend():
        with transaction.atomic():
            meeting_suspend(meeting=meeting, by=chair)
            locked.set()
            go.wait(10)

    suspender = Worker(suspend)
    suspender.start()
    assert locked.wait(10)
    caster = Worker(
        lambda: secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    )
    caster.start()
    time.sleep(0.5)
    assert caster.is_alive(), "the cast did not wait for the suspension"
    go.set()
    suspender.join(10)
    caster.join(10)
    assert suspender.error is None
    assert isinstance(caster.error, Refusal)
    assert caster.error.messages == [str(SITTING_SUSPENDED)]
    assert not Participation.objects.exists() and not Ballot.objects.exists()


@pytest.fixture
def slow_sealing(monkeypatch):
    """Casts stop inside their transaction (locks held) until released."""
    inside, release = threading.Semaphore(0), threading.Event()
    real = sealing.seal_choice

    def seal(choice, key):
        inside.release()
        release.wait(10)
        return real(choice, key)

    monkeypatch.setattr(sealing, "seal_choice", seal)
    return inside, release


def _close_while_casting(meeting, chair, casts, slow_sealing, poll_ids):
    inside, release = slow_sealing
    casters = [Worker(cast) for cast in casts]
    for caster in casters:
        caster.start()
    for _caster in casters:
        assert inside.acquire(timeout=10)
    closer = Worker(
        lambda: sitting_close(meeting=meeting, by=chair, close_votes=poll_ids)
    )
    closer.start()
    time.sleep(0.5)
    assert closer.is_alive(), "closing did not wait for the casts in flight"
    release.set()
    for worker in [*casters, closer]:
        worker.join(15)
    # A deadlock would show as an OperationalError in one of them.
    assert [c.error for c in casters] == [None] * len(casters)
    assert closer.error is None
    assert all(c.result.recorded for c in casters)


def test_closing_the_sitting_counts_the_ballot_in_flight(
    secret_poll, councillor, chair, slow_sealing
):
    meeting = secret_poll.item.meeting
    _close_while_casting(
        meeting,
        chair,
        [lambda: secret_ballot_cast(poll=secret_poll, by=councillor, choice="no")],
        slow_sealing,
        [secret_poll.pk],
    )
    secret_poll.refresh_from_db()
    assert secret_poll.state == Poll.State.CLOSED
    assert secret_poll.participants == secret_poll.ballots == 1
    assert Meeting.objects.get(pk=meeting.pk).state == Meeting.State.CLOSED


def test_closing_with_two_open_votes_and_casts_on_both_does_not_deadlock(
    secret_poll, councillor, other_councillors, chair, slow_sealing
):
    meeting = secret_poll.item.meeting
    second_item = make_item(meeting, vote_kind=AgendaItem.VoteKind.SECRET)
    sitting_move_to_item(meeting=meeting, item=second_item, by=chair)
    second = poll_open(item=second_item, by=chair)
    voter = other_councillors[0]
    _close_while_casting(
        meeting,
        chair,
        [
            lambda: secret_ballot_cast(poll=secret_poll, by=councillor, choice="no"),
            lambda: secret_ballot_cast(poll=second, by=voter, choice="yes"),
        ],
        slow_sealing,
        [secret_poll.pk, second.pk],
    )
    for poll in (secret_poll, second):
        poll.refresh_from_db()
        assert poll.state == Poll.State.CLOSED and poll.participants == 1
