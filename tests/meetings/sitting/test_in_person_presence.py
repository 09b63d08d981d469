"""In an in-person sitting, presence in the room is the clerk's to record.

A member cannot record themselves present (or gone): not by opening the
page, not by the socket's ``join``, not by posting the join form.
"""

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.urls import reverse

from meetings.models import AttendanceEvent, LiveConnection, Meeting
from meetings.register import Register
from meetings.services import sitting as services
from tests.conftest import client_for
from tests.meetings.sitting.test_websocket import next_of, open_socket


@pytest.fixture
def in_person(live_meeting):
    live_meeting.mode = Meeting.Mode.IN_PERSON
    live_meeting.save(update_fields=["mode"])
    return live_meeting


@pytest.mark.django_db(transaction=True)
async def test_opening_the_page_records_no_remote_arrival(in_person, councillor):
    socket = await open_socket(in_person, councillor)
    snapshot = await next_of(socket, "snapshot")
    assert snapshot["data"]["present_ids"] == []
    assert not await database_sync_to_async(AttendanceEvent.objects.exists)()
    # The page still holds a lease: a hybrid turn of the sitting is not needed
    # for it, and it costs nothing to the register.
    assert await database_sync_to_async(LiveConnection.objects.count)() == 1
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_joining_by_the_socket_is_refused(in_person, councillor):
    socket = await open_socket(in_person, councillor)
    await next_of(socket, "snapshot")
    await socket.send_json_to({"action": "join"})
    error = await next_of(socket, "error")
    assert error["code"] == "refused"
    assert error["message"] == str(services.PRESENCE_BY_THE_CLERK)
    assert not await database_sync_to_async(AttendanceEvent.objects.exists)()
    await socket.disconnect()


@pytest.mark.django_db
def test_joining_by_the_form_is_refused_and_says_why(in_person, councillor):
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("meetings:sitting_join", args=[in_person.pk]), follow=True
    )
    assert response.status_code == 200
    assert not AttendanceEvent.objects.exists()
    messages = [str(m) for m in response.context["messages"]]
    assert str(services.PRESENCE_BY_THE_CLERK) in messages


@pytest.mark.django_db
def test_the_page_offers_no_join_nor_leave(in_person, councillor):
    client = client_for(councillor)
    page = client.get(reverse("meetings:sitting", args=[in_person.pk])).content
    assert b'data-live="join-button"' not in page
    assert b'data-live="leave-button"' not in page
    assert b'data-live="in-person"' in page
    in_person.mode = Meeting.Mode.HYBRID
    in_person.save(update_fields=["mode"])
    page = client.get(reverse("meetings:sitting", args=[in_person.pk])).content
    assert b'data-live="join-button"' in page


@pytest.mark.django_db
def test_the_services_refuse_and_the_clerk_records(in_person, councillor, clerk):
    with pytest.raises(ValidationError) as refused:
        services.attendance_join(meeting=in_person, by=councillor)
    assert services.PRESENCE_BY_THE_CLERK in refused.value.messages
    services.attendance_record(
        meeting=in_person,
        person=councillor,
        kind=AttendanceEvent.Kind.ARRIVED,
        by=clerk,
    )
    with pytest.raises(ValidationError):
        services.attendance_leave(meeting=in_person, by=councillor)
    assert Register.of(in_person).room_ids() == {councillor.pk}
