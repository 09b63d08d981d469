"""Double voting under real concurrency: threads with their own connections."""

import os
import threading

import pytest
from django.db import connection, connections

from voting.models import Ballot, Participation, PublicVote
from voting.services.ballots import public_vote_cast, secret_ballot_cast

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="real row locks and concurrent transactions need PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8


def hammer(target, n=THREADS):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(target())
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_same_member_casting_at_once_leaves_one_ballot(secret_poll, councillor):
    results, errors = hammer(
        lambda: secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    )
    assert errors == []
    assert sum(r.recorded for r in results) == 1
    assert Participation.objects.filter(poll=secret_poll).count() == 1
    assert Ballot.objects.filter(poll=secret_poll).count() == 1


def test_many_members_at_once_all_count(secret_poll, members):
    queue = list(members)
    lock = threading.Lock()

    def one():
        with lock:
            member = queue.pop()
        return secret_ballot_cast(poll=secret_poll, by=member, choice="no")

    results, errors = hammer(one, n=len(members))
    assert errors == []
    assert all(r.recorded for r in results)
    assert Ballot.objects.filter(poll=secret_poll).count() == len(members)


def test_same_public_vote_at_once_leaves_one_row(public_poll, councillor):
    results, errors = hammer(
        lambda: public_vote_cast(poll=public_poll, member=councillor, choice="no")
    )
    assert errors == []
    assert PublicVote.objects.filter(poll=public_poll).count() == 1


def test_connection_is_postgresql():
    assert connection.vendor == "postgresql"
