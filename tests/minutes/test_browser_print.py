import io
import re

import pypdf
import pytest

from tests.jobs import run_jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_prints_the_decisions_and_opens_a_verification_link(
    logged_in_page, asgi_live_server, issued, sitting, clerk
):
    page = logged_in_page(clerk)
    page.goto(f"/meetings/{sitting.meeting.pk}/decisions/")
    for record in issued:
        assert record.reference in page.locator("main").inner_text()

    page.get_by_role("button", name="Print all decisions of this sitting").click()
    page.wait_for_url(re.compile(r"/print-jobs/\d+/$"))
    assert "Waiting" in page.locator("#print-state").inner_text()
    run_jobs()  # the worker renders it; the page follows
    download = page.get_by_role("link", name="Open the PDF")
    download.wait_for(state="visible", timeout=30_000)
    assert page.locator("#print-progress").get_attribute("value") == "100"
    assert "2/2" in page.locator("#print-state").inner_text()

    response = page.request.get(download.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.body()))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert all(record.reference in text for record in issued)

    page.goto(f"/meetings/{sitting.meeting.pk}/decisions/")
    page.get_by_role("link", name="Verification page").first.click()
    page.wait_for_url(re.compile(r"/verify/[0-9a-f-]+/$"))
    assert page.locator("#record-fingerprint").inner_text() == issued[0].fingerprint
    assert page.locator("#record-reference").inner_text() == issued[0].reference
    assert "Article 1er" in page.locator("#record-decision").inner_text()
