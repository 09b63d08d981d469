"""A sitting does not close with a vote open, unless the chair confirms it.

The console's close asks first and names each open vote with the ballots
cast so far; confirmed, it closes them (counted as the vote controls would),
then the sitting. A vote opened after the confirmation refuses the close.
"""

import pytest
from django.urls import reverse
from django.utils import translation

from council.models import AuditEntry
from council.refusals import Refusal
from meetings.models import AgendaItem, Meeting
from meetings.open_votes import open_votes
from meetings.services import sitting as services
from tests.conftest import client_for
from tests.factories import make_item
from voting.models import Poll
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.polls import poll_open

pytestmark = pytest.mark.django_db


def _close_url(meeting):
    return reverse("meetings:sitting_console_action", args=[meeting.pk, "close"])


def test_closing_with_an_open_vote_is_refused_with_the_reason(public_poll, chair):
    meeting = public_poll.item.meeting
    with pytest.raises(Refusal) as refused:
        services.sitting_close(meeting=meeting, by=chair)
    assert refused.value.messages == [str(services.OPEN_VOTE_AT_CLOSE)]
    meeting.refresh_from_db()
    public_poll.refresh_from_db()
    assert meeting.state == Meeting.State.IN_SESSION
    assert public_poll.state == Poll.State.OPEN


def test_the_console_asks_first_and_names_the_open_vote(secret_poll, councillor, chair):
    secret_ballot_cast(poll=secret_poll, by=councillor, choice="yes")
    meeting = secret_poll.item.meeting
    client = client_for(chair)
    client.cookies["django_language"] = "en"
    before = AuditEntry.objects.count()
    response = client.post(_close_url(meeting))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{secret_poll.item.position}. {secret_poll.item.title}" in html
    assert "1 ballot cast so far" in html
    assert "Closing the sitting first closes it with the ballots cast so far" in html
    assert f'name="close_vote" value="{secret_poll.pk}"' in html
    # Asking changed nothing.
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.IN_SESSION
    assert AuditEntry.objects.count() == before


def test_confirmed_close_counts_the_vote_then_closes_the_sitting(
    public_poll, councillor, chair
):
    public_vote_cast(poll=public_poll, member=councillor, choice="yes")
    meeting = public_poll.item.meeting
    response = client_for(chair).post(
        _close_url(meeting), {"confirm": "1", "close_vote": [public_poll.pk]}
    )
    assert response.status_code == 302
    public_poll.refresh_from_db()
    meeting.refresh_from_db()
    assert public_poll.state == Poll.State.CLOSED
    assert public_poll.participants == 1 and public_poll.tally["yes"] == 1
    assert meeting.state == Meeting.State.CLOSED
    actions = list(
        AuditEntry.objects.filter(action__in=["voting.poll.close", "meeting.close"])
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["voting.poll.close", "meeting.close"]


def test_a_vote_opened_after_the_confirmation_refuses_the_close(public_poll, chair):
    meeting = public_poll.item.meeting
    confirmed = [vote.id for vote in open_votes(meeting)]
    second = make_item(meeting)
    services.sitting_move_to_item(meeting=meeting, item=second, by=chair)
    newer = poll_open(item=second, by=chair)
    with pytest.raises(Refusal) as refused:
        services.sitting_close(meeting=meeting, by=chair, close_votes=confirmed)
    assert refused.value.messages == [str(services.OPEN_VOTES_CHANGED)]
    # Nothing closed, not even the vote that was confirmed.
    for poll in (public_poll, newer):
        poll.refresh_from_db()
        assert poll.state == Poll.State.OPEN
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.IN_SESSION


def test_a_confirmed_vote_closed_meanwhile_does_not_stop_the_close(public_poll, chair):
    from voting.services.polls import poll_close

    meeting = public_poll.item.meeting
    poll_close(poll=public_poll, by=chair)
    services.sitting_close(meeting=meeting, by=chair, close_votes=[public_poll.pk])
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.CLOSED


def test_a_close_without_open_votes_still_asks_first(sitting, chair):
    client = client_for(chair)
    response = client.post(_close_url(sitting))
    assert response.status_code == 200
    assert 'name="confirm"' in response.content.decode()
    sitting.refresh_from_db()
    assert sitting.state == Meeting.State.IN_SESSION
    assert client.post(_close_url(sitting), {"confirm": "1"}).status_code == 302
    sitting.refresh_from_db()
    assert sitting.state == Meeting.State.CLOSED


def test_the_refusal_reaches_the_chair_on_the_console(public_poll, chair):
    # A close posted with confirm but without the open vote (an old page).
    meeting = public_poll.item.meeting
    client = client_for(chair)
    client.cookies["django_language"] = "en"
    response = client.post(_close_url(meeting), {"confirm": "1"}, follow=True)
    with translation.override("en"):
        assert str(services.OPEN_VOTE_AT_CLOSE) in response.content.decode()
    public_poll.refresh_from_db()
    assert public_poll.state == Poll.State.OPEN


@pytest.mark.parametrize("role", ["councillor", "clerk", "director_general"])
def test_only_the_chair_sees_the_confirmation(role, cast, public_poll):
    meeting = public_poll.item.meeting
    response = client_for(cast[role]).post(_close_url(meeting))
    assert response.status_code == 403
    response = client_for(cast[role]).post(
        _close_url(meeting), {"confirm": "1", "close_vote": [public_poll.pk]}
    )
    assert response.status_code == 403
    public_poll.refresh_from_db()
    assert public_poll.state == Poll.State.OPEN


def test_open_votes_lists_the_meeting_s_open_polls_only(public_poll, chair, body):
    from tests.factories import make_meeting

    other = make_meeting(body, state=Meeting.State.IN_SESSION)
    make_item(other, vote_kind=AgendaItem.VoteKind.PUBLIC)
    assert [v.id for v in open_votes(public_poll.item.meeting)] == [public_poll.pk]
    assert open_votes(other) == []
