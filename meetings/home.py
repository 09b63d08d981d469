"""The meetings panel of the home page, for all of a person's bodies at once.

The template asks ``may`` (council.permissions.allowed) what to show; the
context brings what must be read from the database.
"""

import datetime

from django.utils import timezone

from council.permissions import Action, can
from meetings.models import Meeting
from meetings.services.compliance import years_compliance

# A sitting that runs late is still "the next sitting" for a while.
RUNNING_LATE = datetime.timedelta(hours=12)


def home_context(user, bodies) -> dict[int, dict]:
    member_area = {b.pk for b in bodies if can(user, Action.VIEW_MEMBER_AREA, b)}
    preparation = [b for b in bodies if can(user, Action.VIEW_PREPARATION, b)]
    next_meeting: dict[int, Meeting] = {}
    if member_area:
        upcoming = (
            Meeting.objects.upcoming()
            .filter(
                body_id__in=member_area,
                starts_at__gte=timezone.now() - RUNNING_LATE,
            )
            .order_by("starts_at")
            .only("pk", "body_id", "title", "starts_at")
        )
        for meeting in upcoming:
            next_meeting.setdefault(meeting.body_id, meeting)
    compliance = years_compliance(preparation)
    return {
        body.pk: {
            "next_meeting": next_meeting.get(body.pk),
            "compliance": compliance.get(body.pk),
        }
        for body in bodies
    }


def ways_in_context(user, bodies) -> dict[int, dict]:
    """The sittings about to sit or sitting of all the bodies, in one query."""
    sitting: dict[int, list[Meeting]] = {}
    for meeting in (
        Meeting.objects.sitting_soon()
        .filter(body_id__in=[b.pk for b in bodies])
        .order_by("starts_at")
        .only("pk", "body_id", "title", "number", "starts_at", "state")
    ):
        sitting.setdefault(meeting.body_id, []).append(meeting)
    return {body.pk: {"sitting": sitting.get(body.pk, [])} for body in bodies}
