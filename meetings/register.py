"""The register: who attends a sitting, and is there quorum (L1122-17, L1122-19).

The register is a list of timed events; presence at any moment is recomputed
from them, never stored as a flag. This module is the one place that reads
them: presence, place, quorum and eligibility to vote are answered here, from
one definition each, and only the sitting services write events.
"""

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from meetings.models import AgendaItem, AttendanceEvent, Meeting, Recusal

ARRIVED = AttendanceEvent.Kind.ARRIVED
LEFT = AttendanceEvent.Kind.LEFT
EXCUSED = AttendanceEvent.Kind.EXCUSED
ROOM = AttendanceEvent.Place.ROOM
REMOTE = AttendanceEvent.Place.REMOTE


def _is_presence(kind: str | None) -> bool:
    """A person is present when their last event is an arrival."""
    return kind == ARRIVED


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


@dataclass(frozen=True)
class Line:
    """One event of a person in the register."""

    kind: str
    place: str
    at: datetime.datetime


@dataclass(frozen=True)
class Attendance:
    """One person's attendance over the sitting, as the minutes record it."""

    lines: tuple[Line, ...] = field(default=())

    @property
    def attended(self) -> bool:
        """Present at some moment of the sitting."""
        return any(_is_presence(line.kind) for line in self.lines)

    @property
    def excused(self) -> bool:
        """Excused and never present."""
        return not self.attended and any(line.kind == EXCUSED for line in self.lines)

    @property
    def arrived_at(self) -> datetime.datetime | None:
        """The first arrival."""
        return next((li.at for li in self.lines if _is_presence(li.kind)), None)

    @property
    def left_at(self) -> datetime.datetime | None:
        """The last departure, if the person did not come back after it."""
        if self.lines and self.lines[-1].kind == LEFT:
            return self.lines[-1].at
        return None

    @property
    def place(self) -> str | None:
        """Where the person last arrived."""
        arrivals = [li for li in self.lines if _is_presence(li.kind)]
        return arrivals[-1].place if arrivals else None

    @property
    def departures(self) -> int:
        return sum(1 for line in self.lines if line.kind == LEFT)


class Status(models.TextChoices):
    """Where a person stands in the register, as the clerk's page shows it."""

    ROOM = "room", _("Present in the room")
    REMOTE = "remote", _("Present (remote)")
    EXCUSED = "excused", _("Excused")
    LEFT = "left", _("Left")
    NOT_ARRIVED = "not_arrived", _("Not arrived")


class Register:
    """The attendance of one sitting at one moment, read once.

    Each part (events, members in office, recusals) is read on first use, at
    most once: a caller asking only who is present pays one query, the whole
    register costs three.
    """

    def __init__(self, meeting: Meeting, at: datetime.datetime | None = None) -> None:
        self.meeting = meeting
        self.at = at

    @classmethod
    def of(cls, meeting: Meeting, at: datetime.datetime | None = None) -> "Register":
        """The register of the meeting now, or as it stood at ``at``."""
        return cls(meeting, at)

    @cached_property
    def _lines(self) -> dict[int, tuple[Line, ...]]:
        events = AttendanceEvent.objects.filter(meeting_id=self.meeting.pk)
        if self.at is not None:
            events = events.filter(at__lte=self.at)
        lines: dict[int, list[Line]] = {}
        for person_id, kind, place, moment in events.order_by("at", "pk").values_list(
            "person_id", "kind", "place", "at"
        ):
            lines.setdefault(person_id, []).append(Line(kind, place, moment))
        return {pk: tuple(own) for pk, own in lines.items()}

    @cached_property
    def in_office_ids(self) -> frozenset[int]:
        """Members (voting mandates) in office on the sitting's day."""
        return frozenset(self.meeting.members_in_office().values_list("pk", flat=True))

    @cached_property
    def _recusals(self) -> dict[int, frozenset[int]]:
        recusals = Recusal.objects.filter(item__meeting_id=self.meeting.pk)
        if self.at is not None:
            recusals = recusals.filter(at__lte=self.at)
        recused: dict[int, set[int]] = {}
        for item_id, person_id in recusals.values_list("item_id", "person_id"):
            recused.setdefault(item_id, set()).add(person_id)
        return {pk: frozenset(ids) for pk, ids in recused.items()}

    # ---- presence ----------------------------------------------------------------

    def last_event(self, person_id: int) -> tuple[str, str] | None:
        """The person's last event (kind, place), or None if nothing recorded."""
        own = self._lines.get(person_id)
        if not own:
            return None
        return (own[-1].kind, own[-1].place)

    def is_present(self, person_id: int) -> bool:
        """Recorded present (whatever their mandate)."""
        return self.place_of(person_id) is not None

    def place_of(self, person_id: int) -> str | None:
        """Where a present person is (``remote`` or ``room``); None if absent."""
        return _place(self.last_event(person_id))

    def in_room(self, person_id: int) -> bool:
        return self.place_of(person_id) == ROOM

    def status_of(self, person_id: int) -> Status:
        """Present in the room or remotely, excused, left, or not arrived."""
        last = self.last_event(person_id)
        if last is None:
            return Status.NOT_ARRIVED
        if _is_presence(last[0]):
            return Status.ROOM if last[1] == ROOM else Status.REMOTE
        return Status.EXCUSED if last[0] == EXCUSED else Status.LEFT

    @cached_property
    def _present(self) -> frozenset[int]:
        return frozenset(pk for pk in self.in_office_ids if self.is_present(pk))

    def present_ids(self) -> frozenset[int]:
        """Members in office who are present."""
        return self._present

    def room_ids(self) -> frozenset[int]:
        """Members in office present in the room."""
        return frozenset(pk for pk in self._present if self.in_room(pk))

    def remote_ids(self) -> frozenset[int]:
        """Members in office present remotely."""
        return self._present - self.room_ids()

    # ---- recusals, quorum, eligibility ---------------------------------------------

    def recused_ids(self, item: AgendaItem | None) -> frozenset[int]:
        """Members recused for the item (L1122-19)."""
        if item is None:
            return frozenset()
        return self._recusals.get(item.pk, frozenset())

    def quorum(self, item: AgendaItem | None = None) -> Quorum:
        """More than half of the members in office present; recused ones don't count.

        An item on its third convocation is exempt.
        """
        in_office = len(self.in_office_ids)
        return Quorum(
            in_office=in_office,
            present=len(self._present - self.recused_ids(item)),
            required=in_office // 2 + 1,
            exempt=bool(item is not None and item.third_convocation),
        )

    def eligible_ids(self, item: AgendaItem) -> frozenset[int]:
        """Members who may vote on the item: present and not recused."""
        return self._present - self.recused_ids(item)

    def may_vote(self, item: AgendaItem, person_id: int) -> bool:
        return person_id in self.eligible_ids(item)

    # ---- the record of the sitting -------------------------------------------------

    def person_ids(self) -> frozenset[int]:
        """Everyone with an event in the register, member or not."""
        return frozenset(self._lines)

    def attendance_of(self, person_id: int) -> Attendance:
        """The person's events over the sitting, for the minutes."""
        return Attendance(self._lines.get(person_id, ()))


