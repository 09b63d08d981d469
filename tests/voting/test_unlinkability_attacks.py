"""Attacks on a closed secret ballot by someone holding the database.

Thirty members each choose a different candidate of an appointment, through
the real pages: the forced re-authentication writes their session just
before they cast, as in production. The poll is closed and the job that
follows it runs. The attacker then holds a copy of the database and one
keyholder's passphrase, so every ballot's choice (hence, in this experiment,
its voter) is known; what remains secret is only which stored row went with
which participation. Every channel that could order or pair the rows is
tried: row ids and the file's byte order (SQLite), physical order, transaction
ids and dead row versions (PostgreSQL), the session rows' order and
transaction ids, and every date or time column written during the vote.

No channel may pair more voters than chance would. For 30 voters a random
order pairs one on average; more than 8 happens about once in a million
draws, and |Kendall tau| >= 0.6 between a storage order and the casting order
a few times in a million; a channel that leaks pairs all 30 (tau 1).
The first test prints what each channel got (``pytest -s``).
"""

import datetime
import random
import re
import time
from collections import Counter
from contextlib import contextmanager

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

import voting.tasks
from council.models import User
from meetings.models import AgendaItem
from tests.factories import PASSWORD, Role, arrive, make_body, make_item, make_member
from tests.voting.conftest import PASSPHRASE
from voting.models import Ballot, Candidate, Participation, Poll, PollKeySeal
from voting.services import sealing
from voting.services.ballots import secret_ballot_cast
from voting.services.polls import poll_close, poll_open
from voting.tasks import ballot_tables_rewrite

pytestmark = pytest.mark.django_db(transaction=True)

VOTERS = 30
MOST_PAIRED_BY_CHANCE = 8
MOST_TAU_BY_CHANCE = 0.6
POSTGRES = connection.vendor == "postgresql"
SQLITE = connection.vendor == "sqlite"
# What the docs say is written during a vote, besides the ballot and the
# participation: the session each member confirms their login in, and the
# last use of the TOTP or passkey they confirm it with (none here).
DOCUMENTED_TIME_COLUMNS = {
    ("django_session", "expire_date"),
    ("mfa_authenticator", "last_used_at"),
}


@pytest.fixture
def body(db):
    return make_body(seats=VOTERS)


@pytest.fixture
def voters(body, chair):
    return [chair] + [make_member(body, Role.COUNCILLOR) for _ in range(VOTERS - 1)]


@pytest.fixture
def appointment(meeting, voters, keys):
    """A secret appointment open, one candidate per voter, everyone logged in."""
    arrive(meeting, *voters)
    item = make_item(meeting, kind=AgendaItem.Kind.APPOINTMENT, title="Directeur")
    for n in range(VOTERS):
        Candidate.objects.create(item=item, name=f"Candidat {n:02}")
    return poll_open(item=item, by=voters[0])


# ---- what the attacker reads ---------------------------------------------------


def kendall_tau(order: list, reference: list) -> float:
    position = {v: i for i, v in enumerate(reference)}
    ranks = [position[v] for v in order]
    n = len(ranks)
    concordant = sum(
        1 if ranks[i] < ranks[j] else -1 for i in range(n) for j in range(i + 1, n)
    )
    return concordant / (n * (n - 1) / 2)


def paired(order: list, other: list) -> int:
    """Voters an attacker pairs by putting rank i beside rank i (or reversed)."""
    forward = sum(a == b for a, b in zip(order, other, strict=False))
    backward = sum(a == b for a, b in zip(order, reversed(other), strict=False))
    return max(forward, backward)


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ctid(text: str) -> tuple[int, int]:
    page, item = text.strip("()").split(",")
    return int(page), int(item)


