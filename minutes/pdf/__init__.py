"""PDF documents: pure functions from stored content to bytes (no HTTP, no ORM)."""

from minutes.pdf.documents import (
    Extract,
    attendance_register,
    decision_extract,
    decision_extracts,
    minutes_document,
)

__all__ = [
    "Extract",
    "attendance_register",
    "decision_extract",
    "decision_extracts",
    "minutes_document",
]
