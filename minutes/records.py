"""What the sitting recorded, gathered into the JSON content of minutes and records.

The content is plain data (codes, names, ISO times in UTC) so that it can be
stored, versioned, fingerprinted and rendered later in any language.
"""

import dataclasses
import datetime

from django.db.models import Prefetch

from council.models import Mandate, User
from meetings.live import speaking_log
from meetings.models import AgendaItem, Meeting, Recusal
from meetings.register import Register
from voting.results import ItemOutcome, item_outcomes

SCHEMA = 1


def outcomes_for(meeting: Meeting) -> dict[int, ItemOutcome]:
    return item_outcomes(meeting)


def vote_data(outcome: ItemOutcome | None) -> dict | None:
    """The outcome as stored; a secret ballot keeps totals only."""
    if outcome is None:
        return None
    data = dataclasses.asdict(outcome)
    if outcome.secret:
        data["names_against"] = []
        data["names_abstaining"] = []
    return data


def _iso(moment) -> str | None:
    return moment.astimezone(datetime.UTC).isoformat() if moment else None


def _group_names(body, on) -> dict[int, str]:
    return dict(
        Mandate.objects.in_office(on=on)
        .voting()
        .filter(body=body, group__isnull=False)
        .values_list("person_id", "group__short_name")
    )


def _office_holder(body, role: str, on) -> str:
    mandate = (
        Mandate.objects.in_office(on=on)
        .filter(body=body, role=role)
        .select_related("person")
        .first()
    )
    return mandate.person.display_name if mandate else ""


def meeting_data(meeting: Meeting) -> dict:
    body = meeting.body
    return {
        "id": meeting.pk,
        "number": meeting.number,
        "title": meeting.title,
        "starts_at": _iso(meeting.starts_at),
        "opened_at": _iso(meeting.opened_at),
        "closed_at": _iso(meeting.closed_at),
        "mode": meeting.mode,
        "place": meeting.place,
        "time_zone": body.time_zone,
    }


def body_data(body) -> dict:
    return {
        "name": body.name,
        "slug": body.slug,
        "municipality": body.municipality,
        "kind": body.kind,
        "language": body.language,
    }


def attendance_data(meeting: Meeting) -> dict:
    """Each member's arrivals and departures, the excused and the absent."""
    register = Register.of(meeting)
    groups = _group_names(meeting.body, meeting.sitting_day)
    members = register.in_office_ids
    people = User.objects.filter(pk__in=members | register.person_ids())
    present, excused, absent = [], [], []
    # Sorted here, not by the database: its collation differs between engines.
    for person in sorted(
        people.order_by("pk"), key=lambda p: (p.last_name, p.first_name)
    ):
        own = register.attendance_of(person.pk)
        if own.attended:
            present.append(
                {
                    "id": person.pk,
                    "name": person.display_name,
                    "group": groups.get(person.pk, ""),
                    "member": person.pk in members,
                    "arrived": _iso(own.arrived_at),
                    "left": _iso(own.left_at),
                    "place": own.place,
                    "events": [
                        {"kind": line.kind, "at": _iso(line.at), "place": line.place}
                        for line in own.lines
                    ],
                    "departures": own.departures,
                }
            )
        elif own.excused:
            excused.append({"id": person.pk, "name": person.display_name})
        elif person.pk in members:
            absent.append({"id": person.pk, "name": person.display_name})
    return {"present": present, "excused": excused, "absent": absent}


def _items(meeting: Meeting) -> list[AgendaItem]:
    return list(
        meeting.items.select_related("rapporteur")
        .prefetch_related(
            Prefetch(
                "recusals",
                queryset=Recusal.objects.select_related("person").order_by("at"),
            )
        )
        .order_by("position")
    )


def item_data(item: AgendaItem, outcome: ItemOutcome | None, speeches) -> dict:
    return {
        "id": item.pk,
        "position": item.position,
        "title": item.title,
        "kind": item.kind,
        "session": item.session,
        "closed": item.is_closed_session,
        "rapporteur": item.rapporteur.display_name if item.rapporteur else "",
        "recusals": [
            {"name": r.person.display_name, "reason": r.reason}
            for r in item.recusals.all()
        ],
        "speeches": [
            {
                "order": s.order,
                "name": s.name,
                "group": s.group,
                "seconds": s.seconds,
                "kind": s.kind,
            }
            for s in sorted(speeches, key=lambda s: s.order)
        ],
        "summary": "",
        "vote": vote_data(outcome),
        "decision": item.draft_decision if outcome is not None else "",
        "recitals": item.explanatory_note,
    }


def minutes_content(meeting: Meeting) -> dict:
    """The draft minutes as the sitting recorded them (summaries left empty)."""
    day = meeting.sitting_day
    outcomes = outcomes_for(meeting)
    speeches: dict[int, list] = {}
    for speech in speaking_log(meeting):
        speeches.setdefault(speech.item_id, []).append(speech)
    return {
        "schema": SCHEMA,
        "body": body_data(meeting.body),
        "meeting": meeting_data(meeting),
        "attendance": attendance_data(meeting),
        "items": [
            item_data(item, outcomes.get(item.pk), speeches.get(item.pk, []))
            for item in _items(meeting)
        ],
        "introduction": "",
        "signatories": {
            "chair": _office_holder(meeting.body, Mandate.Role.CHAIR, day),
            "director_general": _office_holder(
                meeting.body, Mandate.Role.DIRECTOR_GENERAL, day
            ),
        },
    }


def decision_content(
    *,
    minutes: dict,
    item_id: int,
    reference: str,
    supersedes: str | None = None,
    correction_reason: str = "",
    decision_text: str | None = None,
) -> dict:
    """The canonical content of one decision extract, cut from the minutes' content."""
    item = next(i for i in minutes["items"] if i["id"] == item_id)
    recused = {r["name"] for r in item["recusals"]}
    present = [
        p["name"]
        for p in minutes["attendance"]["present"]
        if p.get("member", True) and p["name"] not in recused
    ]
    return {
        "schema": SCHEMA,
        "reference": reference,
        "body": minutes["body"],
        "meeting": minutes["meeting"],
        "present": present,
        "recused": sorted(recused),
        "item": {
            key: item[key]
            for key in ("id", "position", "title", "kind", "session", "rapporteur")
        },
        "recitals": item["recitals"],
        "decision": item["decision"] if decision_text is None else decision_text,
        "vote": item["vote"],
        "signatories": minutes["signatories"],
        "supersedes": supersedes,
        "correction_reason": correction_reason,
    }
