"""The ten-meetings-a-year rule (L1122-11), counted per body and calendar year."""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone

from council.models import Body
from meetings.models import PHYSICAL_MODES, Meeting

REQUIRED_MEETINGS = 10
# Councils rarely sit in July and August: one meeting behind the even pace
# is normal and not yet worth a warning.
PACE_SLACK = 1


@dataclass(frozen=True)
class YearCompliance:
    year: int
    held: dict[str, int]  # closed sittings by mode
    scheduled: dict[str, int]  # not yet held (draft, convened, live) by mode
    expected_by_now: int

    @property
    def held_physical(self) -> int:
        return sum(self.held.get(mode, 0) for mode in PHYSICAL_MODES)

    @property
    def held_remote(self) -> int:
        return self.held.get(Meeting.Mode.REMOTE, 0)

    @property
    def planned_remote(self) -> int:
        return self.held_remote + self.scheduled.get(Meeting.Mode.REMOTE, 0)

    @property
    def scheduled_physical(self) -> int:
        return sum(self.scheduled.get(mode, 0) for mode in PHYSICAL_MODES)

    @property
    def planned_physical(self) -> int:
        return self.held_physical + self.scheduled_physical

    @property
    def missing(self) -> int:
        return max(0, REQUIRED_MEETINGS - self.planned_physical)

    @property
    def behind_pace(self) -> bool:
        return self.held_physical + PACE_SLACK < self.expected_by_now

    @property
    def on_track(self) -> bool:
        return self.missing == 0 and not self.behind_pace

    def rows(self) -> list[tuple[str, int, int]]:
        return [
            (label, self.held.get(mode, 0), self.scheduled.get(mode, 0))
            for mode, label in Meeting.Mode.choices
        ]


def _year_bounds(body: Body, year: int) -> tuple[datetime.datetime, datetime.datetime]:
    zone = ZoneInfo(body.time_zone)
    return (
        datetime.datetime(year, 1, 1, tzinfo=zone),
        datetime.datetime(year + 1, 1, 1, tzinfo=zone),
    )


def _expected_by_now(year: int, today: datetime.date) -> int:
    days_in_year = (datetime.date(year + 1, 1, 1) - datetime.date(year, 1, 1)).days
    if today.year < year:
        elapsed = 0
    elif today.year > year:
        elapsed = days_in_year
    else:
        elapsed = (today - datetime.date(year, 1, 1)).days
    return REQUIRED_MEETINGS * elapsed // days_in_year


def years_compliance(
    bodies: list[Body], now: datetime.datetime | None = None
) -> dict[int, YearCompliance]:
    """One query for several bodies: each one's current local calendar year."""
    if not bodies:
        return {}
    now = now or timezone.now()
    years = {
        body.pk: now.astimezone(ZoneInfo(body.time_zone)).date() for body in bodies
    }
    window = Q()
    for body in bodies:
        start, end = _year_bounds(body, years[body.pk].year)
        window |= Q(body=body, starts_at__gte=start, starts_at__lt=end)
    counts: dict[int, tuple[dict[str, int], dict[str, int]]] = {
        body.pk: ({}, {}) for body in bodies
    }
    rows = (
        Meeting.objects.filter(window)
        .values("body_id", "state", "mode")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        held, scheduled = counts[row["body_id"]]
        target = held if row["state"] == Meeting.State.CLOSED else scheduled
        target[row["mode"]] = target.get(row["mode"], 0) + row["n"]
    return {
        pk: YearCompliance(
            year=years[pk].year,
            held=held,
            scheduled=scheduled,
            expected_by_now=_expected_by_now(years[pk].year, years[pk]),
        )
        for pk, (held, scheduled) in counts.items()
    }


def year_compliance(
    body: Body, year: int | None = None, now: datetime.datetime | None = None
) -> YearCompliance:
    """One query: meetings of the body's local calendar year, by state and mode."""
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(body.time_zone)).date()
    year = year or today.year
    start, end = _year_bounds(body, year)
    held: dict[str, int] = {}
    scheduled: dict[str, int] = {}
    rows = (
        Meeting.objects.filter(body=body, starts_at__gte=start, starts_at__lt=end)
        .values("state", "mode")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        target = held if row["state"] == Meeting.State.CLOSED else scheduled
        target[row["mode"]] = target.get(row["mode"], 0) + row["n"]
    return YearCompliance(
        year=year,
        held=held,
        scheduled=scheduled,
        expected_by_now=_expected_by_now(year, today),
    )
