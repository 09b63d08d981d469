"""A secret ballot whose answer is lost, in a real browser: the receipt stays."""

import re
import time

import pytest

from meetings.models import AgendaItem, Meeting
from tests.factories import arrive, make_item, make_meeting
from tests.voting.test_browser import log_in
from voting.models import Ballot, Participation
from voting.services.polls import poll_close, poll_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lost_answer_keeps_the_receipt_on_the_device(
    browser, asgi_live_server, body, chair, councillor, other_councillors, keys
):
    meeting = make_meeting(body, state=Meeting.State.IN_SESSION)
    item = make_item(meeting, vote_kind=AgendaItem.VoteKind.SECRET)
    arrive(meeting, chair, councillor, *other_councillors)
    poll = poll_open(item=item, by=chair)
    context, page = log_in(browser, asgi_live_server, councillor)
    page.goto(f"/polls/{poll.pk}/")
    page.get_by_role("radio", name=re.compile("^Yes")).check()
    page.get_by_role("button", name="Review my choice").click()
    page.get_by_role("heading", name="Confirm your secret ballot").wait_for()

    def drop_the_answer(route):
        route.fetch()  # the server stores the ballot...
        route.abort()  # ...and the browser never hears back

    page.route(f"**/polls/{poll.pk}/cast/", drop_the_answer)
    page.get_by_role("button", name="Confirm and cast my ballot").click()
    for _ in range(100):
        if Ballot.objects.filter(poll=poll).exists():
            break
        time.sleep(0.1)
    page.unroute(f"**/polls/{poll.pk}/cast/")
    tracker = Ballot.objects.get(poll=poll).tracker
    assert Participation.objects.filter(poll=poll, member=councillor).exists()

    page.goto(f"/polls/{poll.pk}/")
    page.get_by_text("Your vote is recorded").wait_for()
    held = page.locator("[data-receipt-held] [data-receipt-tracker]")
    held.wait_for()
    assert held.inner_text().strip() == tracker
    # The sitting page's vote panel shows it too.
    page.goto(f"/sitting/{meeting.pk}/")
    panel = page.locator("[data-vote-panel] [data-receipt-held] [data-receipt-tracker]")
    panel.wait_for()
    assert panel.inner_text().strip() == tracker

    poll_close(poll=poll, by=chair)
    page.goto(f"/polls/{poll.pk}/box/")
    page.get_by_text("In the box: the ballot this device sent is counted.").wait_for()
    assert page.locator("[data-receipt-box] [data-receipt-tracker]").inner_text() == (
        tracker
    )
    context.close()
