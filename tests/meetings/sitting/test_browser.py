"""Two members in two browsers, and the public gallery, follow the floor live."""

import re

import pytest
from playwright.sync_api import expect

from meetings.models import AttendanceEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_floor_moves_live_between_chair_councillor_and_public(
    logged_in_page, browser, asgi_live_server, live_meeting, items, chair, councillor
):
    live_meeting.body.speaking_time_seconds = 2
    live_meeting.body.save()
    chair_page = logged_in_page(chair)
    chair_page.goto(f"/sitting/{live_meeting.pk}/console/")
    member_page = logged_in_page(councillor)
    member_page.goto(f"/sitting/{live_meeting.pk}/")
    public_context = browser.new_context(base_url=asgi_live_server, locale="en-GB")
    public_page = public_context.new_page()
    public_page.goto(f"/public/sitting/{live_meeting.pk}/")

    # Opening the page over the socket recorded the councillor present.
    ask = member_page.get_by_role("button", name="Ask for the floor")
    expect(ask).to_be_enabled(timeout=5000)
    assert AttendanceEvent.objects.filter(
        person=councillor, kind="arrived", place="remote"
    ).exists()

    member_page.get_by_label("Kind of request").select_option("reply")
    ask.click()
    queue = chair_page.locator("[data-live=queue]")
    expect(queue).to_contain_text(councillor.display_name, timeout=1000)
    expect(member_page.locator("[data-live=me]")).to_contain_text(
        "You are in the queue", timeout=1000
    )

    queue.get_by_role("button", name="Give the floor").click()
    speaking = f"{councillor.display_name} has the floor"
    expect(chair_page.locator("[data-live=speaker]")).to_contain_text(
        speaking, timeout=1000
    )
    expect(member_page.locator("[data-live=speaker]")).to_contain_text(
        speaking, timeout=1000
    )
    expect(member_page.locator("[data-live=timer]")).to_be_visible(timeout=1000)
    expect(public_page.locator("[data-live=speaker]")).to_contain_text(
        speaking, timeout=1000
    )
    expect(public_page.get_by_text("Watch the livestream")).to_be_visible()
    # Two seconds' speaking time: the timer warns, and screen readers hear it.
    expect(member_page.locator("[data-live=timer]")).to_have_class(
        re.compile("time-up"), timeout=4000
    )
    expect(member_page.locator("[data-live=alert]")).to_have_text(
        "Speaking time is up.", timeout=2000
    )

    # Closed session: the public sees that it is closed, and nothing of it.
    chair_page.get_by_role("button", name="Enter closed session").click()
    chair_page.get_by_label("Move to item").select_option(str(items["closed"].pk))
    chair_page.get_by_role("button", name="Move to this item").click()
    expect(member_page.locator("[data-live=item]")).to_contain_text(
        items["closed"].title, timeout=1000
    )
    expect(public_page.locator("[data-live=item]")).to_contain_text(
        "closed session", timeout=1000
    )
    expect(public_page.get_by_text("Watch the livestream")).to_be_hidden()
    public_text = public_page.locator("main").inner_text()
    assert items["closed"].title not in public_text
    assert councillor.display_name not in public_text
    public_context.close()


def test_clerk_sees_a_remote_arrival_and_departure_live(
    logged_in_page, live_meeting, councillor, clerk
):
    register = logged_in_page(clerk)
    register.goto(f"/sitting/{live_meeting.pk}/register/")
    cell = register.locator(f"[data-presence='{councillor.pk}']")
    expect(cell).to_have_text("Not arrived")
    member_page = logged_in_page(councillor)
    member_page.goto(f"/sitting/{live_meeting.pk}/")
    expect(cell).to_have_text("Present (remote)", timeout=3000)
    member_page.get_by_role("button", name="Leave the sitting").click()
    expect(cell).to_have_text("Not present", timeout=1000)
    expect(register.locator("[data-live=attendance]")).to_contain_text("0 present")
