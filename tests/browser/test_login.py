import pytest

from tests.conftest import PASSWORD

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
