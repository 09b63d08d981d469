"""Writing and verifying the hash-chained audit log.

Every service that changes state calls ``audit_record`` inside its transaction,
so an entry exists exactly when the change it describes was committed.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from council.models import AuditEntry

# Any fixed number: the key of the PostgreSQL advisory lock serialising appends.
_CHAIN_LOCK = 7_441_122


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    # SQLite runs with transaction_mode=IMMEDIATE: one writer at a time already.


def audit_record(
    *,
    by,
    action: str,
    obj=None,
    body=None,
    details: dict | None = None,
) -> AuditEntry:
    """Append one entry to the chain. Never put a secret choice in ``details``."""
    with transaction.atomic():
        _lock_chain()
        last = (
            AuditEntry.objects.order_by("-sequence")
            .only("sequence", "entry_hash")
            .first()
        )
        entry = AuditEntry(
            sequence=(last.sequence + 1) if last else 1,
            at=timezone.now(),
            actor=by if getattr(by, "pk", None) else None,
            actor_label=by.display_name if getattr(by, "pk", None) else "system",
            action=action,
            body=body,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            details=details or {},
            previous_hash=last.entry_hash if last else AuditEntry.GENESIS,
        )
        entry.details_digest = entry.compute_details_digest()
        entry.entry_hash = entry.compute_hash()
        entry.save()
        return entry


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    reason: str


def audit_verify() -> list[ChainProblem]:
    """Walk the whole chain; report every altered, missing or reordered link."""
    problems: list[ChainProblem] = []
    expected_previous = AuditEntry.GENESIS
    expected_sequence = 1
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000):
        if entry.sequence != expected_sequence:
            problems.append(
                ChainProblem(
                    entry.sequence,
                    f"sequence jumps from {expected_sequence - 1} to {entry.sequence}",
                )
            )
        if entry.previous_hash != expected_previous:
            problems.append(
                ChainProblem(entry.sequence, "does not follow the previous entry")
            )
        if entry.details_digest != entry.compute_details_digest():
            problems.append(ChainProblem(entry.sequence, "details were altered"))
        if entry.entry_hash != entry.compute_hash():
            problems.append(ChainProblem(entry.sequence, "entry was altered"))
        expected_previous = entry.entry_hash
        expected_sequence = entry.sequence + 1
    return problems
