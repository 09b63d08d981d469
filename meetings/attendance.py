"""Reading the register: who is present, and is there quorum (L1122-17).

The register is a list of timed events; presence at any moment is recomputed
from them, never stored as a flag.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, Subquery
from django.utils import timezone

from council.models import Mandate
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
    """Present in the register and not recused for the item, right now.

    One query about this member only (a voting mandate in office, their last
    register event, a recusal): it is asked on every ballot, and reading the
    whole register each time made a room voting at once cost O(members²).
    """
    if user is None or user.pk is None:
        return False
    meeting = item.meeting
    last_kind = (
        AttendanceEvent.objects.filter(meeting=meeting, person=user.pk)
        .order_by("-at", "-pk")
        .values("kind")[:1]
    )
    row = (
        Mandate.objects.in_office(on=timezone.localdate(meeting.starts_at))
        .voting()
        .filter(body_id=meeting.body_id, person_id=user.pk)
        .annotate(
            last_kind=Subquery(last_kind),
            recused=Exists(Recusal.objects.filter(item=item, person=user.pk)),
        )
        .order_by()
        .values_list("last_kind", "recused")[:1]
    )
    found = list(row)
    return bool(
        found and found[0][0] == AttendanceEvent.Kind.ARRIVED and not found[0][1]
    )