def time_columns() -> dict[tuple[str, str], Counter]:
    """Every date and time value in the database, by table and column."""
    found = {}
    with connection.cursor() as cursor:
        tables = [t.name for t in connection.introspection.get_table_list(cursor)]
        for table in tables:
            description = connection.introspection.get_table_description(cursor, table)
            for column in description:
                kind = connection.introspection.get_field_type(column.type_code, column)
                if kind not in {"DateTimeField", "DateField", "TimeField"}:
                    continue
                quoted = connection.ops.quote_name
                cursor.execute(
                    f"SELECT {quoted(column.name)} FROM {quoted(table)}"  # noqa: S608
                )
                found[(table, column.name)] = Counter(
                    str(v) for (v,) in cursor.fetchall() if v is not None
                )
    return found


def written_between(before: dict, after: dict) -> dict[tuple[str, str], set[str]]:
    new = {}
    for key, values in after.items():
        added = values - before.get(key, Counter())
        if added:
            new[key] = set(added)
    return new


def user_column(table: str) -> str | None:
    """A column of ``table`` that refers to a person, if any."""
    with connection.cursor() as cursor:
        relations = connection.introspection.get_relations(cursor, table)
    for column, (_, target) in relations.items():
        if target == User._meta.db_table:
            return column
    return None


