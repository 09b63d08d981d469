"""Writing and verifying the hash-chained audit log.

Every service that changes state calls ``audit_record`` inside its transaction,
so an entry exists exactly when the change it describes was committed. Each
verification of the chain is itself recorded in it ("audit.verified"), so a
page can show the last result without walking the whole log.
"""

import datetime
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


@dataclass(frozen=True)
class ChainReport:
    """What one walk of the chain found."""

    problems: list[ChainProblem]
    entries: int
    last_sequence: int

    @property
    def intact(self) -> bool:
        return not self.problems


def audit_verify() -> ChainReport:
    """Walk the whole chain; report every altered, missing or reordered link."""
    problems: list[ChainProblem] = []
    expected_previous = AuditEntry.GENESIS
    expected_sequence = 1
    entries = 0
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000):
        entries += 1
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
    return ChainReport(problems, entries, expected_sequence - 1)


# ---- the record of verifications ------------------------------------------------

VERIFIED = "audit.verified"
# A broken chain can hold any number of problems; its entry names the first ones.
PROBLEMS_KEPT = 50


@dataclass(frozen=True)
class Verification:
    """The result of one verification, as its audit entry keeps it."""

    at: datetime.datetime
    by: str
    intact: bool
    entries: int
    last_sequence: int
    problem_count: int
    problems: list[ChainProblem]


def audit_verify_and_record(*, by, body=None) -> ChainReport:
    """Walk the chain and append the result to it as an "audit.verified" entry."""
    report = audit_verify()
    audit_record(
        by=by,
        action=VERIFIED,
        body=body,
        details={
            "intact": report.intact,
            "entries": report.entries,
            "last_sequence": report.last_sequence,
            "problem_count": len(report.problems),
            "problems": [[p.sequence, p.reason] for p in report.problems][
                :PROBLEMS_KEPT
            ],
        },
    )
    return report


def audit_last_verification() -> Verification | None:
    """The latest recorded verification, read in one query whatever the log's size."""
    entry = (
        AuditEntry.objects.filter(action=VERIFIED)
        .order_by("-sequence")
        .only("at", "actor_label", "details")
        .first()
    )
    if entry is None:
        return None
    details = entry.details
    return Verification(
        at=entry.at,
        by=entry.actor_label,
        intact=bool(details.get("intact")),
        entries=int(details.get("entries", 0)),
        last_sequence=int(details.get("last_sequence", 0)),
        problem_count=int(details.get("problem_count", 0)),
        problems=[ChainProblem(int(n), str(r)) for n, r in details.get("problems", [])],
    )
