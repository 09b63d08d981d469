"""The live engine of a sitting: what every open page of it sees, kept current.

- ``contract``: the shape of every message sent to the browser, declared once.
- ``snapshot``: the builder, one read of the sitting seen by each audience;
  other apps add parts (``register_snapshot_part``) and member-page panels
  (``register_sitting_panel``).
- ``publisher``: ``sitting_changed(meeting)``, called by services in their
  transaction; the version, coalescing, diff and push after commit.
- ``connect``: what a client gets on connect and on resync, and its cache.
- ``relay``: one channel per server process hands pushes to its sockets.
- ``speaking``: the debate as recorded, for the minutes.
"""

from meetings.live.connect import (
    behind,
    cached_message,
    cached_version,
    connection_closed,
    connection_opened,
    published_version,
    snapshot_message,
)
from meetings.live.contract import AUDIENCES, MEMBERS, PUBLIC
from meetings.live.publisher import (
    PUBLISH_INTERVAL,
    db_call,
    group_name,
    publish,
    remember_server_loop,
    request_publish,
    serving,
    sitting_changed,
)
from meetings.live.relay import relay_for
from meetings.live.snapshot import (
    SnapshotPart,
    build_snapshot,
    build_snapshots,
    queue_order,
    register_sitting_panel,
    register_snapshot_part,
    sitting_panels,
    snapshot_parts,
    unregister_snapshot_part,
)
from meetings.live.speaking import Speech, speaking_log, speaking_totals

__all__ = [
    "AUDIENCES",
    "MEMBERS",
    "PUBLIC",
    "PUBLISH_INTERVAL",
    "SnapshotPart",
    "Speech",
    "behind",
    "build_snapshot",
    "build_snapshots",
    "cached_message",
    "cached_version",
    "connection_closed",
    "connection_opened",
    "db_call",
    "group_name",
    "publish",
    "published_version",
    "queue_order",
    "register_sitting_panel",
    "register_snapshot_part",
    "relay_for",
    "remember_server_loop",
    "request_publish",
    "serving",
    "sitting_changed",
    "sitting_panels",
    "snapshot_message",
    "snapshot_parts",
    "speaking_log",
    "speaking_totals",
    "unregister_snapshot_part",
]
