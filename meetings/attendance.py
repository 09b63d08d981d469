"""Reading the register: who is present, and is there quorum (L1122-17)."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from meetings.models import AgendaItem, AttendanceEvent, Meeting, Recusal


def present_member_ids(
    meeting: Meeting, at: datetime.datetime | None = None
) -> set[int]:
    """Members whose last register event at the moment is an arrival."""
    events = AttendanceEvent.objects.filter(meeting=meeting)
    if at is not None:
        events = events.filter(at__lte=at)
    last: dict[int, str] = {}
    for person_id, kind in events.order_by("at", "pk").values_list("person_id", "kind"):
        last[person_id] = kind
    members = set(
        meeting.body.members_in_office(
            on=timezone.localdate(meeting.starts_at)
        ).values_list("pk", flat=True)
    )
    return {
        pid
        for pid, kind in last.items()
        if kind == AttendanceEvent.Kind.ARRIVED and pid in members
    }


def recused_ids(item: AgendaItem) -> set[int]:
    return set(Recusal.objects.filter(item=item).values_list("person_id", flat=True))


@dataclass(frozen=True)
class Quorum:
    in_office: int
    present: int
    required: int
    exempt: bool

    @property
    def reached(self) -> bool:
        return self.exempt or self.present >= self.required


def quorum(meeting: Meeting, item: AgendaItem | None = None) -> Quorum:
    """More than half of the members in office present; recused ones don't count."""
    in_office = meeting.body.members_in_office(
        on=timezone.localdate(meeting.starts_at)
    ).count()
    present = present_member_ids(meeting)
    if item is not None:
        present -= recused_ids(item)
    return Quorum(
        in_office=in_office,
        present=len(present),
        required=in_office // 2 + 1,
        exempt=bool(item is not None and item.third_convocation),
    )


def has_quorum(item: AgendaItem) -> bool:
    """Is there quorum now for this item? Asked when a vote opens."""
    return quorum(item.meeting, item).reached


def may_vote(item: AgendaItem, user) -> bool:
    """Present in the register and not recused for the item, right now."""
    return user.pk in present_member_ids(item.meeting) and user.pk not in recused_ids(
        item
    )