def cell_order(offsets: list[int], page_size: int) -> tuple[int, int]:
    """Pages in file order, and in a page the order SQLite fills it: from the end."""
    if not offsets:
        return (-1, 0)
    first = min(offsets)
    return (first // page_size, -first)


def session_user(session_data: str) -> int | None:
    user_id = Session.objects.model(session_data=session_data).get_decoded()
    return int(user_id["_auth_user_id"]) if "_auth_user_id" in user_id else None


class Attack:
    """The channels, read from the database after closing and the job."""

    def __init__(self, poll: Poll, voter_of_choice: dict[str, int], cast_order, dg):
        self.poll = poll
        self.cast_order = cast_order
        seal = PollKeySeal.objects.select_related("sealing_key").get(
            poll=poll, sealing_key__holder=dg
        )
        holder = sealing.unlock_keyholder_key(seal.sealing_key, PASSPHRASE)
        poll_key = sealing.open_poll_key(bytes(seal.sealed_private_key), holder)
        self.voter_of_ballot = {
            bytes(c): voter_of_choice[sealing.open_choice(bytes(c), poll_key)]
            for c in Ballot.objects.filter(poll=poll).values_list(
                "ciphertext", flat=True
            )
        }
        self.ballot_orders: dict[str, list[int]] = {}
        self.voter_orders: dict[str, list[int]] = {"casting order": cast_order}
        self.pairings: dict[str, int] = {}

    def read(self, vote_window: dict) -> None:
        poll, ballots = self.poll.pk, Ballot._meta.db_table
        parts = Participation._meta.db_table
        voter = self.voter_of_ballot
        for name, column in [("tracker", "tracker"), ("id", "id")]:
            self.ballot_orders[f"ballot {name}"] = [
                voter[bytes(c)]
                for (c,) in rows(
                    f"SELECT ciphertext FROM {ballots} WHERE poll_id = %s "  # noqa: S608
                    f"ORDER BY {column}",
                    [poll],
                )
            ]
        if SQLITE:
            self.ballot_orders["ballot rowid"] = [
                voter[bytes(c)]
                for (c,) in rows(
                    f"SELECT ciphertext FROM {ballots} WHERE poll_id = %s "  # noqa: S608
                    "ORDER BY rowid",
                    [poll],
                )
            ]
            self.voter_orders["participation rowid"] = [
                m
                for (m,) in rows(
                    f"SELECT member_id FROM {parts} WHERE poll_id = %s "  # noqa: S608
                    "ORDER BY rowid",
                    [poll],
                )
            ]
            self._file_order()
        if POSTGRES:
            found = rows(
                f"SELECT ctid::text, xmin::text, ciphertext FROM {ballots} "  # noqa: S608
                "WHERE poll_id = %s",
                [poll],
            )
            by_ctid = sorted(found, key=lambda r: ctid(r[0]))
            by_xmin = sorted(found, key=lambda r: (int(r[1]), ctid(r[0])))
            self.ballot_orders["ballot ctid"] = [voter[bytes(r[2])] for r in by_ctid]
            self.ballot_orders["ballot xmin"] = [voter[bytes(r[2])] for r in by_xmin]
            members = rows(
                f"SELECT ctid::text, xmin::text, member_id FROM {parts} "  # noqa: S608
                "WHERE poll_id = %s",
                [poll],
            )
            self.voter_orders["participation ctid"] = [
                r[2] for r in sorted(members, key=lambda r: ctid(r[0]))
            ]
            self.voter_orders["participation xmin"] = [
                r[2] for r in sorted(members, key=lambda r: (int(r[1]), ctid(r[0])))
            ]
            # The same transaction id on one participation and one ballot.
            ballot_xmins = Counter(int(r[1]) for r in found)
            member_of_xmin = {int(r[1]): r[2] for r in members}
            self.pairings["participation and ballot of the same xmin"] = sum(
                1
                for r in found
                if ballot_xmins[int(r[1])] == 1
                and member_of_xmin.get(int(r[1])) == voter[bytes(r[2])]
            )
            self._session_interleaving(found)
        self._sessions()
        self._time_columns(vote_window)

    def _file_order(self) -> None:
        """The byte offset of each ballot in the database file."""
        (page,) = rows("PRAGMA page_size")[0]
        with open(connection.settings_dict["NAME"], "rb") as f:
            data = f.read()
        offsets = {
            c: [m.start() for m in re.finditer(re.escape(c), data)]
            for c in self.voter_of_ballot
        }
        self.copies_in_file = {c: len(o) for c, o in offsets.items()}
        self.ballot_orders["ballot byte offset in the file"] = [
            self.voter_of_ballot[c]
            for c in sorted(offsets, key=lambda c: cell_order(offsets[c], page))
        ]

    def _sessions(self) -> None:
        sessions = [
            (s.expire_date, session_user(s.session_data), s.get_decoded())
            for s in Session.objects.all()
        ]
        voters = set(self.cast_order)
        self.voter_orders["session expire_date"] = [
            user
            for _, user, _ in sorted(sessions, key=lambda s: s[0])
            if user in voters
        ]
        confirmed = [
            (max(r.get("at", 0) for r in data["account_authentication_methods"]), user)
            for _, user, data in sessions
            if user in voters and data.get("account_authentication_methods")
        ]
        self.voter_orders["session re-authentication time"] = [
            user for _, user in sorted(confirmed)
        ]
        if POSTGRES:
            self.voter_orders["session xmin"] = [
                session_user(data)
                for _, data in sorted(
                    (int(x), data)
                    for x, data in rows(
                        "SELECT xmin::text, session_data FROM django_session"
                    )
                )
                if session_user(data) in voters
            ]

    def _session_interleaving(self, ballots) -> None:
        """Each ballot given to the member whose session was written just before."""
        sessions = sorted(
            (int(x), session_user(data))
            for x, data in rows("SELECT xmin::text, session_data FROM django_session")
        )
        right = 0
        for _, xmin, ciphertext in ballots:
            before = [user for x, user in sessions if x < int(xmin)]
            if before and before[-1] == self.voter_of_ballot[bytes(ciphertext)]:
                right += 1
        self.pairings["ballot after the session written just before it (xmin)"] = right

    def _time_columns(self, vote_window: dict) -> None:
        self.time_columns_of_the_vote = set(vote_window)
        voters = set(self.cast_order)
        quoted = connection.ops.quote_name
        for (table, column), values in vote_window.items():
            person = user_column(table)
            if table == "django_session":
                continue  # read above, through the session's own user
            if person is None:
                continue
            found = rows(
                f"SELECT {quoted(column)}, {quoted(person)} FROM {quoted(table)}"  # noqa: S608
            )
            self.voter_orders[f"{table}.{column}"] = [
                user
                for at, user in sorted(found, key=lambda r: str(r[0]))
                if str(at) in values and user in voters
            ]

    def results(self) -> dict[str, int]:
        results = dict(self.pairings)
        for b, ballot_order in self.ballot_orders.items():
            for v, voter_order in self.voter_orders.items():
                results[f"{b} beside {v}"] = paired(ballot_order, voter_order)
        return results

    def taus(self) -> dict[str, float]:
        return {
            b: kendall_tau(order, self.cast_order)
            for b, order in self.ballot_orders.items()
        }


def cast_through_the_pages(client: Client, poll: Poll, choice: str) -> None:
    """What a member's browser does: vote, confirm the login, confirm the vote."""
    data = {"choice": choice}
    asked = client.post(reverse("voting:vote", args=[poll.pk]), data)
    assert reverse("account_reauthenticate") in asked["Location"]
    confirmed = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert confirmed.status_code == 302, confirmed.content[:300]
    assert client.post(reverse("voting:vote", args=[poll.pk]), data).status_code == 200
    receipt = client.post(reverse("voting:cast", args=[poll.pk]), data)
    assert receipt.status_code == 200, receipt.content[:300]


def run_the_vote(poll: Poll, voters: list[User]):
    candidates = list(Candidate.objects.filter(item=poll.item).order_by("name"))
    choice_of = {m.pk: f"c:{c.pk}" for m, c in zip(voters, candidates, strict=True)}
    clients = {}
    for member in voters:  # logged in since the morning: not recently
        clients[member.pk] = Client()
        clients[member.pk].force_login(member)
        clients[member.pk].cookies["django_language"] = "en"
    cast_order = [m.pk for m in voters]
    random.shuffle(cast_order)
    before = time_columns()
    for pk in cast_order:
        cast_through_the_pages(clients[pk], poll, choice_of[pk])
    during = written_between(before, time_columns())
    assert Ballot.objects.filter(poll=poll).count() == VOTERS
    voter_of_choice = {choice: pk for pk, choice in choice_of.items()}
    return cast_order, voter_of_choice, during


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    # A rewrite that must wait (another transaction of the shared server
    # is older than the closing) comes back in a moment, not a minute.
    monkeypatch.setattr(voting.tasks, "RETRY_AFTER", datetime.timedelta(seconds=0.3))


def rewrite_jobs() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            task_path=ballot_tables_rewrite.module_path
        ).order_by("enqueued_at")
    )


