"""Reads for the pages: the DG's oversight, compliance warnings, the audit log."""

import datetime
import difflib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from council.models import AuditEntry, Body
from meetings.models import Meeting
from meetings.services.compliance import (
    REQUIRED_MEETINGS,
    YearCompliance,
    year_compliance,
)
from minutes import text as words
from minutes.models import DecisionRecord, Minutes
from voting import selectors as voting_selectors

UNSIGNED_AFTER_DAYS = 30


@dataclass(frozen=True)
class Warning:
    level: str  # "warning" or "notice"
    message: str


def records_with_state(body: Body, year: int | None = None) -> list[tuple]:
    """Every decision record of the body with its state, in three queries' cost."""
    found = (
        DecisionRecord.objects.filter(body=body)
        .select_related("meeting", "meeting__minutes", "item", "superseded_by")
        .order_by("-year", "-sequence")
    )
    if year is not None:
        found = found.filter(year=year)
    result = []
    for record in found:
        try:
            replaced = record.superseded_by is not None
        except DecisionRecord.DoesNotExist:
            replaced = False
        try:
            adopted = record.meeting.minutes.is_adopted
        except Minutes.DoesNotExist:
            adopted = False
        result.append(
            (record, record.state_given(superseded=replaced, minutes_adopted=adopted))
        )
    return result


def minutes_pending(body: Body):
    return (
        Minutes.objects.filter(meeting__body=body)
        .exclude(state=Minutes.State.ADOPTED)
        .select_related("meeting", "approval_item__meeting")
        .annotate(objection_count=Count("objections"))
        .order_by("meeting__starts_at")
    )


def sealed_polls(body: Body) -> list:
    """Secret polls closed but not yet unsealed by a keyholder."""
    return voting_selectors.sealed_polls(body)


def ten_meetings(body: Body, today: datetime.date | None = None) -> YearCompliance:
    """The ten-meetings rule as the meetings app counts it (one rule, one place)."""
    if today is None:
        return year_compliance(body)
    noon = datetime.datetime.combine(
        today, datetime.time(12), tzinfo=ZoneInfo(body.time_zone)
    )
    return year_compliance(body, today.year, now=noon)


def compliance_warnings(
    body: Body, today: datetime.date | None = None
) -> list[Warning]:
    year = ten_meetings(body, today)
    warnings = []
    if year.behind_pace:
        warnings.append(
            Warning(
                "warning",
                _(
                    "Only %(held)s this year while %(expected)s to reach "
                    "%(minimum)d (L1122-11)."
                )
                % {
                    "held": ngettext(
                        "%(count)d sitting held in the room",
                        "%(count)d sittings held in the room",
                        year.held_physical,
                    )
                    % {"count": year.held_physical},
                    "expected": ngettext(
                        "%(count)d was due by now",
                        "%(count)d were due by now",
                        year.expected_by_now,
                    )
                    % {"count": year.expected_by_now},
                    "minimum": REQUIRED_MEETINGS,
                },
            )
        )
    if year.missing:
        warnings.append(
            Warning(
                "notice",
                _(
                    "%(planned)d sittings in the room are planned for %(year)d; "
                    "the law asks for at least %(minimum)d."
                )
                % {
                    "planned": year.planned_physical,
                    "year": year.year,
                    "minimum": REQUIRED_MEETINGS,
                },
            )
        )
    undrafted = Meeting.objects.filter(
        body=body, state=Meeting.State.CLOSED, minutes__isnull=True
    ).order_by("starts_at")
    for meeting in undrafted:
        warnings.append(
            Warning(
                "warning",
                _("The minutes of “%(title)s” have not been drafted yet.")
                % {"title": meeting.title},
            )
        )
    drafts = Minutes.objects.filter(
        meeting__body=body, state=Minutes.State.DRAFT
    ).select_related("meeting")
    upcoming = (
        Meeting.objects.editable()
        .filter(body=body, starts_at__gte=timezone.now())
        .select_related("body")
        .order_by("starts_at")
        .first()
    )
    if upcoming is not None:
        for minutes in drafts:
            if minutes.meeting.starts_at < upcoming.starts_at:
                warnings.append(
                    Warning(
                        "warning",
                        _(
                            "The minutes of “%(title)s” must be available before "
                            "the next sitting on %(date)s; they are still a draft."
                        )
                        % {
                            "title": minutes.meeting.title,
                            "date": upcoming.sitting_day,
                        },
                    )
                )
    late = DecisionRecord.objects.filter(
        body=body,
        signed_on__isnull=True,
        superseded_by__isnull=True,
        printed_at__lt=timezone.now() - datetime.timedelta(days=UNSIGNED_AFTER_DAYS),
    ).count()
    if late:
        warnings.append(
            Warning(
                "notice",
                _(
                    "%(count)d printed decision records are still unsigned after "
                    "%(days)d days."
                )
                % {"count": late, "days": UNSIGNED_AFTER_DAYS},
            )
        )
    return warnings


def audit_entries(
    body: Body,
    *,
    action: str = "",
    actor: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
):
    entries = AuditEntry.objects.filter(body=body).order_by("-sequence")
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return entries


# ---- versions and diffs ----------------------------------------------------------


def content_lines(content: dict) -> list[str]:
    """The minutes as lines of text, for comparing two versions."""
    lines = [content.get("introduction", "")]
    tz = content["meeting"]["time_zone"]
    for person in content["attendance"]["present"]:
        lines.append(
            f"{person['name']} {words.clock(person['arrived'], tz)}"
            f"–{words.clock(person.get('left'), tz)}"
        )
    lines.append(
        _("Excused: %(names)s")
        % {"names": ", ".join(p["name"] for p in content["attendance"]["excused"])}
    )
    for item in content["items"]:
        lines.append(f"{item['position']}. {item['title']}")
        for speech in item["speeches"]:
            lines.append(f"  {speech['name']} ({words.duration(speech['seconds'])})")
        lines += (item.get("summary") or "").splitlines()
        lines += words.outcome_lines(item.get("vote"))
        lines += (item.get("decision") or "").splitlines()
    return [line for line in lines if line is not None]


def diff_table(old: dict, new: dict, old_label: str, new_label: str) -> str:
    """Side-by-side HTML diff; difflib escapes the text it shows."""
    return difflib.HtmlDiff(wrapcolumn=70).make_table(
        content_lines(old),
        content_lines(new),
        fromdesc=old_label,
        todesc=new_label,
        context=True,
        numlines=2,
    )
