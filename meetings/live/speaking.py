"""The debate as recorded: who spoke, how long, in what order (for the minutes)."""

from dataclasses import dataclass

from django.utils import timezone

from meetings.models import FloorRequest


@dataclass(frozen=True)
class Speech:
    item_id: int
    order: int
    person_id: int
    name: str
    group: str
    seconds: int
    kind: str  # contribution, reply, point of order


def speaking_log(meeting) -> list[Speech]:
    """Speeches of the sitting in the order they were given."""
    speeches = (
        FloorRequest.objects.filter(meeting=meeting, granted_at__isnull=False)
        .select_related("person")
        .order_by("granted_at", "pk")
    )
    now = timezone.now()
    log = []
    for order, speech in enumerate(speeches, start=1):
        seconds = speech.seconds
        if speech.status == FloorRequest.Status.SPEAKING:
            seconds = int((now - speech.granted_at).total_seconds())
        log.append(
            Speech(
                item_id=speech.item_id,
                order=order,
                person_id=speech.person_id,
                name=speech.person.display_name,
                group=speech.group,
                seconds=seconds,
                kind=speech.kind,
            )
        )
    return log


def speaking_totals(meeting) -> tuple[dict[str, int], dict[str, int]]:
    """Seconds spoken per person (by name) and per political group."""
    people: dict[str, int] = {}
    groups: dict[str, int] = {}
    for speech in speaking_log(meeting):
        people[speech.name] = people.get(speech.name, 0) + speech.seconds
        group = speech.group or "—"
        groups[group] = groups.get(group, 0) + speech.seconds
    return people, groups
