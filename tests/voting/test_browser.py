"""A whole secret ballot in real browsers against the live ASGI server."""

import re

import pytest
from django.utils import timezone

from meetings.models import AgendaItem, AttendanceEvent, Meeting
from tests.factories import PASSWORD
from tests.voting.conftest import PASSPHRASE
from voting.models import Ballot, Poll
from voting.services.keys import sealing_key_setup
from voting.services.polls import poll_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser, base_url, user):
    context = browser.new_context(base_url=base_url, locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": base_url}])
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(f"{base_url}/")
    return context, page


def test_full_secret_ballot(
    browser,
    asgi_live_server,
    body,
    chair,
    councillor,
    other_councillors,
    director_general,
):
    base = asgi_live_server
    meeting = Meeting.objects.create(
        body=body,
        number=1,
        title="Séance de test",
        starts_at=timezone.now(),
        state=Meeting.State.IN_SESSION,
    )
    item = AgendaItem.objects.create(
        meeting=meeting,
        position=1,
        title="Motion de confiance",
        vote_kind=AgendaItem.VoteKind.SECRET,
    )
    meeting.current_item = item
    meeting.save()
    voters = [councillor, *other_councillors[:2]]
    for person in [chair, *voters, *other_councillors[2:4]]:
        AttendanceEvent.objects.create(
            meeting=meeting, person=person, kind="arrived", at=timezone.now()
        )
    sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    contexts = []

    # The chair opens the vote.
    context, chair_page = log_in(browser, base, chair)
    contexts.append(context)
    chair_page.goto(f"/meetings/{meeting.pk}/votes/")
    chair_page.get_by_role("button", name="Open the vote on this item").click()
    chair_page.get_by_text("The vote is open.").wait_for()
    poll = Poll.objects.get(item=item)

    # Three councillors vote: two yes, one no.
    trackers = {}
    for voter, label in zip(voters, ["Yes", "Yes", "No"], strict=True):
        context, page = log_in(browser, base, voter)
        contexts.append(context)
        # Just logged in through the form: recent enough to cast at once.
        page.goto(f"/polls/{poll.pk}/")
        page.get_by_role("radio", name=re.compile(f"^{label} —")).check()
        page.get_by_role("button", name="Review my choice").click()
        page.get_by_role("heading", name="Confirm your secret ballot").wait_for()
        page.get_by_role("button", name="Confirm and cast my ballot").click()
        trackers[voter.pk] = page.locator("[data-tracker]").inner_text().strip()
        assert re.fullmatch(r"[0-9a-f]{64}", trackers[voter.pk])
        voter.page = page
    assert Ballot.objects.filter(poll=poll).count() == 3

    chair_page.reload()
    assert "3 of 6 have voted" in chair_page.locator("[data-vote-live]").inner_text()
    chair_page.get_by_role("button", name="Close the vote").click()
    chair_page.get_by_text("The vote is closed.").wait_for()

    # Before unsealing nobody sees a result.
    page = voters[0].page
    page.goto(f"/polls/{poll.pk}/")
    assert "closed and sealed" in page.locator("main").inner_text()

    # The director-general unseals with the passphrase, then announces.
    context, dg_page = log_in(browser, base, director_general)
    contexts.append(context)
    dg_page.goto(f"/polls/{poll.pk}/unseal/")
    dg_page.get_by_label("Your sealing passphrase").fill(PASSPHRASE)
    dg_page.get_by_role("button", name="Unseal").click()
    dg_page.get_by_text("keyholders only").wait_for()
    page.reload()
    assert "Adopted" not in page.locator("main").inner_text()
    dg_page.get_by_role("link", name="Announce the result").click()
    dg_page.get_by_role("button", name="Announce this result to the sitting").click()
    dg_page.get_by_text("The result is announced to the sitting.").wait_for()

    # Each councillor sees the result and finds their tracker in the box.
    for voter in voters:
        page = voter.page
        page.goto(f"/polls/{poll.pk}/")
        main = page.locator("main").inner_text()
        assert "Adopted" in main
        page.get_by_role("link", name="Published ballot box and trackers").click()
        assert (
            "matches the number of members who voted"
            in page.locator("main").inner_text()
        )
        page.get_by_label("Find my tracker").fill(trackers[voter.pk])
        page.get_by_role("button", name="Search").click()
        page.get_by_text("Found: this ballot is in the box.").wait_for()
    for context in contexts:
        context.close()


def test_live_updates_never_reset_the_ballot_being_filled(
    logged_in_page, body, chair, councillor, other_councillors
):
    meeting = Meeting.objects.create(
        body=body,
        number=2,
        title="Séance",
        starts_at=timezone.now(),
        state=Meeting.State.IN_SESSION,
    )
    item = AgendaItem.objects.create(meeting=meeting, position=1, title="Budget")
    meeting.current_item = item
    meeting.save()
    for person in [chair, councillor, *other_councillors]:
        AttendanceEvent.objects.create(
            meeting=meeting, person=person, kind="arrived", at=timezone.now()
        )
    poll = poll_open(item=item, by=chair)
    page = logged_in_page(councillor)
    page.goto(f"/polls/{poll.pk}/")
    page.wait_for_load_state("networkidle")
    radio = page.get_by_role("radio", name=re.compile("^I abstain"))
    radio.check()

    def push(vote):
        page.evaluate(
            "(vote) => document.dispatchEvent("
            "new CustomEvent('sitting:snapshot', {detail: {vote}}))",
            vote,
        )

    push({"poll": poll.pk, "state": "open", "voted": 5, "eligible": 8})
    live = page.locator("[data-vote-live]")
    assert "5 of 8 have voted" in live.inner_text()
    assert radio.is_checked()
    assert page.locator("[data-vote-changed]").is_hidden()
    push({"poll": poll.pk, "state": "closed", "voted": 6, "eligible": 8})
    assert page.locator("[data-vote-changed]").is_visible()
    assert page.get_by_role("button", name="Cast my vote").is_disabled()
    assert radio.is_checked()
