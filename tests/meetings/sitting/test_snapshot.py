"""The snapshot contract other apps build on (voting adds its part)."""

import json

import pytest
from django.db import transaction

from meetings import live
from meetings.live.publisher import prepare_update
from meetings.models import SittingState
from meetings.register import Register
from meetings.services import sitting as services
from tests.factories import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def vote_part():
    calls = {"build": [], "view": []}

    def build(meeting, register):
        calls["build"].append((meeting.pk, type(register)))
        return {"open": True, "voted": 3}

    def view(built, audience):
        calls["view"].append(audience)
        return built | {"voted": built["voted"] if audience == live.MEMBERS else None}

    # Stands in for the voting app's part, which is put back afterwards.
    previous = live.snapshot_parts().get("vote")
    live.register_snapshot_part("vote", build, view=view)
    yield calls
    if previous is None:
        live.unregister_snapshot_part("vote")
    else:
        live.register_snapshot_part(
            "vote",
            previous.build,
            view=previous.view,
            schema=previous.schema,
            pace=previous.pace,
        )


def test_registered_parts_are_built_once_and_seen_by_each_audience(
    live_meeting, vote_part
):
    snapshots = live.build_snapshots(live_meeting)
    assert snapshots[live.MEMBERS]["vote"] == {"open": True, "voted": 3}
    assert snapshots[live.PUBLIC]["vote"] == {"open": True, "voted": None}
    assert vote_part["build"] == [(live_meeting.pk, Register)]
    assert sorted(vote_part["view"]) == [live.MEMBERS, live.PUBLIC]


def test_parts_read_the_register_the_snapshot_reads(live_meeting, vote_part):
    register = Register.of(live_meeting)
    seen = []
    previous = live.snapshot_parts()["vote"]
    live.register_snapshot_part(
        "vote", lambda meeting, given: seen.append(given), view=previous.view
    )
    live.build_snapshots(live_meeting, register=register)
    assert seen == [register]


@pytest.mark.parametrize("fails", ["build", "view"])
def test_a_failing_part_does_not_take_the_snapshot_down(live_meeting, fails):
    def broken(*args):
        raise RuntimeError("boom")

    if fails == "build":
        live.register_snapshot_part("broken", broken)
    else:
        live.register_snapshot_part("broken", lambda m, r: {}, view=broken)
    try:
        data = live.build_snapshot(live_meeting, live.MEMBERS)
    finally:
        live.unregister_snapshot_part("broken")
    assert data["broken"] is None
    assert data["status"] == "in_session"


def test_sitting_changed_bumps_the_version_in_the_transaction(live_meeting):
    with transaction.atomic():
        live.sitting_changed(live_meeting)
        live.sitting_changed(live_meeting)
    first = SittingState.objects.get(pk=live_meeting.pk).version
    try:
        with transaction.atomic():
            live.sitting_changed(live_meeting)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert SittingState.objects.get(pk=live_meeting.pk).version == first


def test_published_update_carries_only_changed_parts(live_meeting, councillor):
    first = json.loads(prepare_update(live_meeting.pk)[live.MEMBERS])
    assert first["prev"] == 0 and first["changes"]["status"] == "in_session"
    assert prepare_update(live_meeting.pk) is None  # nothing new to push
    arrive(live_meeting, councillor)
    with transaction.atomic():
        live.sitting_changed(live_meeting)
    texts = prepare_update(live_meeting.pk)
    members = json.loads(texts[live.MEMBERS])
    public = json.loads(texts[live.PUBLIC])
    assert members["changes"]["present_ids"] == [councillor.pk]
    assert "present_ids" not in public["changes"]
    assert public["changes"]["attendance"]["present"] == 1
    assert members["prev"] == first["version"]
    assert members["version"] > first["version"]
    assert "status" not in members["changes"]
    # Published once: the same version is not pushed twice.
    assert prepare_update(live_meeting.pk) is None


def test_speaking_log_is_empty_before_anyone_speaks(live_meeting, councillor):
    arrive(live_meeting, councillor)
    services.floor_request(meeting=live_meeting, by=councillor)
    assert live.speaking_log(live_meeting) == []
