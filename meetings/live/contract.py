"""What the live sitting sends to the browser, declared once.

``static/js/sitting.js`` reads these messages; ``static/js/ballot.js`` reads
the ``vote`` part through the ``sitting:snapshot`` event that sitting.js
dispatches on ``document`` (``detail``: the whole current snapshot) after every
applied update. Other apps add parts to the snapshot with their own schema
(``register_snapshot_part``); every published message is checked against these
structures by the tests (``check``).

Server to client, one JSON text per message:

- ``Hello`` first, on connect: the server's clock and who is connected.
- ``SnapshotMessage`` on connect and on ``resync``: the whole snapshot.
- ``UpdateMessage`` after a change: ``changes`` holds the top-level keys of
  the snapshot that differ from version ``prev``. A client holding ``prev``
  applies it; one at a higher version drops it; any other client missed a
  message (Channels drops messages to full channels) and sends ``resync``.
- ``ErrorMessage`` answers a refused or malformed action. Its ``code`` says
  why: ``not_text``, ``too_long``, ``not_json``, ``no_action``,
  ``unknown_action``, ``bad_version``, ``bad_kind``, ``forbidden``,
  ``refused`` (a rule of the sitting: the message says which), ``too_fast``
  (over the connection's rate for that kind of action; once more while over
  it, the socket is closed with code 4429) and ``unavailable`` (the database
  could not be reached; try again). Repeated malformed messages close the
  socket with code 4400.
- ``Pong`` answers a ``ping``.

Client to server: ``{"action": "resync"}``; ``{"action": "sync", "version":
V}`` periodically, answered by a snapshot only if V is behind; ``{"action":
"ping"}`` every ``Hello.ping`` seconds, the heartbeat of the member's presence
(a socket that says nothing for a lease period is dropped); members also
send ``ask_floor`` (with ``kind``), ``withdraw``, ``join`` and ``leave``. A
page without a live view opens the members' socket with ``?presence=1``: it
gets ``Hello`` and answers to ``ping`` only.

The snapshot is language-neutral (codes, never labels): the page holds the
labels. The public snapshot never carries names, titles or the stream of an
item in closed session, nor the item's quorum (its recusals): during a closed
session its ``quorum`` is the sitting's, by presence alone. The public stream
gets no update for a change it does not see, so it does not tick with a
closed session's ballots.
"""

import types
import typing
from typing import Annotated, Any, Literal, NotRequired, TypedDict, Union

MEMBERS = "members"
PUBLIC = "public"
AUDIENCES = (MEMBERS, PUBLIC)
Audience = Literal["members", "public"]

# The codes the page turns into labels; a test holds them equal to the models'.
Status = Literal["draft", "convened", "in_session", "suspended", "closed"]
VoteKind = Literal["none", "public", "secret"]
RequestKind = Literal["contribution", "reply", "point_of_order"]
ISODateTime = Annotated[str, "ISO 8601 date and time with its offset"]


class Item(TypedDict):
    """The item under discussion."""

    id: int
    position: int
    title: str
    closed: bool  # in closed session
    third_convocation: bool  # exempt from quorum
    vote_kind: VoteKind


class HiddenItem(TypedDict):
    """What the public sees of an item in closed session: that there is one."""

    id: None
    closed: Literal[True]


class Request(TypedDict):
    """A request for the floor, waiting in the queue."""

    id: int
    person_id: int
    name: str
    group: str  # the political group's short name, or ""
    kind: RequestKind


class Speaker(Request):
    """The request that holds the floor."""

    started_at: ISODateTime
    limit: int  # seconds; 0 for no limit


class Attendance(TypedDict):
    """Members in office who are present, and where."""

    present: int
    remote: int
    room: int
    in_office: int


class Quorum(TypedDict):
    """The quorum for the current item (L1122-17)."""

    in_office: int
    present: int  # present and not recused for the item
    required: int
    exempt: bool  # third convocation
    reached: bool


class Snapshot(TypedDict):
    """The part of the snapshot both audiences get."""

    meeting: int
    status: Status
    closed_session: bool
    item: Item | HiddenItem | None
    speaker: Speaker | None  # None for the public in closed session
    queue: list[Request]  # in the order the floor is given; [] as above
    attendance: Attendance
    quorum: Quorum


class MembersSnapshot(Snapshot):
    """Members, the director-general and the clerk: the register in full."""

    present_ids: list[int]
    room_ids: list[int]
    recused_ids: list[int]  # for the current item


class PublicSnapshot(Snapshot):
    """The public gallery."""

    stream: str  # the livestream's address while live and public, else ""


SNAPSHOTS: dict[str, type] = {MEMBERS: MembersSnapshot, PUBLIC: PublicSnapshot}


class Hello(TypedDict):
    type: Literal["hello"]
    now: int  # the server's clock, milliseconds since the epoch
    user: int | None
    ping: float  # seconds between the page's pings (its presence heartbeat)


class Pong(TypedDict):
    """The answer to a ``ping``."""

    type: Literal["pong"]


class SnapshotMessage(TypedDict):
    type: Literal["snapshot"]
    version: int
    data: dict[str, Any]  # MembersSnapshot or PublicSnapshot, with the parts


class UpdateMessage(TypedDict):
    type: Literal["update"]
    version: int
    prev: int
    changes: dict[str, Any]  # some keys of the snapshot, with their new value


