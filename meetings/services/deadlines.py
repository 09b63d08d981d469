"""Legal deadlines counted in clear days, in the body's time zone.

A clear day ("jour franc") is a whole calendar day between two events, the
day of each excluded: sent on Monday the 1st for a sitting on Wednesday the
10th leaves eight clear days (2nd..9th). Days are counted on local calendar
dates, never by dividing a duration by 24 hours, so a change of clock at the
end of March or October shifts nothing.
"""

import datetime
from zoneinfo import ZoneInfo

# L1122-13: seven clear days; two for an item on its third convocation.
CONVOCATION_CLEAR_DAYS = 7
THIRD_CONVOCATION_CLEAR_DAYS = 2
# L1122-24: a member's own item reaches the chair five clear days before.
SUBMISSION_CLEAR_DAYS = 5


def local_day(moment: datetime.datetime, zone: str) -> datetime.date:
    if moment.tzinfo is None:
        raise ValueError("An aware datetime is required.")
    return moment.astimezone(ZoneInfo(zone)).date()


def clear_days_between(
    earlier: datetime.datetime, later: datetime.datetime, zone: str
) -> int:
    """Whole calendar days strictly between the two moments' local days."""
    return (local_day(later, zone) - local_day(earlier, zone)).days - 1


def last_day_for(
    sitting: datetime.datetime, zone: str, clear_days: int
) -> datetime.date:
    """The last local day on which something may happen and leave the clear days."""
    return local_day(sitting, zone) - datetime.timedelta(days=clear_days + 1)


def deadline_for(
    sitting: datetime.datetime, zone: str, clear_days: int
) -> datetime.datetime:
    """The first moment that is too late: local midnight after the last day."""
    day = last_day_for(sitting, zone, clear_days) + datetime.timedelta(days=1)
    # Midnight exists on every day in Europe (clocks change at 02:00 or 03:00);
    # fold=0 takes the first midnight where a zone repeats one.
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=ZoneInfo(zone))


def required_convocation_days(*, third_convocation: bool) -> int:
    if third_convocation:
        return THIRD_CONVOCATION_CLEAR_DAYS
    return CONVOCATION_CLEAR_DAYS


def is_in_time(
    *,
    sent: datetime.datetime,
    sitting: datetime.datetime,
    zone: str,
    clear_days: int,
) -> bool:
    return clear_days_between(sent, sitting, zone) >= clear_days
