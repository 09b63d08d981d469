"""How the secret ballot box is stored: in no order that follows casting.

A participation (who voted) and a ballot (what was chosen) are written in the
casting transaction, so the database's own bookkeeping ties them together
while the poll is open: on PostgreSQL both rows carry that transaction's id
(``xmin``) and sit at the end of their tables in casting order (``ctid``);
on SQLite every table also has a hidden ``rowid``, which would count up in
casting order. Here:

- on SQLite, every row is inserted at a random ``rowid``, so the tables'
  order (the rowid b-tree) is random from the first ballot on;
- when the poll closes, ``box_reshuffle`` deletes the poll's ballots and
  participations and inserts them again, each list in its own random order
  (``secrets.SystemRandom``), in the closing transaction: every row of a
  closed poll then carries that one transaction's id, and its place in the
  table follows the shuffle, not the casting;
- after the commit, ``tables_rewrite`` (the job ``voting.tasks
  .ballot_tables_rewrite``) rewrites both tables, so that the deleted
  versions, which still carry casting order, leave the database files:
  ``VACUUM FULL`` on PostgreSQL, ``VACUUM`` on SQLite, where
  ``PRAGMA secure_delete`` (set on every connection, ``voting.apps``) has
  already overwritten them with zeros.
"""

import secrets
import uuid
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model

from voting.models import Ballot, Participation, Poll

# How long the table rewrite may wait for its lock before it gives way (ms):
# while it waits, the casts of other polls queue behind it.
REWRITE_LOCK_TIMEOUT_MS = 2000
_INSERT_BATCH = 200
_random = secrets.SystemRandom()


def _random_rowid() -> int:
    return secrets.randbelow(2**63 - 2) + 1


def rows_insert(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """Insert ``rows`` in the order given, each at a random rowid on SQLite.

    ``ignore_conflicts`` adds ``ON CONFLICT DO NOTHING`` (the unique
    constraints are the guard). The number of rows inserted.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    columns = [quote(f.column) for f in model_fields]
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        columns.insert(0, "rowid")
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    prepared = []
    for row in rows:
        values = [
            f.get_db_prep_save(v, connection)
            for f, v in zip(model_fields, row, strict=True)
        ]
        prepared.append([_random_rowid(), *values] if sqlite else values)
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), _INSERT_BATCH):
            batch = prepared[start : start + _INSERT_BATCH]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 - from the model
                f"VALUES {', '.join([placeholders] * len(batch))}"
            )
            if ignore_conflicts:
                sql += " ON CONFLICT DO NOTHING"
            cursor.execute(sql, [v for row in batch for v in row])
            inserted += cursor.rowcount
    return inserted


def participation_insert(*, poll: Poll, member) -> bool:
    """Record that ``member`` takes part; False if they already had.

    The unique constraint on (poll, member) is the guard: a concurrent insert
    of the same pair waits for the other's transaction to end.
    """
    row = (uuid.uuid4(), poll.pk, member.pk, False)
    fields = ("id", "poll", "member", "sealed")
    return rows_insert(Participation, fields, [row], ignore_conflicts=True) == 1


def ballot_insert(*, poll: Poll, ciphertext: bytes, tracker: str) -> None:
    row = (uuid.uuid4(), poll.pk, ciphertext, tracker)
    rows_insert(Ballot, ("id", "poll", "ciphertext", "tracker"), [row])


def box_reshuffle(*, poll: Poll) -> tuple[int, list[int]]:
    """Write the poll's ballots and participations again, in random orders.

    Runs in the closing transaction, whose id every row of the poll then
    carries; each list is shuffled on its own, and every row gets a fresh
    random id (and rowid). The number of ballots, and the participants' ids.
    """
    ballots = list(
        Ballot.objects.filter(poll=poll).values_list("ciphertext", "tracker")
    )
    members = list(
        Participation.objects.filter(poll=poll).values_list("member_id", flat=True)
    )
    Ballot.objects.filter(poll=poll).delete()
    Participation.objects.filter(poll=poll).delete()
    _random.shuffle(ballots)
    _random.shuffle(members)
    rows_insert(
        Ballot,
        ("id", "poll", "ciphertext", "tracker"),
        [(uuid.uuid4(), poll.pk, bytes(c), t) for c, t in ballots],
    )
    rows_insert(
        Participation,
        ("id", "poll", "member", "sealed"),
        [(uuid.uuid4(), poll.pk, m, True) for m in members],
    )
    return len(ballots), members


def closing_transaction_id() -> int | None:
    """The current transaction's id on PostgreSQL (64-bit, never wraps); None else."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text")
        return int(cursor.fetchone()[0])


def older_than_closing(cursor, closing_xid: int) -> bool:
    """Whether anything could still see the versions the closing deleted.

    VACUUM FULL copies every deleted version that some transaction might
    still see, and its own snapshot counts: while a transaction older than
    the closing one runs in any database of the server (its id is below the
    oldest running id of a fresh snapshot), or a session of this database
    or a replication slot holds a snapshot from before the closing, the
    casting versions would be copied along.
    """
    cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
    if int(cursor.fetchone()[0]) <= closing_xid:
        return True
    return snapshots_older_than(cursor, closing_xid)


def snapshots_older_than(cursor, xid: int) -> bool:
    """Whether another session of this database, or a slot, holds a snapshot
    from before ``xid``. Sessions of other roles show no snapshot to a role
    without ``pg_read_all_stats``."""
    short = str(xid % 2**32)  # as the 32-bit ids the views show
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
        "  WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "  AND backend_xmin IS NOT NULL AND age(backend_xmin) >= age(%s::xid)) "
        "OR EXISTS (SELECT 1 FROM pg_replication_slots "
        "  WHERE xmin IS NOT NULL AND age(xmin) >= age(%s::xid))",
        [short, short],
    )
    return cursor.fetchone()[0]


def tables_rewrite(*, closing_xid: int | None = None) -> bool:
    """Rewrite the ballot and participation tables, dropping deleted versions.

    False when it could not yet drop them all and must run again later: on
    PostgreSQL, while something older than ``closing_xid`` (the closing
    transaction's id) could still see them. Cannot run inside a transaction
    (VACUUM). Running it again does no harm. On PostgreSQL it takes each
    table's exclusive lock for the time of the copy, waiting at most
    ``REWRITE_LOCK_TIMEOUT_MS`` for it (then it raises ``OperationalError``).
    """
    if connection.in_atomic_block:
        raise RuntimeError("the ballot tables are rewritten outside a transaction")
    quote = connection.ops.quote_name
    tables = ", ".join(quote(m._meta.db_table) for m in (Ballot, Participation))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if closing_xid is not None and older_than_closing(cursor, closing_xid):
                return False
            cursor.execute(f"SET lock_timeout = {int(REWRITE_LOCK_TIMEOUT_MS)}")
            try:
                cursor.execute(f"VACUUM FULL {tables}")
            finally:
                cursor.execute("RESET lock_timeout")
            return True
        if connection.vendor == "sqlite":
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0].lower() == "wal":
                # The write-ahead log keeps old page images until truncated.
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True