def run_the_jobs(*, until_rewritten: int = 1, within: float = 120) -> None:
    """Run due jobs until the tables have been rewritten that many times."""
    deadline = time.monotonic() + within
    while True:
        call_command(
            "run_worker", batch=True, no_startup_delay=True, reload=False, interval=0
        )
        jobs = rewrite_jobs()
        assert {j.status for j in jobs} <= {
            TaskResultStatus.SUCCESSFUL,
            TaskResultStatus.READY,
        }
        done = [j for j in jobs if j.return_value == "rewritten"]
        if len(done) >= until_rewritten:
            return
        assert time.monotonic() < deadline, "the ballot tables were never rewritten"
        time.sleep(0.3)


def close_and_run_the_job(poll: Poll, chair: User) -> None:
    poll_close(poll=poll, by=chair)
    run_the_jobs()


@pytest.fixture
def attacked(appointment, voters, director_general):
    cast_order, voter_of_choice, during = run_the_vote(appointment, voters)
    close_and_run_the_job(appointment, voters[0])
    attack = Attack(appointment, voter_of_choice, cast_order, director_general)
    attack.read(during)
    return attack


def test_no_channel_pairs_more_voters_than_chance(attacked, capsys):
    """Each channel, ballot order beside voter order; printed with ``pytest -s``."""
    results, taus = attacked.results(), attacked.taus()
    with capsys.disabled():
        print(f"\n{connection.vendor}: voters paired, of {VOTERS}")
        for name, count in sorted(results.items()):
            print(f"  {count:3}  {name}")
        for name, tau in sorted(taus.items()):
            print(f"  tau {tau:+.2f}  {name} vs casting order")
        print("  written during the vote:", sorted(attacked.time_columns_of_the_vote))
    beaten = {n: c for n, c in results.items() if c > MOST_PAIRED_BY_CHANCE}
    assert not beaten
    ordered = {n: t for n, t in taus.items() if abs(t) >= MOST_TAU_BY_CHANCE}
    assert not ordered


