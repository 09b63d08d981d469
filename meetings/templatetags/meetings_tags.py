import datetime

from django import template
from django.utils import timezone

from council.permissions import Action, can
from meetings.models import Meeting
from meetings.services.compliance import year_compliance

register = template.Library()


@register.inclusion_tag("meetings/_home_links_body.html", takes_context=True)
def meetings_home_links(context, body):
    """The meeting links of one body card on the home page, by role."""
    user = context["user"]
    prepares = can(user, Action.PREPARE_MEETINGS, body)
    oversees = can(user, Action.OVERSEE, body)
    member_area = can(user, Action.VIEW_MEMBER_AREA, body)
    next_meeting = None
    if member_area:
        next_meeting = (
            body.meetings.filter(
                starts_at__gte=timezone.now()
                - datetime.timedelta(hours=12),  # a sitting running late
            )
            .exclude(state__in=[Meeting.State.DRAFT, Meeting.State.CLOSED])
            .order_by("starts_at")
            .first()
        )
    return {
        "body": body,
        "prepares": prepares,
        "member_area": member_area,
        "next_meeting": next_meeting,
        "compliance": year_compliance(body) if prepares or oversees else None,
    }
