"""Someone holding the database rewrites the audit log; verification sees it.

Each attack writes the table with raw SQL, as an administrator with a copy of
the database would: the model's append-only guard is not in the way. The
attacker does not have ``AUDIT_KEY`` nor the anchor file.
"""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from council.audit import audit_anchor, audit_anchors, audit_record, audit_verify
from council.models import AuditEntry
from tests.factories import make_user

pytestmark = pytest.mark.django_db

TABLE = AuditEntry._meta.db_table
GUESSED_KEY = b"what an attacker without the key would use, any guess"


def _sql(query: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(query, params)


def _problems() -> list[tuple[int, str]]:
    return [(p.sequence, p.reason) for p in audit_verify().problems]


def _reasons() -> set[str]:
    return {reason for _, reason in _problems()}


def _truncated(anchored: int, ends: int) -> tuple[int, str]:
    return (
        anchored,
        f"entries were removed from the end: entry {anchored} was anchored, "
        f"the chain ends at {ends}",
    )


def _command_fails() -> None:
    with pytest.raises(CommandError, match="The audit chain is broken"):
        call_command("verify_audit")


def _rehash_from(sequence: int, *, key: bytes = GUESSED_KEY) -> None:
    """Relink and rehash every entry from ``sequence`` on, under ``key``."""
    previous = AuditEntry.objects.filter(sequence__lt=sequence).order_by("-sequence")
    previous_hash = previous[0].entry_hash if previous else AuditEntry.GENESIS
    with override_settings(AUDIT_KEY=key):
        for entry in AuditEntry.objects.filter(sequence__gte=sequence).order_by(
            "sequence"
        ):
            entry.previous_hash = previous_hash
            entry.details_digest = entry.compute_details_digest()
            entry.entry_hash = entry.compute_hash()
            _sql(
                f"UPDATE {TABLE} SET previous_hash = %s, details_digest = %s, "  # noqa: S608
                "entry_hash = %s WHERE id = %s",
                [entry.previous_hash, entry.details_digest, entry.entry_hash, entry.pk],
            )
            previous_hash = entry.entry_hash


@pytest.fixture
def chain(body, clerk):
    """Five entries, a recorded vote among them, and the head anchored."""
    entries = [
        audit_record(
            by=clerk,
            action="voting.vote.cast" if n == 3 else f"meeting.step{n}",
            obj=body,
            body=body,
            details={"n": n, "choice": "yes"} if n == 3 else {"n": n},
        )
        for n in range(1, 6)
    ]
    assert audit_anchor().sequence == 5
    assert _problems() == []
    return entries


def test_an_altered_entry_is_reported(chain):
    _sql(f"UPDATE {TABLE} SET action = %s WHERE sequence = 2", ["meeting.nothing"])  # noqa: S608
    assert _problems() == [(2, "entry was altered")]
    _command_fails()


def test_a_changed_vote_with_hashes_recomputed_without_the_key_is_reported(chain):
    _sql(
        f"UPDATE {TABLE} SET details = %s WHERE sequence = 3",  # noqa: S608
        [json.dumps({"n": 3, "choice": "no"})],
    )
    _rehash_from(3)
    problems = _problems()
    assert {(n, "entry was altered") for n in (3, 4, 5)} <= set(problems)
    assert (5, "differs from the anchored head of the chain") in problems
    _command_fails()


def test_a_whole_chain_rehashed_under_another_key_is_reported(chain):
    _rehash_from(1, key=b"")
    assert {n for n, reason in _problems() if reason == "entry was altered"} == {
        1,
        2,
        3,
        4,
        5,
    }


def test_an_entry_deleted_in_the_middle_is_reported(chain):
    _sql(f"DELETE FROM {TABLE} WHERE sequence = 3")  # noqa: S608
    reasons = _reasons()
    assert "sequence jumps from 2 to 4" in reasons
    assert "does not follow the previous entry" in reasons
    _command_fails()


def test_entries_deleted_from_the_end_are_reported_against_the_anchor(chain):
    _sql(f"DELETE FROM {TABLE} WHERE sequence >= 4")  # noqa: S608
    # The remaining links are all intact: only the anchor knows of 4 and 5.
    assert _problems() == [_truncated(5, 3)]
    _command_fails()


def test_the_verify_command_anchors_the_head_it_recorded(
    chain, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("verify_audit")
    # The verification is entry 6, and the anchor names it.
    head = AuditEntry.objects.get(sequence=6)
    assert (6, head.entry_hash) in audit_anchors()
    _sql(f"DELETE FROM {TABLE} WHERE sequence = 6")  # noqa: S608
    assert _problems() == [_truncated(6, 5)]


def test_an_appended_forged_entry_is_reported(chain):
    last = AuditEntry.objects.get(sequence=5)
    forged = AuditEntry(
        sequence=6,
        at=last.at,
        actor_label="system",
        action="voting.poll.unseal",
        details={},
        previous_hash=last.entry_hash,
    )
    forged.details_digest = forged.compute_details_digest()
    with override_settings(AUDIT_KEY=GUESSED_KEY):
        forged.entry_hash = forged.compute_hash()
    _sql(
        f"INSERT INTO {TABLE} (sequence, at, actor_label, action, object_type, "  # noqa: S608
        "object_id, details, details_digest, previous_hash, entry_hash) "
        f"SELECT %s, at, %s, %s, '', '', %s, %s, %s, %s FROM {TABLE} "
        "WHERE sequence = 5",
        [
            6,
            forged.actor_label,
            forged.action,
            "{}",
            forged.details_digest,
            forged.previous_hash,
            forged.entry_hash,
        ],
    )
    assert _problems() == [(6, "entry was altered")]
    _command_fails()


def test_deleting_and_renumbering_is_reported(chain):
    _sql(f"DELETE FROM {TABLE} WHERE sequence = 3")  # noqa: S608
    for sequence in (4, 5):
        _sql(
            f"UPDATE {TABLE} SET sequence = %s WHERE sequence = %s",  # noqa: S608
            [sequence - 1, sequence],
        )
    _rehash_from(3)
    problems = _problems()
    assert (3, "entry was altered") in problems
    assert (4, "entry was altered") in problems
    assert _truncated(5, 4) in problems
    _command_fails()


def test_reordering_and_rehashing_is_reported(chain):
    _sql(f"UPDATE {TABLE} SET sequence = 1000 WHERE sequence = 2")  # noqa: S608
    _sql(f"UPDATE {TABLE} SET sequence = 2 WHERE sequence = 3")  # noqa: S608
    _sql(f"UPDATE {TABLE} SET sequence = 3 WHERE sequence = 1000")  # noqa: S608
    _rehash_from(2)
    problems = _problems()
    assert {(n, "entry was altered") for n in (2, 3, 4, 5)} <= set(problems)
    assert (5, "differs from the anchored head of the chain") in problems
    _command_fails()


def test_a_rewrite_under_the_real_key_still_differs_from_the_anchor(chain, settings):
    """Even whoever holds the key cannot rewrite below a head anchored outside."""
    _sql(f"UPDATE {TABLE} SET action = %s WHERE sequence = 4", ["meeting.nothing"])  # noqa: S608
    _rehash_from(4, key=settings.AUDIT_KEY)
    assert _problems() == [(5, "differs from the anchored head of the chain")]


def test_a_damaged_anchor_file_is_reported(chain, settings):
    with open(settings.AUDIT_ANCHOR_DIR / "anchors.jsonl", "a") as file:
        file.write("not an anchor\n")
    assert _problems() == [(0, "differs from the anchored head of the chain")]


def test_anchoring_only_adds_and_never_repeats_a_head(chain, settings, body):
    audit_anchor()
    audit_anchor()
    lines = (settings.AUDIT_ANCHOR_DIR / "anchors.jsonl").read_text().splitlines()
    assert len(lines) == 1
    audit_record(by=None, action="meeting.step6", body=body)
    assert audit_anchor().sequence == 6
    assert {sequence for sequence, _ in audit_anchors()} == {5, 6}


def test_deleting_a_user_raises_no_false_alarm(body):
    person = make_user(first_name="Partie")
    for n in range(3):
        audit_record(by=person, action=f"meeting.step{n}", body=body)
    audit_anchor()
    person_id = person.pk
    person.delete()
    entry = AuditEntry.objects.get(sequence=1)
    assert entry.actor is None
    assert entry.actor_ref == person_id
    assert _problems() == []
    call_command("verify_audit")


def test_a_rewritten_actor_is_reported(body, clerk, director_general):
    audit_record(by=clerk, action="meeting.step1", body=body)
    _sql(
        f"UPDATE {TABLE} SET actor_ref = %s, actor_id = %s WHERE sequence = 1",  # noqa: S608
        [director_general.pk, director_general.pk],
    )
    assert _problems() == [(1, "entry was altered")]