def test_only_the_documented_time_columns_are_written_during_the_vote(attacked):
    # Scanned in every table: a new date or time value between the first
    # cast and the last. Ballot and participation have none; the session's
    # expiry orders the members by when they confirmed their login, as the
    # room sees them vote, and pairs with no ballot (test above).
    written = attacked.time_columns_of_the_vote
    assert ("django_session", "expire_date") in written  # the scan sees writes
    assert written <= DOCUMENTED_TIME_COLUMNS


# ---- the structure, read directly ------------------------------------------------


def cast_by_service(poll: Poll, voters: list[User]) -> list[int]:
    """Every voter casts (a different candidate each, when there are enough)."""
    keys = [f"c:{pk}" for pk in poll.candidates.values_list("pk", flat=True)]
    order = [m.pk for m in voters]
    random.shuffle(order)
    by_pk = {m.pk: m for m in voters}
    for n, pk in enumerate(order):
        secret_ballot_cast(poll=poll, by=by_pk[pk], choice=keys[n % len(keys)])
    return order


def sqlite_rowid_orders(poll: Poll) -> tuple[list[bytes], list[int]]:
    ballots = [
        bytes(c)
        for (c,) in rows(
            "SELECT ciphertext FROM voting_ballot WHERE poll_id = %s ORDER BY rowid",
            [poll.pk],
        )
    ]
    members = [
        m
        for (m,) in rows(
            "SELECT member_id FROM voting_participation WHERE poll_id = %s "
            "ORDER BY rowid",
            [poll.pk],
        )
    ]
    return ballots, members


@pytest.mark.skipif(not SQLITE, reason="the rowid is SQLite's")
def test_sqlite_rows_are_in_random_order_while_the_poll_is_open(appointment, voters):
    """A live reader of the SQLite file sees no casting order in the rowids."""
    order = cast_by_service(appointment, voters)
    _, members = sqlite_rowid_orders(appointment)
    assert sorted(members) == sorted(order)
    assert abs(kendall_tau(members, order)) < MOST_TAU_BY_CHANCE
    assert paired(members, order) <= MOST_PAIRED_BY_CHANCE
    rowids = [r for (r,) in rows("SELECT rowid FROM voting_ballot")]
    # Spread over the 63-bit range, not counted up from the last one.
    assert max(rowids) - min(rowids) > 2**40


@pytest.mark.skipif(not POSTGRES, reason="transaction ids are PostgreSQL's")
def test_postgresql_live_reader_pairs_by_transaction_id_while_open(appointment, voters):
    """The limit the docs state: during the vote, xmin pairs each voter."""
    cast_by_service(appointment, voters)
    ballots = Counter(
        x
        for (x,) in rows(
            "SELECT xmin::text FROM voting_ballot WHERE poll_id = %s", [appointment.pk]
        )
    )
    members = {
        x
        for (x,) in rows(
            "SELECT xmin::text FROM voting_participation WHERE poll_id = %s",
            [appointment.pk],
        )
    }
    assert set(ballots) == members and set(ballots.values()) == {1}


def sqlite_copies(ciphertexts) -> Counter:
    with open(connection.settings_dict["NAME"], "rb") as f:
        data = f.read()
    return Counter(len(re.findall(re.escape(c), data)) for c in ciphertexts)


