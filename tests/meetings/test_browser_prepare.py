"""End to end in Chromium: the clerk prepares and convenes, a councillor reads."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from meetings.models import Convocation, Document, Meeting
from tests.jobs import run_jobs
from tests.meetings.conftest import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _label(text):
    # Required fields carry a visual asterisk after their label.
    return re.compile(rf"^{re.escape(text)}( \*)?$")


def _add_item(page, title, kind="Deliberation"):
    page.get_by_role("link", name="Add an item").click()
    page.get_by_label(_label("Title")).fill(title)
    page.get_by_label(_label("Kind")).select_option(label=kind)
    page.get_by_role("button", name="Add the item").click()
    page.get_by_text("The item was added to the agenda.").wait_for()


def test_clerk_prepares_and_convenes_and_a_councillor_reads(
    logged_in_page, body, members, clerk, councillor
):
    start = timezone.localtime(
        timezone.now() + datetime.timedelta(days=20), timezone=ZoneInfo(body.time_zone)
    ).replace(hour=19, minute=30, second=0, microsecond=0)
    page = logged_in_page(clerk)
    page.goto("/")
    page.get_by_role("link", name="Prepare the meetings").click()
    page.get_by_role("link", name="New meeting").first.click()
    page.get_by_label(_label("Title")).fill("Séance ordinaire de décembre")
    page.get_by_label(_label("Start")).fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(_label("Mode")).select_option(label="In person")
    page.get_by_label(_label("Place")).fill("Salle du conseil")
    page.get_by_role("button", name="Create the meeting").click()
    page.get_by_text("The meeting was created.").wait_for()

    _add_item(page, "Modification budgétaire n° 2")
    _add_item(page, "Dénomination de la rue Simone Veil")
    _add_item(
        page,
        "Désignation d'un directeur financier",
        kind="Appointment or personnel matter",
    )

    # Keyboard reordering: focus the button and press Enter, no mouse, no script.
    page.get_by_role("button", name="Move item 2 up").focus()
    page.keyboard.press("Enter")
    page.get_by_text("is now item 1").wait_for()
    # The script puts the focus back on the moved item's buttons.
    focused = page.locator("li.agenda-item:has(button:focus)")
    focused.wait_for()
    assert "Dénomination de la rue Simone Veil" in focused.inner_text()
    titles = page.locator(".agenda-item-title").all_inner_texts()
    assert [re.sub(r"^\d+\. ", "", t) for t in titles] == [
        "Dénomination de la rue Simone Veil",
        "Modification budgétaire n° 2",
        "Désignation d'un directeur financier",
    ]
    assert (
        "Closed session"
        in page.locator("#agenda-title + p + ol li").nth(2).inner_text()
    )

    page.get_by_role("link", name="Edit item 2").click()
    page.get_by_label(_label("File")).set_input_files(
        {
            "name": "Note de synthèse.pdf",
            "mimeType": "application/pdf",
            "buffer": pdf_bytes(),
        }
    )
    page.get_by_role("button", name="Attach the document").click()
    page.get_by_text("“Note de synthèse.pdf” was attached.").wait_for()

    page.get_by_role("link", name=re.compile("^Meeting 1:")).click()
    page.get_by_role("link", name="Convene the members").click()
    page.get_by_role("button", name="Send the convocations").click()
    page.get_by_text("The meeting is convened").wait_for()

    meeting = Meeting.objects.get()
    assert meeting.state == Meeting.State.CONVENED
    assert Document.objects.filter(item__meeting=meeting).count() == 1
    # The request queued the emails; the editor follows the worker sending
    # them, without a reload.
    progress = page.locator("#convocation-progress")
    assert progress.get_attribute("role") == "status"
    assert f"0 of {len(members)} convocations sent" in progress.inner_text()
    run_jobs()
    page.get_by_text(f"{len(members)} of {len(members)} convocations sent").wait_for()
    assert page.locator('tr[data-status="sent"]').count() == len(members)
    assert Convocation.objects.filter(
        meeting=meeting, sent_at__isnull=False
    ).count() == len(members)

    reader = logged_in_page(councillor)
    reader.goto("/")
    reader.get_by_role(
        "link", name=re.compile("^Next sitting: Séance ordinaire de décembre")
    ).click()
    agenda = reader.locator("main")
    for title in (
        "Dénomination de la rue Simone Veil",
        "Modification budgétaire n° 2",
        "Désignation d'un directeur financier",
    ):
        assert title in agenda.inner_text()
    link = reader.get_by_role("link", name="Note de synthèse.pdf")
    with reader.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "Note de synthèse.pdf"
    assert reader.get_by_role("link", name="Submit an item").is_visible()
