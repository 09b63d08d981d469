"""Writing and verifying the hash-chained audit log.

Every service that changes state calls ``audit_record`` inside its transaction,
so an entry exists exactly when the change it describes was committed. Each
verification of the chain is itself recorded in it ("audit.verified"), so a
page can show the last result without walking the whole log.

Entries are authenticated with ``settings.AUDIT_KEY``, which is not in the
database. The head of the chain (sequence and hash) is anchored outside it:
appended to ``AUDIT_ANCHOR_DIR/anchors.jsonl`` after each verification and
each printed document, and printed on the document itself. A verification
checks every anchored head, so entries removed from the end show.
"""

import datetime
import fcntl
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from council.models import AuditEntry

logger = logging.getLogger(__name__)

ANCHOR_FILE = "anchors.jsonl"

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
    label: str = "system",
) -> AuditEntry:
    """Append one entry to the chain. Never put a secret choice in ``details``.

    ``label`` names the actor when ``by`` is nobody (a command, the system).
    """
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
            actor_ref=getattr(by, "pk", None),
            actor_label=by.display_name if getattr(by, "pk", None) else label,
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
    head_hash: str = ""
    anchors_checked: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class AuditHead:
    """The last entry of the chain, as printed on documents and anchored."""

    sequence: int
    entry_hash: str

    @property
    def short(self) -> str:
        return self.entry_hash[:16]


def audit_head() -> AuditHead | None:
    """The chain's last entry, or None for an empty log (one query)."""
    last = (
        AuditEntry.objects.order_by("-sequence").only("sequence", "entry_hash").first()
    )
    return AuditHead(last.sequence, last.entry_hash) if last else None


def _anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR) / ANCHOR_FILE


def audit_anchors() -> set[tuple[int, str]]:
    """Every (sequence, hash) anchored so far.

    A line that does not read counts as an anchor no entry matches, so damage
    to the file shows.
    """
    try:
        text = _anchor_path().read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    anchors: set[tuple[int, str]] = set()
    for line in text.splitlines():
        if line.strip():
            anchors.add(_read_anchor(line) or (0, ""))
    return anchors


def _read_anchor(line: str) -> tuple[int, str] | None:
    try:
        row = json.loads(line)
        return int(row["sequence"]), str(row["hash"])
    except (ValueError, KeyError, TypeError):
        return None


def audit_anchor() -> AuditHead | None:
    """Append the committed head of the chain to the anchor file; return it.

    The file only grows: a head already anchored is not written twice, and an
    anchor is never removed, so a chain cut below it stays reported.
    """
    head = audit_head()
    if head is None:
        return None
    path = _anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        lines = [line for line in file.read().splitlines() if line.strip()]
        last = _read_anchor(lines[-1]) if lines else None
        if last != (head.sequence, head.entry_hash):
            file.write(
                json.dumps(
                    {"sequence": head.sequence, "hash": head.entry_hash},
                    sort_keys=True,
                )
                + "\n"
            )
            file.flush()
    return head


def _anchor_problems(
    anchors: set[tuple[int, str]], seen: dict[int, str], last_sequence: int
) -> list[ChainProblem]:
    problems = [
        ChainProblem(sequence, "differs from the anchored head of the chain")
        for sequence, anchored in sorted(anchors)
        if sequence <= last_sequence and seen.get(sequence) != anchored
    ]
    beyond = max((sequence for sequence, _ in anchors), default=0)
    if beyond > last_sequence:
        problems.append(
            ChainProblem(
                beyond,
                f"entries were removed from the end: entry {beyond} was anchored, "
                f"the chain ends at {last_sequence}",
            )
        )
    return problems


def audit_verify() -> ChainReport:
    """Walk the whole chain and check it against its anchors.

    Reports every altered, missing, reordered or forged entry and a chain
    shorter than an anchored head.
    """
    problems: list[ChainProblem] = []
    anchors = audit_anchors()
    anchored = {sequence for sequence, _ in anchors}
    seen: dict[int, str] = {}
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
        if entry.sequence in anchored:
            seen[entry.sequence] = entry.entry_hash
        expected_previous = entry.entry_hash
        expected_sequence = entry.sequence + 1
    last_sequence = expected_sequence - 1
    problems += _anchor_problems(anchors, seen, last_sequence)
    head_hash = expected_previous if entries else ""
    return ChainReport(problems, entries, last_sequence, head_hash, len(anchors))


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
    # After commit: an anchor naming an entry that was rolled back would
    # report a truncation that never happened.
    transaction.on_commit(_anchor_quietly)
    return report


def _anchor_quietly() -> None:
    try:
        audit_anchor()
    except OSError:
        # The verification is recorded; a missing anchor only weakens the next.
        logger.exception("the audit chain's head could not be anchored")


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
