"""Reading the register: who is present, and is there quorum (L1122-17).

The register is a list of timed events; presence at any moment is recomputed
from them, never stored as a flag.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from meetings.models import AgendaItem, AttendanceEvent, Meeting, Recusal


def _members_in_office(meeting: Meeting) -> set[int]:
    return set(
        meeting.body.members_in_office(
            on=timezone.localdate(meeting.starts_at)
        ).values_list("pk", flat=True)
    )


def last_events(
    meeting: Meeting, at: datetime.datetime | None = None
) -> dict[int, tuple[str, str]]:
    """Each person's last register event (kind, place) at the moment."""
    events = AttendanceEvent.objects.filter(meeting=meeting)
    if at is not None:
        events = events.filter(at__lte=at)
    last: dict[int, tuple[str, str]] = {}
    for person_id, kind, place in events.order_by("at", "pk").values_list(
        "person_id", "kind", "place"
    ):
        last[person_id] = (kind, place)
    return last


def presence(meeting: Meeting, at: datetime.datetime | None = None) -> dict[int, str]:
    """Present members and where they are (``remote`` or ``room``)."""
    members = _members_in_office(meeting)
    return {
        pid: place
        for pid, (kind, place) in last_events(meeting, at).items()
        if kind == AttendanceEvent.Kind.ARRIVED and pid in members
    }


def present_member_ids(
    meeting: Meeting, at: datetime.datetime | None = None
) -> set[int]:
    """Members whose last register event at the moment is an arrival."""
    return set(presence(meeting, at))


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

    def as_dict(self) -> dict:
        return {
            "in_office": self.in_office,
            "present": self.present,
            "required": self.required,
            "exempt": self.exempt,
            "reached": self.reached,
        }


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
