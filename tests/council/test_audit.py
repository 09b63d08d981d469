"""The audit log is a hash chain: any altered, deleted or reordered entry shows."""

import hashlib
import hmac
import importlib
import threading

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from council.audit import audit_anchor, audit_record, audit_verify
from council.models import AuditEntry
from tests.council.test_settings import _child, settings_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(body, clerk):
    return [
        audit_record(
            by=clerk,
            action=f"meeting.step{n}",
            obj=body,
            body=body,
            details={"n": n, "title": f"Séance {n}"},
        )
        for n in range(1, 6)
    ]


def _verify_fails() -> str:
    with pytest.raises(CommandError, match="The audit chain is broken") as info:
        call_command("verify_audit")
    return str(info.value)


def _reasons() -> set[str]:
    return {problem.reason for problem in audit_verify().problems}


def test_entries_chain_one_to_the_next(chain, clerk, body):
    assert [e.sequence for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].previous_hash == AuditEntry.GENESIS
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.previous_hash == before.entry_hash
    first = chain[0]
    assert first.actor == clerk
    assert first.actor_label == clerk.display_name
    assert first.object_type == "council.body"
    assert first.object_id == str(body.pk)
    assert len(first.details_digest) == 64


def test_system_entry_has_no_actor(db):
    entry = audit_record(by=None, action="system.start")
    assert entry.actor is None
    assert entry.actor_label == "system"


def test_verify_audit_passes_on_an_intact_chain(chain, capsys):
    call_command("verify_audit")
    assert "Audit chain intact: 5 entries." in capsys.readouterr().out
    assert audit_verify().problems == []


def test_verify_audit_passes_on_an_empty_log(db, capsys):
    call_command("verify_audit")
    assert "0 entries" in capsys.readouterr().out


def test_altered_details_are_detected(chain):
    AuditEntry.objects.filter(sequence=3).update(details={"n": 3, "title": "Autre"})
    assert "details were altered" in _reasons()
    _verify_fails()


def test_altered_details_with_a_recomputed_digest_are_detected(chain):
    forged = AuditEntry.objects.get(sequence=3)
    forged.details = {"n": 3, "title": "Autre"}
    AuditEntry.objects.filter(sequence=3).update(
        details=forged.details, details_digest=forged.compute_details_digest()
    )
    assert [p.sequence for p in audit_verify().problems] == [3]
    assert _reasons() == {"entry was altered"}


def test_altered_action_is_detected(chain):
    AuditEntry.objects.filter(sequence=2).update(action="meeting.nothing")
    problems = audit_verify().problems
    assert [(p.sequence, p.reason) for p in problems] == [(2, "entry was altered")]
    _verify_fails()


def test_rewritten_entry_breaks_the_next_link(chain):
    """Recomputing the altered entry's own hash still breaks the following entry."""
    forged = AuditEntry.objects.get(sequence=2)
    forged.action = "meeting.nothing"
    AuditEntry.objects.filter(sequence=2).update(
        action=forged.action, entry_hash=forged.compute_hash()
    )
    assert [(p.sequence, p.reason) for p in audit_verify().problems] == [
        (3, "does not follow the previous entry")
    ]


def test_deleted_middle_entry_is_detected(chain):
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE sequence = %s", [3])  # noqa: S608
    reasons = _reasons()
    assert "sequence jumps from 2 to 4" in reasons
    assert "does not follow the previous entry" in reasons
    message = _verify_fails()
    assert "2 place(s)" in message


def test_reordered_entries_are_detected(chain):
    AuditEntry.objects.filter(sequence=2).update(sequence=1000)
    AuditEntry.objects.filter(sequence=3).update(sequence=2)
    AuditEntry.objects.filter(sequence=1000).update(sequence=3)
    problems = audit_verify().problems
    assert {p.sequence for p in problems} >= {2, 3}
    assert "does not follow the previous entry" in {p.reason for p in problems}
    _verify_fails()


