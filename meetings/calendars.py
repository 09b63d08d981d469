"""iCalendar (.ics) for one meeting (the convocation's invitation) or a body's feed."""

import datetime
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vText

from meetings.models import Meeting

PRODUCT_ID = "-//Council meetings//meetings//EN"
DEFAULT_DURATION_HOURS = 3


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def meeting_uid(meeting: Meeting) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"meeting-{meeting.pk}@{host}"


def _location(meeting: Meeting) -> str:
    if meeting.mode == Meeting.Mode.REMOTE:
        return meeting.remote_tool or _("Remote sitting")
    if meeting.mode == Meeting.Mode.HYBRID and meeting.remote_tool:
        return " / ".join(filter(None, [meeting.place, meeting.remote_tool]))
    return meeting.place


def meeting_event(meeting: Meeting, *, url: str, description: str = "") -> Event:
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", meeting.convened_at or meeting.starts_at)
    event.add("dtstart", meeting.starts_at)
    event.add(
        "dtend",
        meeting.expected_end
        or meeting.starts_at + datetime.timedelta(hours=DEFAULT_DURATION_HOURS),
    )
    event.add("summary", f"{meeting.body.name} — {meeting.title}")
    location = _location(meeting)
    if location:
        event.add("location", vText(location))
    event.add("url", url)
    event.add("description", description or url)
    event.add("status", "CONFIRMED")
    return event


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def meeting_ics(meeting: Meeting, *, description: str = "") -> bytes:
    """The invitation attached to a convocation; links to the members' page."""
    calendar = _calendar(meeting.body.name)
    calendar.add_component(
        meeting_event(
            meeting,
            url=absolute(reverse("meetings:meeting_detail", args=[meeting.pk])),
            description=description,
        )
    )
    return calendar.to_ical()


def body_feed_ics(body, meetings: Iterable[Meeting]) -> bytes:
    """The public feed of a body's published meetings."""
    calendar = _calendar(body.name)
    for meeting in meetings:
        url = absolute(reverse("meetings:public_agenda", args=[body.slug, meeting.pk]))
        calendar.add_component(meeting_event(meeting, url=url))
    return calendar.to_ical()
