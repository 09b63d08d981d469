"""The snapshot builder: the sitting's state, read once, seen by each audience.

One build reads the meeting's register once (``Register.of``), the floor once,
and each part registered by another app once; then each audience's snapshot
is a filter of that, with no further queries. The shapes are declared in
``meetings.live.contract``.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from meetings.live.contract import AUDIENCES, MEMBERS
from meetings.models import FloorRequest, Meeting
from meetings.register import Register

logger = logging.getLogger(__name__)


# ---- what other apps add ---------------------------------------------------------


def everyone(built: Any, audience: str) -> Any:
    """The default view of a part: the same for every audience."""
    return built


@dataclass(frozen=True)
class SnapshotPart:
    """What another app adds to the snapshot under one key.

    ``build(meeting, register)`` runs once per snapshot build and may query;
    ``view(built, audience)`` turns what it built into the JSON-ready value
    one audience may see (None for nothing), without querying; ``schema``
    declares that value's shape for the contract (a TypedDict, or ``Any``).
    ``pace(old, new)``, given two values the view made, answers how many
    seconds such a change may wait before it is pushed (0: push it at once);
    the publisher holds a change made only of paced parts until the next
    multiple of that many seconds on the clock, so its push does not time the
    act that caused it (a secret ballot's count, say).
    """

    build: Callable[[Meeting, Register], Any]
    view: Callable[[Any, str], Any] = everyone
    schema: object = Any
    pace: Callable[[Any, Any], float] | None = None


_parts: dict[str, SnapshotPart] = {}


def register_snapshot_part(
    key: str,
    build: Callable[[Meeting, Register], Any],
    *,
    view: Callable[[Any, str], Any] = everyone,
    schema: object = Any,
    pace: Callable[[Any, Any], float] | None = None,
) -> None:
    """Add (or replace) the part under ``key`` of every snapshot."""
    _parts[key] = SnapshotPart(build=build, view=view, schema=schema, pace=pace)


def unregister_snapshot_part(key: str) -> None:
    _parts.pop(key, None)


def snapshot_parts() -> dict[str, SnapshotPart]:
    return dict(_parts)


def part_schemas() -> dict[str, object]:
    """The schema of each registered part, for ``contract.check_snapshot``."""
    return {key: part.schema for key, part in _parts.items()}


_panels: list[str] = []


def register_sitting_panel(template_name: str) -> None:
    """Include a template on the member's sitting page.

    It gets ``meeting``, ``item`` and ``user`` in its context.
    """
    if template_name not in _panels:
        _panels.append(template_name)


def sitting_panels() -> list[str]:
    return list(_panels)


# ---- the floor ---------------------------------------------------------------------


def queue_order(waiting: list) -> list:
    """Points of order first, then everyone in the order they asked."""
    point_of_order = FloorRequest.Kind.POINT_OF_ORDER
    return sorted(
        waiting, key=lambda r: (r.kind != point_of_order, r.requested_at, r.pk)
    )


def _request(request: FloorRequest) -> dict:
    return {
        "id": request.pk,
        "person_id": request.person_id,
        "name": request.person.display_name,
        "group": request.group,
        "kind": request.kind,
    }


# ---- the build ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Sitting:
    """Everything the audiences' snapshots are cut from."""

    members: dict  # the members' snapshot, without the parts
    hidden_from_public: bool
    stream: str
    sitting_quorum: dict  # by presence alone: no item, so no recusal


def _read(meeting: Meeting, register: Register) -> _Sitting:
    item = meeting.current_item
    item_closed = item is not None and item.is_closed_session
    present = register.present_ids()
    room = register.room_ids()
    requests = list(
        FloorRequest.objects.filter(
            meeting_id=meeting.pk,
            status__in=[FloorRequest.Status.WAITING, FloorRequest.Status.SPEAKING],
        )
        .select_related("person")
        .order_by("requested_at", "pk")
    )
    speaker = next(
        (r for r in requests if r.status == FloorRequest.Status.SPEAKING), None
    )
    waiting = queue_order(
        [r for r in requests if r.status == FloorRequest.Status.WAITING]
    )
    members = {
        "meeting": meeting.pk,
        "status": meeting.state,
        "closed_session": meeting.closed_session,
        "item": None
        if item is None
        else {
            "id": item.pk,
            "position": item.position,
            "title": item.title,
            "closed": item_closed,
            "third_convocation": item.third_convocation,
            "vote_kind": item.vote_kind,
        },
        "speaker": None
        if speaker is None
        else _request(speaker)
        | {
            "started_at": speaker.granted_at.isoformat(),
            "limit": speaker.limit_seconds,
        },
        "queue": [_request(r) for r in waiting],
        "attendance": {
            "present": len(present),
            "remote": len(present) - len(room),
            "room": len(room),
            "in_office": len(register.in_office_ids),
        },
        "quorum": register.quorum(item).as_dict(),
        "present_ids": sorted(present),
        "room_ids": sorted(room),
        "recused_ids": sorted(register.recused_ids(item)),
    }
    hidden = meeting.closed_session or item_closed
    return _Sitting(
        members=members,
        hidden_from_public=hidden,
        stream=meeting.livestream_url
        if meeting.livestream_url and meeting.is_live and not hidden
        else "",
        sitting_quorum=register.quorum(None).as_dict(),
    )


_MEMBERS_ONLY = ("present_ids", "room_ids", "recused_ids")


def _core_for(sitting: _Sitting, audience: str) -> dict:
    if audience == MEMBERS:
        return dict(sitting.members)
    data = {k: v for k, v in sitting.members.items() if k not in _MEMBERS_ONLY}
    if sitting.hidden_from_public:
        if data["item"] is not None:
            data["item"] = {"id": None, "closed": True}
        data["speaker"] = None
        data["queue"] = []
        # The item's quorum counts its recusals: a recusal in closed session
        # must not show on the public stream.
        data["quorum"] = sitting.sitting_quorum
    data["stream"] = sitting.stream
    return data


_FAILED = object()


def _build_part(key: str, part: SnapshotPart, meeting: Meeting, register: Register):
    try:
        return part.build(meeting, register)
    except Exception:
        # Another app's part must not take the whole sitting down.
        logger.exception("snapshot part %s failed", key)
        return _FAILED


def _view_part(key: str, part: SnapshotPart, built: Any, audience: str):
    if built is _FAILED:
        return None
    try:
        return part.view(built, audience)
    except Exception:
        logger.exception("snapshot part %s failed for %s", key, audience)
        return None


def build_snapshots(
    meeting: Meeting,
    audiences: Iterable[str] = AUDIENCES,
    *,
    register: Register | None = None,
) -> dict[str, dict]:
    """The snapshot of each audience, JSON-ready, from one read of the sitting.

    ``meeting`` should come with its body and current item; ``register``, if
    given, is the one to read (else it is read here, once).
    """
    if register is None:
        register = Register.of(meeting)
    sitting = _read(meeting, register)
    parts = snapshot_parts()
    built = {
        key: _build_part(key, part, meeting, register) for key, part in parts.items()
    }
    snapshots = {}
    for audience in audiences:
        data = _core_for(sitting, audience)
        for key, part in parts.items():
            data[key] = _view_part(key, part, built[key], audience)
        snapshots[audience] = data
    return snapshots


def build_snapshot(
    meeting: Meeting, audience: str, *, register: Register | None = None
) -> dict:
    """The snapshot one audience may see (what a page renders before its socket)."""
    return build_snapshots(meeting, (audience,), register=register)[audience]
