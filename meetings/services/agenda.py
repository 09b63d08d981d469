"""The agenda: adding, changing, removing and reordering items.

Every change locks the meeting row first (``Meeting.objects.lock``), so that
two writers of the same agenda queue up instead of drawing the same number.
Every item joins an agenda through ``item_append``, whoever adds it (the
clerk, a member's accepted item, the approval of the minutes). Items are
renumbered 1..n in one transaction, through a temporary offset so that the
unique (meeting, position) constraint holds after every single row update.
"""

from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import Action, is_member, require
from council.refusals import Refusal
from meetings.models import AgendaItem, Meeting

AGENDA_LOCKED = _("The agenda of this meeting can no longer be changed.")
CANNOT_MOVE = _("This item cannot move further in that direction.")
BAD_DIRECTION = _("Move an item up or down.")
RAPPORTEUR_NOT_MEMBER = _("The rapporteur must be a member of this body.")
ITEM_GONE = _("This item is no longer on the agenda.")

ITEM_FIELDS = (
    "title",
    "session",
    "kind",
    "rapporteur",
    "explanatory_note",
    "draft_decision",
    "vote_kind",
    "third_convocation",
)
UP = "up"
DOWN = "down"


def _lock_meeting(meeting_id: int) -> Meeting:
    meeting = Meeting.objects.lock(meeting_id)
    if not meeting.is_editable:
        raise Refusal(AGENDA_LOCKED, code="agenda_locked")
    return meeting


def _validate(item: AgendaItem, meeting: Meeting) -> None:
    # The session and vote the item's kind forces are set by AgendaItem.save.
    if item.rapporteur_id and not is_member(
        item.rapporteur, meeting.body, on=meeting.sitting_day
    ):
        raise Refusal({"rapporteur": RAPPORTEUR_NOT_MEMBER})
    item.full_clean(exclude=["meeting"])


def renumber(meeting: Meeting, ordered_ids: list[int]) -> None:
    """Give the items positions 1..n in the order given; meeting row locked."""
    offset = (
        (
            AgendaItem.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
            or 0
        )
        + len(ordered_ids)
        + 1
    )
    # Lift every item above all current numbers, then set the final ones:
    # no two rows ever share a position, whichever order rows are updated in.
    AgendaItem.objects.filter(meeting=meeting).update(position=F("position") + offset)
    for position, item_id in enumerate(ordered_ids, start=1):
        AgendaItem.objects.filter(pk=item_id).update(position=position)


def _ordered_ids(meeting: Meeting) -> list[int]:
    return list(
        AgendaItem.objects.filter(meeting=meeting)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
    )


def item_append(*, meeting: Meeting, by, **fields: Any) -> AgendaItem:
    """Add an item at the end of the meeting's agenda, under the meeting's lock.

    The caller checks who may add it; ``by`` is named in the audit entry.
    Refused when the agenda can no longer change or the item is invalid.
    """
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"Unknown item fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = _lock_meeting(meeting.pk)
        # Numbered under the lock: two writers never draw the same position.
        last = locked.items.aggregate(m=Max("position"))["m"] or 0
        item = AgendaItem(meeting=locked, position=last + 1, **fields)
        _validate(item, locked)
        item.save()
        audit_record(
            by=by,
            action="agenda_item.create",
            obj=item,
            body=locked.body,
            details={
                "meeting": locked.pk,
                "position": item.position,
                "title": item.title,
                "session": item.session,
            },
        )
    return item


def item_create(*, meeting: Meeting, by, **fields: Any) -> AgendaItem:
    """The clerk adds an item to the agenda in preparation."""
    require(by, Action.PREPARE_MEETINGS, meeting.body)
    return item_append(meeting=meeting, by=by, **fields)


def item_update(*, item: AgendaItem, by, **fields: Any) -> AgendaItem:
    require(by, Action.PREPARE_MEETINGS, item.meeting.body)
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"Unknown item fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = _lock_meeting(item.meeting_id)
        fresh = AgendaItem.objects.get(pk=item.pk)
        for name, value in fields.items():
            setattr(fresh, name, value)
        _validate(fresh, locked)
        fresh.save()
        audit_record(
            by=by,
            action="agenda_item.update",
            obj=fresh,
            body=locked.body,
            details={"fields": sorted(fields), "session": fresh.session},
        )
    return fresh


def item_delete(*, item: AgendaItem, by) -> None:
    require(by, Action.PREPARE_MEETINGS, item.meeting.body)
    with transaction.atomic():
        locked = _lock_meeting(item.meeting_id)
        fresh = AgendaItem.objects.get(pk=item.pk)
        details = {"meeting": locked.pk, "title": fresh.title}
        audit_record(
            by=by,
            action="agenda_item.delete",
            obj=fresh,
            body=locked.body,
            details=details,
        )
        stored = [(d.file.storage, d.file.name) for d in fresh.documents.all()]
        fresh.delete()
        renumber(locked, _ordered_ids(locked))
        # Files go only once the rows are gone for good.
        transaction.on_commit(
            lambda: [storage.delete(name) for storage, name in stored]
        )


def item_move(*, item: AgendaItem, by, direction: str) -> AgendaItem:
    """Swap the item with its neighbour; numbers stay 1..n without gaps."""
    require(by, Action.PREPARE_MEETINGS, item.meeting.body)
    if direction not in (UP, DOWN):
        raise Refusal(BAD_DIRECTION, code="bad_direction")
    with transaction.atomic():
        locked = _lock_meeting(item.meeting_id)
        # Read the order after taking the lock: another clerk's move is seen.
        ids = _ordered_ids(locked)
        if item.pk not in ids:
            raise Refusal(ITEM_GONE, code="item_gone")
        index = ids.index(item.pk)
        target = index - 1 if direction == UP else index + 1
        if not 0 <= target < len(ids):
            raise Refusal(CANNOT_MOVE, code="cannot_move")
        ids[index], ids[target] = ids[target], ids[index]
        renumber(locked, ids)
        fresh = AgendaItem.objects.get(pk=item.pk)
        audit_record(
            by=by,
            action="agenda_item.move",
            obj=fresh,
            body=locked.body,
            details={"direction": direction, "position": fresh.position},
        )
    return fresh