class ErrorMessage(TypedDict):
    type: Literal["error"]
    code: str
    message: str


class ClientAction(TypedDict):
    action: Literal["resync", "sync", "ping", "ask_floor", "withdraw", "join", "leave"]
    version: NotRequired[int]  # sync
    kind: NotRequired[RequestKind]  # ask_floor


# ---- checking a message against the contract --------------------------------------


class ContractError(ValueError):
    """A message does not have the shape the contract declares."""


def check(value: object, schema: object, path: str = "$") -> None:
    """Raise ``ContractError`` unless ``value`` (JSON-ready) matches ``schema``.

    ``schema`` is a TypedDict, ``Literal``, union, ``list[...]``,
    ``dict[str, ...]``, ``Annotated[...]``, a plain type or ``Any``. TypedDicts
    are closed: a key they do not declare is an error.
    """
    if schema is Any:
        return
    origin = typing.get_origin(schema)
    if origin is Annotated:
        check(value, typing.get_args(schema)[0], path)
        return
    if origin is Literal:
        if not any(
            value == allowed and type(value) is type(allowed)
            for allowed in typing.get_args(schema)
        ):
            raise ContractError(f"{path}: {value!r} is not one of {schema}")
        return
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(schema):
            try:
                check(value, option, path)
                return
            except ContractError as exc:
                errors.append(str(exc))
        raise ContractError(f"{path}: matches none of {schema}: {'; '.join(errors)}")
    if origin is list:
        if not isinstance(value, list):
            raise ContractError(f"{path}: {value!r} is not a list")
        (element,) = typing.get_args(schema)
        for index, entry in enumerate(value):
            check(entry, element, f"{path}[{index}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise ContractError(f"{path}: {value!r} is not an object")
        _, element = typing.get_args(schema)
        for key, entry in value.items():
            if not isinstance(key, str):
                raise ContractError(f"{path}: key {key!r} is not text")
            check(entry, element, f"{path}.{key}")
        return
    if typing.is_typeddict(schema):
        _check_typeddict(value, schema, path)
        return
    if schema is None or schema is type(None):
        if value is not None:
            raise ContractError(f"{path}: {value!r} is not null")
        return
    if schema is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ContractError(f"{path}: {value!r} is not an integer")
        return
    if schema is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ContractError(f"{path}: {value!r} is not a number")
        return
    if isinstance(schema, type):
        if not isinstance(value, schema):
            raise ContractError(f"{path}: {value!r} is not {schema.__name__}")
        return
    raise TypeError(f"{path}: no check for {schema!r}")


def _check_typeddict(value: object, schema: type, path: str) -> None:
    if not isinstance(value, dict):
        raise ContractError(f"{path}: {value!r} is not an object")
    hints = typing.get_type_hints(schema, include_extras=True)
    missing = schema.__required_keys__ - value.keys()
    if missing:
        raise ContractError(f"{path}: missing {sorted(missing)}")
    unknown = value.keys() - hints.keys()
    if unknown:
        raise ContractError(f"{path}: undeclared {sorted(unknown)}")
    for key, entry in value.items():
        hint = hints[key]
        if typing.get_origin(hint) is NotRequired:
            hint = typing.get_args(hint)[0]
        check(entry, hint, f"{path}.{key}")


def check_snapshot(
    data: object, audience: str, parts: dict[str, object] | None = None
) -> None:
    """Check a whole snapshot: the audience's structure plus each part's schema.

    A part may be null (not there for this audience, or its builder failed).
    """
    parts = parts or {}
    if not isinstance(data, dict):
        raise ContractError(f"$: {data!r} is not an object")
    for key in parts:
        if key not in data:
            raise ContractError(f"$: missing part {key!r}")
        check(data[key], typing.Optional[parts[key]], f"$.{key}")  # noqa: UP045
    check({k: v for k, v in data.items() if k not in parts}, SNAPSHOTS[audience])


def check_changes(
    changes: object, audience: str, parts: dict[str, object] | None = None
) -> None:
    """Check the ``changes`` of an update: known keys, each with its own type."""
    parts = parts or {}
    if not isinstance(changes, dict):
        raise ContractError(f"$.changes: {changes!r} is not an object")
    hints = typing.get_type_hints(SNAPSHOTS[audience], include_extras=True)
    for key, value in changes.items():
        if key in parts:
            check(value, typing.Optional[parts[key]], f"$.changes.{key}")  # noqa: UP045
        elif key in hints:
            check(value, hints[key], f"$.changes.{key}")
        else:
            raise ContractError(f"$.changes: undeclared {key!r}")


def check_message(
    message: object, audience: str, parts: dict[str, object] | None = None
) -> None:
    """Check one server-to-client message of the audience's stream."""
    kind = message.get("type") if isinstance(message, dict) else None
    schema = {
        "hello": Hello,
        "snapshot": SnapshotMessage,
        "update": UpdateMessage,
        "error": ErrorMessage,
        "pong": Pong,
    }.get(kind)
    if schema is None:
        raise ContractError(f"$.type: unknown message {kind!r}")
    check(message, schema)
    if kind == "snapshot":
        check_snapshot(message["data"], audience, parts)
    elif kind == "update":
        check_changes(message["changes"], audience, parts)