# ---- one person, now: one query each ---------------------------------------------


def _place(last: tuple[str, str] | None) -> str | None:
    if last is None or not _is_presence(last[0]):
        return None
    return last[1]


def place_now(meeting: Meeting, person_id: int) -> str | None:
    """Where the person is now (``remote`` or ``room``), None if absent.

    The definition of ``Register.place_of`` read for one person: one query,
    for the paths every member takes at once (joining, leaving, voting).
    """
    last = (
        AttendanceEvent.objects.filter(meeting_id=meeting.pk, person_id=person_id)
        .order_by("-at", "-pk")
        .values_list("kind", "place")
        .first()
    )
    return _place(last)


def presence_now(
    meeting: Meeting, person_id: int
) -> tuple[str | None, datetime.datetime | None]:
    """``place_now``, and the time of the event it comes from (None, None: none)."""
    last = (
        AttendanceEvent.objects.filter(meeting_id=meeting.pk, person_id=person_id)
        .order_by("-at", "-pk")
        .values_list("kind", "place", "at")
        .first()
    )
    if last is None:
        return None, None
    return _place(last[:2]), last[2]


def is_present_now(meeting: Meeting, person_id: int) -> bool:
    return place_now(meeting, person_id) is not None


def may_vote_now(item: AgendaItem, person) -> bool:
    """Present in the register and not recused for the item, right now.

    The definitions of ``Register`` asked in one query about this member only
    (a member in office on the sitting's day, their last event, a recusal): it
    is asked on every ballot, and reading the whole register each time made a
    room voting at once cost O(members²).
    """
    if person is None or person.pk is None:
        return False
    meeting = item.meeting
    last_kind = (
        AttendanceEvent.objects.filter(meeting_id=meeting.pk, person_id=OuterRef("pk"))
        .order_by("-at", "-pk")
        .values("kind")[:1]
    )
    found = list(
        meeting.members_in_office()
        .filter(pk=person.pk)
        .annotate(
            last_kind=Subquery(last_kind),
            recused=Exists(
                Recusal.objects.filter(item_id=item.pk, person_id=person.pk)
            ),
        )
        .order_by()
        .values_list("last_kind", "recused")[:1]
    )
    return bool(found and _is_presence(found[0][0]) and not found[0][1])


def register_lines(meeting: Meeting, limit: int = 200) -> QuerySet:
    """The latest events of the register, newest first, for the clerk's page."""
    return (
        AttendanceEvent.objects.filter(meeting_id=meeting.pk)
        .select_related("person", "recorded_by")
        .order_by("-at", "-pk")[:limit]
    )
