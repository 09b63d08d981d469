"""One factory per model the tests build: saved rows from a few keyword arguments.

Any field may be given; the others get defaults that never collide (bodies and
people are numbered, meetings per body, agenda items per meeting) and that
agree with each other (a meeting being held started now, a closed one was held
twenty days ago, an upcoming one is in twenty days).
"""

import datetime
import itertools

from django.db.models import Max
from django.utils import timezone

from council.models import Body, Mandate, PoliticalGroup, User
from meetings.models import AgendaItem, AttendanceEvent, Meeting

Role = Mandate.Role
PASSWORD = "a-long-test-password-123"
MANDATE_START = datetime.date(2024, 12, 2)

_serial = itertools.count(1)


# ---- the council ------------------------------------------------------------


def make_body(**fields) -> Body:
    n = next(_serial)
    defaults = {
        "name": f"Conseil communal {n}",
        "slug": f"body-{n}",
        "kind": Body.Kind.MUNICIPAL_COUNCIL,
        "municipality": f"Commune {n}",
        "language": Body.Language.FRENCH,
        "seats": 9,
    }
    return Body.objects.create(**defaults | fields)


def make_user(**fields) -> User:
    """A person with a numbered name and email, whose password is PASSWORD."""
    n = next(_serial)
    defaults = {
        "email": f"person{n}@example.org",
        "first_name": f"Prénom{n}",
        "last_name": f"Nom{n}",
        "birth_date": datetime.date(1970, 1, 1) + datetime.timedelta(days=n),
        "password": PASSWORD,
    }
    return User.objects.create_user(**defaults | fields)


def make_group(body, **fields) -> PoliticalGroup:
    n = next(_serial)
    defaults = {"name": f"Groupe {n}", "short_name": f"G{n}"}
    return PoliticalGroup.objects.create(body=body, **defaults | fields)


def make_mandate(person, body, role=Role.COUNCILLOR, **fields) -> Mandate:
    """A mandate in office since MANDATE_START, with no end."""
    fields.setdefault("start", MANDATE_START)
    return Mandate.objects.create(person=person, body=body, role=role, **fields)


def make_member(body, role=Role.COUNCILLOR, group=None, **user_fields) -> User:
    """A new person holding one mandate on the body."""
    user = make_user(**user_fields)
    make_mandate(user, body, role, group=group)
    return user


# ---- meetings -----------------------------------------------------------------

HELD = {Meeting.State.IN_SESSION, Meeting.State.SUSPENDED, Meeting.State.CLOSED}


def make_meeting(body, **fields) -> Meeting:
    """The body's next-numbered meeting, a draft unless ``state`` says otherwise.

    A draft or convened meeting starts in twenty days (on the minute); one in
    session or suspended started now and was opened then; a closed one was
    held twenty days ago, opened at its start and closed 150 minutes later.
    """
    state = fields.get("state", Meeting.State.DRAFT)
    number = fields.get("number") or _next(body.meetings, "number")
    now = timezone.now()
    if state == Meeting.State.CLOSED:
        starts_at = now - datetime.timedelta(days=20)
    elif state in HELD:
        starts_at = now
    else:
        starts_at = (now + datetime.timedelta(days=20)).replace(second=0, microsecond=0)
    starts_at = fields.get("starts_at", starts_at)
    defaults = {
        "number": number,
        "title": f"Séance {number}",
        "starts_at": starts_at,
        "mode": Meeting.Mode.IN_PERSON,
        "place": "Hôtel de ville",
    }
    if state in HELD:
        defaults["opened_at"] = starts_at
    if state == Meeting.State.CLOSED:
        defaults["closed_at"] = starts_at + datetime.timedelta(minutes=150)
    return Meeting.objects.create(body=body, **defaults | fields)


def make_item(meeting, *, current: bool | None = None, **fields) -> AgendaItem:
    """The meeting's next agenda item.

    It becomes the meeting's current item if ``current``; by default, when
    the meeting is in session (a vote opens only on the current item).
    """
    position = fields.get("position") or _next(meeting.items, "position")
    defaults = {"position": position, "title": f"Point {position}"}
    item = AgendaItem.objects.create(meeting=meeting, **defaults | fields)
    if current is None:
        current = meeting.state == Meeting.State.IN_SESSION
    if current:
        meeting.current_item = item
        meeting.save(update_fields=["current_item"])
    return item


def make_event(meeting, person, kind=AttendanceEvent.Kind.ARRIVED, **fields):
    """One attendance event, at this moment unless ``at`` is given."""
    if fields.get("at") is None:
        fields["at"] = timezone.now()
    return AttendanceEvent.objects.create(
        meeting=meeting, person=person, kind=kind, **fields
    )


def arrive(meeting, *people, place=AttendanceEvent.Place.REMOTE, at=None) -> None:
    """Each person arrives (remotely unless ``place`` says otherwise)."""
    for person in people:
        make_event(meeting, person, place=place, at=at)


def leave(meeting, *people, at=None) -> None:
    for person in people:
        make_event(meeting, person, AttendanceEvent.Kind.LEFT, at=at)


def _next(rows, field: str) -> int:
    return (rows.aggregate(highest=Max(field))["highest"] or 0) + 1