@pytest.mark.skipif(not SQLITE, reason="secure_delete is SQLite's")
def test_sqlite_connections_overwrite_deleted_rows(transactional_db):
    connection.close()
    connection.ensure_connection()  # a new connection gets the pragma too
    assert rows("PRAGMA secure_delete") == [(1,)]


@pytest.mark.skipif(not SQLITE, reason="the file is SQLite's")
def test_sqlite_file_keeps_no_copy_of_a_deleted_ballot(appointment, voters):
    cast_by_service(appointment, voters)
    ciphertexts = set(Ballot.objects.values_list("ciphertext", flat=True))
    ciphertexts = {bytes(c) for c in ciphertexts}
    poll_close(poll=appointment, by=voters[0])
    # Closing deleted and re-inserted every ballot; the deleted cells are
    # zeroed at once, before the job even runs.
    assert sqlite_copies(ciphertexts) == Counter({1: VOTERS})
    run_the_jobs()
    assert sqlite_copies(ciphertexts) == Counter({1: VOTERS})


@pytest.mark.skipif(not SQLITE, reason="the file is SQLite's")
def test_sqlite_job_drops_copies_left_without_secure_delete(appointment, voters):
    """The check can fail: without the pragma the deleted copies stay, until VACUUM."""
    cast_by_service(appointment, voters)
    ciphertexts = {
        bytes(c) for c in Ballot.objects.values_list("ciphertext", flat=True)
    }
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete = OFF")
    try:
        poll_close(poll=appointment, by=voters[0])
        assert max(sqlite_copies(ciphertexts)) > 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
    run_the_jobs()
    assert sqlite_copies(ciphertexts) == Counter({1: VOTERS})


