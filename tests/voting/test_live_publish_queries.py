"""One publish after one ballot costs a handful of queries, whatever the council's size.

Counted outside any test transaction, as a server runs it: every statement,
savepoints and transaction control included.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from council.models import Body, Mandate, User
from meetings.live import publisher
from meetings.models import AgendaItem, AttendanceEvent, Meeting
from tests.voting.conftest import PASSPHRASE
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.keys import sealing_key_setup
from voting.services.polls import poll_open

pytestmark = pytest.mark.django_db(transaction=True)

# The meeting with its body, item and sitting state; the register's three
# reads (events, members in office, recusals); the floor; the current poll
# with its vote count; the push recorded.
PUBLISH_QUERIES = 7


@pytest.fixture(autouse=True)
def held_pushes(monkeypatch):
    """The ballot's own push is held back: each test publishes when it counts."""
    monkeypatch.setattr(publisher, "request_publish", lambda meeting_id: None)


def _sitting(size: int, secret: bool, director_general):
    """A body of ``size`` members, all present, voting on the current item."""
    stamp = f"{size}-{secret}"
    body = Body.objects.create(
        name=f"Conseil {stamp}",
        slug=f"conseil-{stamp}",
        kind=Body.Kind.MUNICIPAL_COUNCIL,
        municipality="Commune",
        language=Body.Language.FRENCH,
        seats=size,
    )
    people = User.objects.bulk_create(
        User(email=f"m{n}-{stamp}@example.org", first_name="M", last_name=f"N{n}")
        for n in range(size)
    )
    start = datetime.date(2024, 12, 2)
    Mandate.objects.bulk_create(
        Mandate(person=p, body=body, role=Mandate.Role.COUNCILLOR, start=start)
        for p in people
    )
    chair = people[0]
    Mandate.objects.filter(person=chair).update(role=Mandate.Role.CHAIR)
    Mandate.objects.create(
        person=director_general,
        body=body,
        role=Mandate.Role.DIRECTOR_GENERAL,
        start=start,
    )
    meeting = Meeting.objects.create(
        body=body,
        number=1,
        title="Séance",
        starts_at=timezone.now(),
        state=Meeting.State.IN_SESSION,
    )
    kind = AgendaItem.VoteKind.SECRET if secret else AgendaItem.VoteKind.PUBLIC
    item = AgendaItem.objects.create(
        meeting=meeting, position=1, title="Budget", vote_kind=kind
    )
    meeting.current_item = item
    meeting.save(update_fields=["current_item"])
    arrived = timezone.now() - datetime.timedelta(minutes=1)
    AttendanceEvent.objects.bulk_create(
        AttendanceEvent(
            meeting=meeting, person=p, kind="arrived", place="remote", at=arrived
        )
        for p in people
    )
    if secret:
        sealing_key_setup(
            body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
        )
    poll = poll_open(item=item, by=chair)
    assert publisher.prepare_update(meeting.pk)  # the opening, pushed
    return meeting, poll, people


def _publish_after_one_ballot(size: int, secret: bool, director_general) -> int:
    meeting, poll, people = _sitting(size, secret, director_general)
    if secret:
        secret_ballot_cast(poll=poll, by=people[1], choice="yes")
    else:
        public_vote_cast(poll=poll, member=people[1], choice="yes")
    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as queries:
        texts = publisher.prepare_update(meeting.pk)
    assert '"voted":1' in texts["members"]
    return len(queries)


@pytest.mark.parametrize("secret", [False, True], ids=["roll-call", "secret"])
def test_one_publish_after_one_ballot_costs_the_same_at_10_and_500_members(
    secret, director_general
):
    counts = [_publish_after_one_ballot(n, secret, director_general) for n in (10, 500)]
    assert counts == [PUBLISH_QUERIES, PUBLISH_QUERIES]
    assert PUBLISH_QUERIES <= 8


def test_a_publish_with_nothing_new_reads_one_row(director_general):
    meeting, _, _ = _sitting(10, False, director_general)
    with CaptureQueriesContext(connection) as queries:
        assert publisher.prepare_update(meeting.pk) is None
    assert len(queries) == 1
