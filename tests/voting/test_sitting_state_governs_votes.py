"""The sitting's state governs votes: no ballot while suspended or once closed.

An open poll of a suspended sitting stays open: it refuses every ballot
(public, secret, recorded by the clerk) until the chair resumes, and the
pages say so instead of offering a ballot.
"""

import pytest
from django.urls import reverse
from django.utils import translation

from council.refusals import Refusal
from meetings.models import AttendanceEvent, Meeting
from meetings.services.meetings import meeting_resume
from meetings.services.sitting import sitting_suspend
from tests.conftest import client_for
from tests.factories import arrive
from tests.voting.conftest import recent_client
from voting.models import Ballot, Participation, Poll, PublicVote
from voting.services.ballots import (
    SITTING_CLOSED,
    SITTING_SUSPENDED,
    public_vote_cast,
    secret_ballot_cast,
)

pytestmark = pytest.mark.django_db


def _nothing_cast(poll):
    return (
        not PublicVote.objects.filter(poll=poll).exists()
        and not Participation.objects.filter(poll=poll).exists()
        and not Ballot.objects.filter(poll=poll).exists()
    )


def _refused(message, call):
    with pytest.raises(Refusal) as refused:
        call()
    assert refused.value.messages == [str(message)]


def test_no_secret_ballot_while_suspended_then_again_once_resumed(
    secret_poll, councillor, chair
):
    meeting = secret_poll.item.meeting
    sitting_suspend(meeting=meeting, by=chair)
    _refused(
        SITTING_SUSPENDED,
        lambda: secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes"),
    )
    assert _nothing_cast(secret_poll)
    secret_poll.refresh_from_db()
    assert secret_poll.state == Poll.State.OPEN  # the vote waits, open
    meeting_resume(meeting=meeting, by=chair)
    assert secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes").recorded


def test_no_public_vote_while_suspended(public_poll, councillor, chair):
    public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    sitting_suspend(meeting=public_poll.item.meeting, by=chair)
    # Neither a new vote nor a change of an earlier one.
    _refused(
        SITTING_SUSPENDED,
        lambda: public_vote_cast(poll=public_poll, member=chair, choice="no"),
    )
    _refused(
        SITTING_SUSPENDED,
        lambda: public_vote_cast(poll=public_poll, member=councillor, choice="no"),
    )
    assert list(PublicVote.objects.values_list("member_id", "choice")) == [
        (councillor.pk, "yes")
    ]


def test_the_clerk_records_no_vote_while_suspended(
    public_poll, other_councillors, clerk, chair
):
    member = other_councillors[0]
    arrive(public_poll.item.meeting, member, place=AttendanceEvent.Place.ROOM)
    sitting_suspend(meeting=public_poll.item.meeting, by=chair)
    _refused(
        SITTING_SUSPENDED,
        lambda: public_vote_cast(
            poll=public_poll, member=member, choice="no", by=clerk
        ),
    )
    assert _nothing_cast(public_poll)


@pytest.mark.parametrize("kind", ["public", "secret"])
def test_no_ballot_in_a_closed_sitting_even_on_a_poll_left_open(
    kind, public_poll, secret_poll, councillor
):
    # Closing the sitting closes its votes; a poll left open by older data
    # (or a write that bypassed the services) still takes no ballot.
    poll = public_poll if kind == "public" else secret_poll
    Meeting.objects.filter(pk=poll.item.meeting_id).update(state=Meeting.State.CLOSED)
    poll = Poll.objects.select_related("item__meeting__body").get(pk=poll.pk)
    if kind == "public":
        cast = lambda: public_vote_cast(poll=poll, member=councillor, choice="no")  # noqa: E731
    else:
        cast = lambda: secret_ballot_cast(poll=poll, by=councillor, choice="no")  # noqa: E731
    _refused(SITTING_CLOSED, cast)
    assert _nothing_cast(poll)


def test_the_cast_request_while_suspended_is_refused_with_the_reason(
    secret_poll, councillor, chair
):
    sitting_suspend(meeting=secret_poll.item.meeting, by=chair)
    response = recent_client(councillor).post(
        reverse("voting:cast", args=[secret_poll.pk]), {"choice": "yes"}
    )
    assert response.status_code == 409
    with translation.override("en"):
        assert str(SITTING_SUSPENDED) in response.content.decode()
    assert _nothing_cast(secret_poll)


def test_a_public_vote_posted_while_suspended_is_refused_with_the_reason(
    public_poll, councillor, chair
):
    sitting_suspend(meeting=public_poll.item.meeting, by=chair)
    client = recent_client(councillor)
    response = client.post(
        reverse("voting:vote", args=[public_poll.pk]), {"choice": "yes"}, follow=True
    )
    with translation.override("en"):
        assert str(SITTING_SUSPENDED) in response.content.decode()
    assert _nothing_cast(public_poll)


@pytest.mark.parametrize("page", ["poll", "sitting"])
def test_pages_say_the_vote_waits_for_the_sitting(page, public_poll, councillor, chair):
    meeting = public_poll.item.meeting
    client = recent_client(councillor)
    url = (
        reverse("voting:poll", args=[public_poll.pk])
        if page == "poll"
        else reverse("meetings:sitting", args=[meeting.pk])
    )
    assert "data-ballot" in client.get(url).content.decode()
    sitting_suspend(meeting=meeting, by=chair)
    html = client.get(url).content.decode()
    assert "data-ballot" not in html  # no ballot to fill in
    with translation.override("en"):
        assert str(SITTING_SUSPENDED) in html
    assert "data-vote-paused>" in html
    meeting_resume(meeting=meeting, by=chair)
    html = client.get(url).content.decode()
    assert "data-ballot" in html and "data-vote-paused>" not in html


def test_the_snapshot_tells_scripts_the_sitting_is_suspended(
    public_poll, councillor, chair
):
    # ballot.js disables the ballot's button when the sitting leaves session:
    # the snapshot it reads carries the sitting's state next to the vote.
    from meetings.live import MEMBERS, build_snapshot

    meeting = public_poll.item.meeting
    sitting_suspend(meeting=meeting, by=chair)
    meeting.refresh_from_db()
    snapshot = build_snapshot(meeting, MEMBERS)
    assert snapshot["status"] == Meeting.State.SUSPENDED
    assert snapshot["vote"]["state"] == Poll.State.OPEN


def test_an_outsider_cannot_cast_in_any_state(secret_poll, outsider, chair):
    sitting_suspend(meeting=secret_poll.item.meeting, by=chair)
    response = client_for(outsider).post(
        reverse("voting:cast", args=[secret_poll.pk]), {"choice": "yes"}
    )
    assert response.status_code in (302, 403)
    assert _nothing_cast(secret_poll)


def test_the_vote_controls_say_the_vote_waits_for_the_sitting(public_poll, chair):
    meeting = public_poll.item.meeting
    client = client_for(chair)
    client.cookies["django_language"] = "en"
    url = reverse("voting:controls", args=[meeting.pk])
    assert "data-vote-paused" not in client.get(url).content.decode()
    sitting_suspend(meeting=meeting, by=chair)
    html = client.get(url).content.decode()
    assert "data-vote-paused" in html
    with translation.override("en"):
        assert str(SITTING_SUSPENDED) in html