def heap_xmins(table: str) -> Counter:
    """Transaction ids of every row version in the table's pages, dead or alive."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    return Counter(
        x
        for (x,) in rows(
            "SELECT h.t_xmin::text FROM generate_series(0, "
            "  pg_relation_size(%s) / current_setting('block_size')::int - 1) b, "
            "LATERAL heap_page_items(get_raw_page(%s, b::int)) h "
            "WHERE h.lp_flags = 1",
            [table, table],
        )
    )


@pytest.mark.skipif(not POSTGRES, reason="row versions are PostgreSQL's")
def test_postgresql_job_leaves_no_dead_version_with_a_casting_xmin(appointment, voters):
    cast_by_service(appointment, voters)
    poll_close(poll=appointment, by=voters[0])
    (closing,) = rows(
        "SELECT xmin::text FROM voting_poll WHERE id = %s", [appointment.pk]
    )
    tables = ("voting_ballot", "voting_participation")
    # Before the job the deleted versions, with the casting xmins, are
    # still in the pages (what a reader of the files would find).
    before = {t: heap_xmins(t) for t in tables}
    assert all(len(before[t]) > 1 for t in tables)
    run_the_jobs()
    for table in tables:
        assert heap_xmins(table) == Counter({closing[0]: VOTERS}), table


def test_closing_queues_the_rewrite_and_the_chair_waits_for_no_vacuum(
    appointment, voters
):
    cast_by_service(appointment, voters)
    with CaptureQueriesContext(connection) as closing:
        poll_close(poll=appointment, by=voters[0])
    assert not [q for q in closing.captured_queries if "VACUUM" in q["sql"].upper()]
    (job,) = rewrite_jobs()
    assert job.status == TaskResultStatus.READY
    poll_id, closing_xid = job.args_kwargs["args"]
    assert poll_id == appointment.pk
    assert (closing_xid is not None) == POSTGRES


def test_the_rewrite_job_runs_twice_without_harm(appointment, voters):
    cast_by_service(appointment, voters)
    poll_close(poll=appointment, by=voters[0])
    box = set(Ballot.objects.values_list("tracker", flat=True))
    run_the_jobs()
    ballot_tables_rewrite.enqueue(appointment.pk)
    run_the_jobs(until_rewritten=2)
    assert set(Ballot.objects.values_list("tracker", flat=True)) == box
    assert Participation.objects.filter(poll=appointment, sealed=True).count() == VOTERS


@pytest.mark.skipif(not POSTGRES, reason="the table lock is PostgreSQL's")
def test_the_rewrite_gives_way_to_a_long_reader_and_comes_back(
    appointment, voters, monkeypatch, caplog
):
    from voting.services import box

    monkeypatch.setattr(box, "REWRITE_LOCK_TIMEOUT_MS", 200)
    monkeypatch.setattr(voting.tasks, "RETRY_AFTER", datetime.timedelta(minutes=1))
    cast_by_service(appointment, voters)
    poll_close(poll=appointment, by=voters[0])
    (queued,) = rewrite_jobs()
    with other_connection() as reader:
        reader.execute("SELECT count(*) FROM voting_ballot")  # holds its lock
        # Without the closing's id, only the lock stands in the way (on a
        # shared server some other transaction is often older).
        assert ballot_tables_rewrite.call(appointment.pk, None) == "postponed"
    assert "ballot tables busy" in caplog.text
    (later,) = [j for j in rewrite_jobs() if j.pk != queued.pk]
    assert later.run_after > timezone.now()
    assert later.args_kwargs["args"] == [appointment.pk, None]


@pytest.mark.skipif(not POSTGRES, reason="row versions are PostgreSQL's")
def test_the_rewrite_waits_for_transactions_older_than_the_closing(appointment, voters):
    """An older transaction (any database) would make VACUUM FULL keep the versions."""
    cast_by_service(appointment, voters)
    with other_connection() as older:
        older.execute("SELECT pg_current_xact_id()")  # running, with an id
        poll_close(poll=appointment, by=voters[0])
        (job,) = rewrite_jobs()
        assert ballot_tables_rewrite.call(*job.args_kwargs["args"]) == "postponed"
        assert len(heap_xmins("voting_ballot")) > 1
    run_the_jobs()
    (closing,) = rows(
        "SELECT xmin::text FROM voting_poll WHERE id = %s", [appointment.pk]
    )
    assert heap_xmins("voting_ballot") == Counter({closing[0]: VOTERS})


@pytest.mark.skipif(not POSTGRES, reason="snapshots are PostgreSQL's")
def test_the_rewrite_waits_for_a_snapshot_older_than_the_closing(appointment, voters):
    """A reading transaction of this database, with no id of its own."""
    cast_by_service(appointment, voters)
    with other_connection(repeatable_read=True) as reader:
        reader.execute("SELECT count(*) FROM django_session")  # its snapshot
        poll_close(poll=appointment, by=voters[0])
        (job,) = rewrite_jobs()
        assert ballot_tables_rewrite.call(*job.args_kwargs["args"]) == "postponed"
    run_the_jobs()
    (closing,) = rows(
        "SELECT xmin::text FROM voting_poll WHERE id = %s", [appointment.pk]
    )
    assert heap_xmins("voting_participation") == Counter({closing[0]: VOTERS})


@pytest.mark.skipif(not POSTGRES, reason="snapshots are PostgreSQL's")
def test_a_reading_session_s_snapshot_is_seen(transactional_db):
    """The part of the wait that other databases' transactions cannot hide."""
    from voting.services.box import snapshots_older_than

    with other_connection(repeatable_read=True) as reader:
        (xmin,) = reader.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
        ).fetchone()
        with connection.cursor() as cursor:
            assert snapshots_older_than(cursor, int(xmin))
    with connection.cursor() as cursor:
        assert not snapshots_older_than(cursor, int(xmin))


@contextmanager
def other_connection(*, repeatable_read: bool = False):
    """A second session of the database server, in a transaction."""
    import psycopg

    params = connection.get_connection_params()
    for private in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(private, None)
    with psycopg.connect(**params) as other:
        if repeatable_read:
            other.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        yield other
