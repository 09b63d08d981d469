"""Contract of the live sitting, shared by the apps that build on meetings.

- ``sitting_changed(meeting)``: call inside the transaction of any service that
  changes what a sitting shows; after commit the sitting's snapshot version is
  bumped and the change is pushed to members and (filtered) to the public.
- ``register_snapshot_part(key, builder)``: an app that builds on meetings
  (voting) adds its part of the snapshot without meetings importing it;
  ``builder(meeting, audience)`` returns JSON-ready data, ``audience`` being
  ``"members"`` or ``"public"``.
- ``register_sitting_panel(template_name)``: a template included on the member's
  sitting page (voting adds its ballot panel); it gets ``meeting``, ``item`` and
  ``user`` in its context.
- In the browser, the live-sitting script dispatches a ``sitting:snapshot``
  CustomEvent on ``document`` with the whole current snapshot (``detail``) after
  every applied update, so other scripts (the ballot) follow the sitting
  without opening their own websocket.
- ``speaking_log(meeting)``: the debate as recorded, for the minutes.

The live-sitting work fills in the versioning, coalescing and transport.
"""

from collections.abc import Callable
from dataclasses import dataclass

from council.broadcast import broadcast_on_commit

MEMBERS = "members"
PUBLIC = "public"

SnapshotBuilder = Callable[[object, str], dict]
_parts: dict[str, SnapshotBuilder] = {}


def register_snapshot_part(key: str, builder: SnapshotBuilder) -> None:
    _parts[key] = builder


def snapshot_parts() -> dict[str, SnapshotBuilder]:
    return dict(_parts)


_panels: list[str] = []


def register_sitting_panel(template_name: str) -> None:
    if template_name not in _panels:
        _panels.append(template_name)


def sitting_panels() -> list[str]:
    return list(_panels)


def sitting_changed(meeting) -> None:
    """Announce after commit that the sitting's state changed."""
    for audience in (MEMBERS, PUBLIC):
        broadcast_on_commit(
            f"sitting.{meeting.pk}.{audience}",
            {"type": "sitting.changed", "meeting": meeting.pk},
        )


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
    return []
