"""Demo: the minutes and decision records of the demo's past sitting.

The clerk drafts the minutes from what the sitting recorded and writes two
summaries; the director-general approves them, which puts their approval on
the agenda of the next sitting; the clerk registers the decisions so that
extracts can be printed.
"""

import contextlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from meetings.models import AgendaItem, Meeting
from minutes import services
from minutes.models import DecisionRecord, Minutes

# Summaries of the debate, as a clerk writes them (by item position).
SUMMARIES = {
    3: "M. le Conseiller du groupe Ecolo regrette l'indexation des montants "
    "pour les documents demandés par les personnes à faible revenu. "
    "L'échevin des finances répond que les exonérations existantes sont "
    "maintenues.",
    8: "Le groupe Les Engagés présente la motion. La majorité rappelle que la "
    "décision appartient à l'opérateur postal et propose d'interpeller "
    "celui-ci par courrier.",
}


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
        minutes = services.minutes_generate(meeting=meeting, by=cast.clerk)
        minutes = _summaries(minutes, cast)
        _approve(minutes, cast)
    if not DecisionRecord.objects.filter(meeting=meeting).exists():
        # Nothing may be decided (yet) in the demo sitting.
        with contextlib.suppress(ValidationError):
            services.decision_records_issue(meeting=meeting, by=cast.clerk)


def _summaries(minutes: Minutes, cast) -> Minutes:
    summaries = {
        item["id"]: SUMMARIES[item["position"]]
        for item in minutes.content["items"]
        if item["position"] in SUMMARIES and not item.get("summary")
    }
    if not summaries:
        return minutes
    return services.minutes_edit(minutes=minutes, by=cast.clerk, summaries=summaries)


def _approve(minutes: Minutes, cast) -> None:
    """The DG approves; the approval item already on the next agenda is used."""
    target = services.next_sitting(minutes.meeting)
    if target is not None and minutes.approval_item_id is None:
        item = (
            target.items.filter(kind=AgendaItem.Kind.MINUTES_APPROVAL)
            .filter(approved_minutes__isnull=True)
            .order_by("position")
            .first()
        )
        if item is not None:
            minutes.approval_item = item
            minutes.save(update_fields=["approval_item"])
    services.minutes_approve(minutes=minutes, by=cast.director_general)
