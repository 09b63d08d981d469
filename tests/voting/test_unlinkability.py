"""Nothing in the tables ties a ballot to a member."""

import pytest
from django.db import connection

from voting.models import Ballot, Participation
from voting.selectors import box_of
from voting.services.ballots import secret_ballot_cast
from voting.services.polls import poll_close

pytestmark = pytest.mark.django_db


def test_ballot_table_has_no_member_no_time_no_sequence():
    columns = {f.column: f for f in Ballot._meta.concrete_fields}
    assert set(columns) == {"id", "poll_id", "ciphertext", "tracker"}
    assert Ballot._meta.get_field("id").get_internal_type() == "UUIDField"
    related = {f.related_model for f in Ballot._meta.get_fields() if f.is_relation}
    assert {m._meta.label for m in related if m} == {"voting.Poll"}
    # And the database agrees with the model.
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, Ballot._meta.db_table
        )
    assert {c.name for c in description} == set(columns)


def test_participation_table_has_no_time_and_no_order():
    columns = {f.column for f in Participation._meta.concrete_fields}
    assert columns == {"id", "poll_id", "member_id", "sealed"}
    assert Participation._meta.get_field("id").get_internal_type() == "UUIDField"
    assert not any(
        f.is_relation and f.related_model is Ballot
        for f in Participation._meta.get_fields()
    )


def test_ballots_are_listed_by_tracker_not_by_casting(secret_poll, members, chair):
    trackers = [
        secret_ballot_cast(poll=secret_poll, by=m, choice="yes").tracker
        for m in members
    ]
    poll_close(poll=secret_poll, by=chair)
    assert Ballot._meta.ordering == ["tracker"]
    assert [b.tracker for b in Ballot.objects.filter(poll=secret_poll)] == sorted(
        trackers
    )
    assert box_of(secret_poll) == sorted(trackers)


def test_ids_do_not_follow_casting_order(secret_poll, members, chair):
    for member in members:
        secret_ballot_cast(poll=secret_poll, by=member, choice="no")
    ids = [str(b) for b in Ballot.objects.values_list("id", flat=True)]
    pids = [str(p) for p in Participation.objects.values_list("id", flat=True)]
    # Random UUIDs (version 4): no counter to line ballots up with members.
    assert all(i[14] == "4" for i in ids + pids)
    assert len(set(ids) | set(pids)) == 2 * len(members)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="transaction ids exist on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_every_row_of_a_closed_poll_carries_the_closing_transaction_id(
    secret_poll, members, chair
):
    """Whatever other sessions do meanwhile, only one xmin is left to read."""
    for member in members:
        secret_ballot_cast(poll=secret_poll, by=member, choice="yes")

    def xmins(table):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT xmin::text FROM {table} WHERE poll_id = %s",  # noqa: S608
                [secret_poll.pk],
            )
            return [row[0] for row in cursor.fetchall()]

    cast = set(xmins("voting_ballot"))
    assert len(cast) == len(members)  # while open: one per cast, as documented
    poll_close(poll=secret_poll, by=chair)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text FROM voting_poll WHERE id = %s", [secret_poll.pk]
        )
        (closing,) = cursor.fetchone()
    written = xmins("voting_ballot") + xmins("voting_participation")
    assert written == [closing] * (2 * len(members))
    assert closing not in cast
