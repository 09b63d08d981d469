"""The minutes panel of the home page: the last sitting's record, oversight.

The template asks ``may`` (council.permissions.allowed) what to show; the
context brings the last closed sitting.
"""

from council.permissions import Action, can
from meetings.models import Meeting


def home_context(user, bodies) -> dict[int, dict]:
    readers = {b.pk for b in bodies if can(user, Action.VIEW_MEMBER_AREA, b)}
    last_closed: dict[int, Meeting] = {}
    if readers:
        closed = (
            Meeting.objects.filter(body_id__in=readers, state=Meeting.State.CLOSED)
            .order_by("-starts_at")
            .only("pk", "body_id", "title", "starts_at")
        )
        for meeting in closed:
            last_closed.setdefault(meeting.body_id, meeting)
    return {b.pk: {"last_closed": last_closed.get(b.pk)} for b in bodies}
