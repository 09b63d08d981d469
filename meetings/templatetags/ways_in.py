"""The header's mark of a sitting in session, for the members of its body."""

from django import template
from django.utils import timezone

from council.models import Body, Mandate
from council.permissions import Action, can, remember_roles
from meetings.models import Meeting

register = template.Library()


@register.simple_tag(takes_context=True)
def sittings_in_session(context) -> list[dict]:
    """The open or suspended sittings the person may follow as a member.

    One query whatever the number of meetings and bodies: the person's
    mandates in office on bodies with a live sitting, with those sittings.
    The roles found are handed to ``remember_roles``, and ``can`` decides.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    today = timezone.localdate()
    rows = (
        Mandate.objects.in_office(on=today)
        .filter(person=user, body__meetings__state__in=Meeting.LIVE_STATES)
        .values_list(
            "body_id",
            "role",
            "body__meetings__pk",
            "body__meetings__title",
            "body__meetings__state",
            "body__meetings__starts_at",
        )
    )
    held: dict[int, set[str]] = {}
    sittings: dict[int, dict] = {}
    for body_id, role, pk, title, state, starts_at in rows:
        held.setdefault(body_id, set()).add(role)
        sittings[pk] = {
            "pk": pk,
            "title": title,
            "state": state,
            "starts_at": starts_at,
            "body_id": body_id,
        }
    bodies = {pk: Body(pk=pk) for pk in held}
    for body_id, body in bodies.items():
        remember_roles(user, body, held[body_id], on=today)
    return sorted(
        (
            sitting
            for sitting in sittings.values()
            if can(user, Action.VIEW_MEMBER_AREA, bodies[sitting["body_id"]], on=today)
        ),
        key=lambda sitting: sitting["starts_at"],
    )


@register.simple_tag
def sitting_soon_ids(body) -> set[int]:
    """The ids of the body's sittings about to sit or sitting (one query)."""
    return set(
        Meeting.objects.sitting_soon().filter(body=body).values_list("pk", flat=True)
    )
