"""The live sitting's contract: declared once, and every message checked against it."""

import json
import re
import typing

import pytest
from django.db import transaction

from meetings import live
from meetings.live import contract
from meetings.live.publisher import prepare_update
from meetings.models import AgendaItem, FloorRequest, Meeting
from meetings.services import sitting as services
from tests.factories import arrive
from tests.meetings.sitting.test_websocket import next_of, open_socket


def test_codes_in_the_contract_are_the_models_codes():
    assert set(typing.get_args(contract.Status)) == set(Meeting.State.values)
    assert set(typing.get_args(contract.VoteKind)) == set(AgendaItem.VoteKind.values)
    assert set(typing.get_args(contract.RequestKind)) == set(FloorRequest.Kind.values)
    assert set(typing.get_args(contract.Audience)) == set(contract.AUDIENCES)


QUORUM = {"in_office": 9, "present": 5, "required": 5, "exempt": False}


@pytest.mark.parametrize(
    "value, schema",
    [
        (QUORUM | {"reached": True}, contract.Quorum),
        ({"id": None, "closed": True}, contract.Item | contract.HiddenItem | None),
        (None, contract.Item | contract.HiddenItem | None),
        ([1, 2], list[int]),
        ({"a": 1}, dict[str, int]),
        ({"action": "sync", "version": 3}, contract.ClientAction),
        ({"action": "resync"}, contract.ClientAction),
    ],
)
def test_check_accepts_what_the_contract_declares(value, schema):
    contract.check(value, schema)


@pytest.mark.parametrize(
    "value, schema, problem",
    [
        (QUORUM, contract.Quorum, "missing ['reached']"),
        (QUORUM | {"reached": True, "extra": 1}, contract.Quorum, "undeclared"),
        (QUORUM | {"reached": 1}, contract.Quorum, "is not bool"),
        (QUORUM | {"reached": True, "present": True}, contract.Quorum, "integer"),
        (QUORUM | {"reached": True, "present": "5"}, contract.Quorum, "integer"),
        ({"id": None, "closed": False}, contract.HiddenItem, "is not one of"),
        ({"id": 1, "closed": True}, contract.HiddenItem, "is not null"),
        ([1, "2"], list[int], "$[1]"),
        ({"action": "explode"}, contract.ClientAction, "is not one of"),
        ({"type": "snapshot", "version": 1}, contract.SnapshotMessage, "missing"),
    ],
)
def test_check_refuses_what_the_contract_does_not_declare(value, schema, problem):
    with pytest.raises(contract.ContractError, match=re.escape(problem)):
        contract.check(value, schema)


def _json(data):
    return json.loads(json.dumps(data))


def test_a_snapshot_needs_every_registered_part(live_meeting):
    data = _json(live.build_snapshot(live_meeting, live.PUBLIC))
    parts = {"vote": dict, "extra": int}
    with pytest.raises(contract.ContractError, match="missing part 'extra'"):
        contract.check_snapshot(data, live.PUBLIC, parts)
    contract.check_snapshot(data | {"extra": None}, live.PUBLIC, parts)
    with pytest.raises(contract.ContractError, match=r"\$\.extra"):
        contract.check_snapshot(data | {"extra": "x"}, live.PUBLIC, parts)


def test_members_only_keys_are_not_in_the_public_contract(live_meeting):
    members = _json(live.build_snapshot(live_meeting, live.MEMBERS))
    contract.check_snapshot(members, live.MEMBERS, {"vote": dict})
    leaked = members | {"stream": ""}
    with pytest.raises(contract.ContractError, match="undeclared.*present_ids"):
        contract.check_snapshot(leaked, live.PUBLIC, {"vote": dict})
    with pytest.raises(contract.ContractError, match="undeclared 'present_ids'"):
        contract.check_changes({"present_ids": []}, live.PUBLIC)


@pytest.mark.django_db
def test_every_state_of_the_floor_and_the_session_is_in_the_contract(
    live_meeting,
    items,
    chair,
    councillor,
    other_councillors,
    clerk,
    live_messages_follow_the_contract,
):
    checked = live_messages_follow_the_contract
    arrive(live_meeting, councillor)
    arrive(live_meeting, other_councillors[0], place="room")
    steps = [
        lambda: services.floor_request(meeting=live_meeting, by=councillor),
        lambda: services.floor_request(
            meeting=live_meeting, by=other_councillors[0], kind="point_of_order"
        ),
        lambda: services.floor_grant(meeting=live_meeting, by=chair),
        lambda: services.recusal_record(
            item=items["public"], person=councillor, by=clerk
        ),
        lambda: services.sitting_enter_closed_session(meeting=live_meeting, by=chair),
        lambda: services.sitting_move_to_item(
            meeting=live_meeting, item=items["closed"], by=chair
        ),
        lambda: services.sitting_move_to_item(
            meeting=live_meeting, item=items["third"], by=chair
        ),
        lambda: services.sitting_leave_closed_session(meeting=live_meeting, by=chair),
        lambda: services.sitting_suspend(meeting=live_meeting, by=chair),
    ]
    updates = 0
    for step in steps:
        step()
        texts = prepare_update(live_meeting.pk)
        updates += bool(texts)
    assert updates == len(steps)
    seen = [message for _, message in checked.messages]
    assert {m["type"] for m in seen} == {"update"}
    changes = [m["changes"] for m in seen]
    # The checks saw the shapes that matter: a speaker, a queue, a hidden item.
    assert any(c.get("speaker") for c in changes)
    assert any(c.get("queue") for c in changes)
    assert {"id": None, "closed": True} in [c.get("item") for c in changes]
    assert any(c.get("recused_ids") for c in changes)


@pytest.mark.django_db
def test_a_message_off_the_contract_is_caught(
    live_meeting, live_messages_follow_the_contract
):
    live.register_snapshot_part("extra", lambda m, r: "text", schema=int)
    try:
        with transaction.atomic():
            live.sitting_changed(live_meeting)
        assert prepare_update(live_meeting.pk) is not None
    finally:
        live.unregister_snapshot_part("extra")
    failures = live_messages_follow_the_contract.failures
    assert len(failures) == 4  # each audience's update and stored snapshot
    assert all(".extra: " in failure for failure in failures)
    failures.clear()  # caught, as it should be: the test does not fail for it


@pytest.mark.django_db(transaction=True)
async def test_every_socket_message_is_in_the_contract(
    live_meeting, councillor, live_messages_follow_the_contract
):
    socket = await open_socket(live_meeting, councillor)
    await next_of(socket, "snapshot")
    await socket.send_json_to({"action": "explode"})
    await next_of(socket, "error")
    await socket.send_json_to({"action": "ask_floor"})
    await next_of(socket, "update")
    await socket.disconnect()
    kinds = {m["type"] for _, m in live_messages_follow_the_contract.messages}
    assert {"hello", "snapshot", "error", "update"} <= kinds
    assert json.dumps(live_messages_follow_the_contract.messages)