def test_entries_cannot_be_changed_or_deleted_through_the_model(chain):
    entry = AuditEntry.objects.get(sequence=2)
    entry.action = "meeting.nothing"
    with pytest.raises(ValidationError, match="append-only"):
        entry.save()
    with pytest.raises(ValidationError, match="append-only"):
        entry.delete()
    assert AuditEntry.objects.get(sequence=2).action == "meeting.step2"
    assert audit_verify().problems == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_share_a_sequence(body):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency is only real on PostgreSQL (set DATABASE_URL).")
    threads_count, per_thread = 8, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit_record(by=None, action="load.test", details={"w": worker, "n": n})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=write, args=(i,)) for i in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    sequences = list(AuditEntry.objects.values_list("sequence", flat=True))
    assert len(sequences) == threads_count * per_thread
    assert sorted(sequences) == list(range(1, threads_count * per_thread + 1))
    assert audit_verify().problems == []


# ---- the key outside the database ---------------------------------------------

_KEY = """
import hashlib, hmac, council.settings as s
print(hmac.new(s.AUDIT_KEY, b"probe", hashlib.sha256).hexdigest())
"""


def _key_probe(**env) -> str:
    result = _child(_KEY, **({"AUDIT_KEY": None, "AUDIT_KEY_FILE": None} | env))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_audit_key_is_derived_from_the_secret_key_under_its_own_label():
    derived = _key_probe(DJANGO_SECRET_KEY="secret-one")
    assert derived == _key_probe(DJANGO_SECRET_KEY="secret-one")
    assert derived != _key_probe(DJANGO_SECRET_KEY="secret-two")
    raw = hmac.new(b"secret-one", b"probe", hashlib.sha256).hexdigest()
    assert derived != raw


def test_the_audit_key_is_read_from_the_environment_or_a_file(tmp_path):
    key = "k" * 40
    (tmp_path / "audit-key").write_text(key + "\n")
    direct = _key_probe(AUDIT_KEY=key, DJANGO_SECRET_KEY="secret-one")
    assert direct == hmac.new(key.encode(), b"probe", hashlib.sha256).hexdigest()
    assert direct == _key_probe(
        AUDIT_KEY_FILE=str(tmp_path / "audit-key"), DJANGO_SECRET_KEY="secret-two"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUDIT_KEY": "short"}, "AUDIT_KEY (or AUDIT_KEY_FILE) is 5 characters long"),
        ({"AUDIT_KEY_FILE": "/nonexistent/audit-key"}, "cannot be read"),
        ({"AUDIT_KEY_FILE": "/dev/null"}, "is 0 characters long"),
    ],
    ids=["short", "missing-file", "empty-file"],
)
def test_a_bad_audit_key_stops_start_up(env, message):
    assert message in settings_error(**env)


def test_entries_are_keyed_by_the_server_secret(chain, settings):
    """The same entry under another key does not verify: the key is not in the
    database."""
    assert audit_verify().intact
    settings.AUDIT_KEY = b"another key entirely, as a copy of the database has"
    assert {p.sequence for p in audit_verify().problems} == {1, 2, 3, 4, 5}


def test_verify_audit_prints_the_head_and_the_anchors_checked(chain, capsys):
    audit_anchor()
    call_command("verify_audit")
    out = capsys.readouterr().out
    head = AuditEntry.objects.get(sequence=5).entry_hash[:16]
    assert f"Head: entry 5, {head}; 1 anchored head(s) checked." in out


def test_the_migration_rekeys_an_intact_unkeyed_chain_and_keeps_a_break(body, clerk):
    """Entries written before the key re-verify; a break found stays reported."""
    migration = importlib.import_module("council.migrations.0003_audit_keyed_chain")
    previous = AuditEntry.GENESIS
    for n in range(1, 5):
        entry = AuditEntry(
            sequence=n,
            at=timezone.now(),
            actor=clerk,
            actor_label=clerk.display_name,
            action=f"meeting.step{n}",
            body=body,
            details={"n": n},
            previous_hash=previous,
        )
        entry.details_digest = entry.compute_details_digest()
        entry.entry_hash = hashlib.sha256(
            migration._material(entry, clerk.pk)
        ).hexdigest()
        entry.save()
        previous = entry.entry_hash
    AuditEntry.objects.filter(sequence=4).update(action="forged")
    migration.rekey_chain(django_apps, None)
    assert set(AuditEntry.objects.values_list("actor_ref", flat=True)) == {clerk.pk}
    assert [(p.sequence, p.reason) for p in audit_verify().problems] == [
        (4, "does not follow the previous entry"),
        (4, "entry was altered"),
    ]
