"""Demo: draft the minutes and register the decisions of the demo's past sitting."""

import contextlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from meetings.models import Meeting
from minutes import services
from minutes.models import DecisionRecord, Minutes


@transaction.atomic
def seed(cast) -> None:
    """Idempotent; does nothing until another app seeds a closed past sitting."""
    meeting = (
        Meeting.objects.filter(
            body=cast.body, state=Meeting.State.CLOSED, starts_at__lt=timezone.now()
        )
        .order_by("-starts_at")
        .first()
    )
    if meeting is None:
        return
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None or minutes.is_draft:
        services.minutes_generate(meeting=meeting, actor=cast.clerk)
    if not DecisionRecord.objects.filter(meeting=meeting).exists():
        # Nothing may be decided (yet) in the demo sitting.
        with contextlib.suppress(ValidationError):
            services.decision_records_issue(meeting=meeting, actor=cast.clerk)
