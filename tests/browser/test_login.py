from io import StringIO

import pytest
from django.core.management import call_command

from council.demo import DEMO_PASSWORD
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_councillor_logs_in_and_sees_home_page(browser, asgi_live_server, councillor):
    context = browser.new_context(base_url=asgi_live_server, locale="en-GB")
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(councillor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(f"{asgi_live_server}/")
    heading = page.get_by_role("heading", level=1)
    assert councillor.display_name in heading.inner_text()
    assert "Councillor" in page.locator("main").inner_text()
    context.close()


def test_every_demo_role_logs_in_and_sees_a_sensible_home(browser, asgi_live_server):
    """The newcomer's path: seed the demo, log in as each printed account."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    logins = [
        line.split()[-1]
        for line in out.getvalue().splitlines()
        if line.startswith("  ") and "@" in line
    ]
    assert len(logins) == 7
    expected = {
        "Chair": "Chairing the council",
        "Councillor": "As a member",
        "Director-general": "Hold a key that unseals",
        "Deputy director-general": "Stand in for the director-general",
        "Clerk": "Clerk's office",
        "Administrator": "Manage the bodies",
    }
    seen = set()
    for email in logins:
        context = browser.new_context(base_url=asgi_live_server, locale="en-GB")
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_label("Password").press("Enter")
        page.wait_for_url(f"{asgi_live_server}/")
        main = page.locator("main").inner_text()
        matched = {role for role, text in expected.items() if text in main}
        assert matched, f"{email} sees no role section"
        seen |= matched
        context.close()
    assert seen == set(expected)


def test_keyboard_user_reaches_the_skip_link_and_switches_language(
    browser, asgi_live_server, db
):
    context = browser.new_context(base_url=asgi_live_server, locale="en-GB")
    page = context.new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.bounding_box()["x"] >= 0  # moved on screen when focused
    page.keyboard.press("Enter")
    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Change language").press("Enter")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("link", name="Aanmelden").first.is_visible()
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "nl"
    context.close()
