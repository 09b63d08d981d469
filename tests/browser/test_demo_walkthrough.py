"""The newcomer's walk through the demo council, in a real browser.

The test seeds the demo and walks it on the test server. The same walk runs
against a server started with ``make run PORT=8790`` (fresh database):

    .venv/bin/python tests/browser/test_demo_walkthrough.py http://127.0.0.1:8790

Screenshots go to /tmp/demo-shots/ (or $DEMO_SHOTS).
"""

import io
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pypdf
import pytest
from django.core.management import call_command
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

PASSWORD = "demo-council-2026"  # council.demo.DEMO_PASSWORD, kept import-free
DOMAIN = "val-de-meuse.example"
CHAIR = f"marie.denis@{DOMAIN}"
COUNCILLOR = f"jean.wathelet@{DOMAIN}"
OTHER_COUNCILLOR = f"sandrine.willems@{DOMAIN}"
CLERK = f"greffe@{DOMAIN}"
DG = f"directeur.general@{DOMAIN}"
QUORUM_HELPERS = 26  # the clerk records this many members in the room

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Walk:
    def __init__(self, browser, base_url: str, shots: Path):
        self.browser = browser
        self.base = base_url.rstrip("/")
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def shot(self, page, name: str) -> None:
        self.count += 1
        page.screenshot(
            path=str(self.shots / f"{self.count:02d}-{name}.png"), full_page=True
        )

    def login(self, email: str):
        context = self.browser.new_context(
            base_url=self.base, locale="en-GB", viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url(f"{self.base}/")
        return page

    def link(self, page, text: str) -> str:
        return page.get_by_role("link", name=re.compile(text)).first.get_attribute(
            "href"
        )


def join(page, meeting_id: str) -> None:
    """The member joins remotely: by the button, or as the live page connects."""
    page.goto(f"/sitting/{meeting_id}/")
    try:
        page.get_by_role("button", name="Join the sitting").click(timeout=3000)
        page.wait_for_load_state()
    except PlaywrightTimeout:
        pass  # the live connection registered the member first
    expect(page.get_by_role("button", name="Leave the sitting")).to_be_enabled()


def walk(browser, base_url: str, shots: Path, check_host: bool = True) -> dict:
    w = Walk(browser, base_url, shots)
    seen: dict = {}

    # 1. Each role's home page.
    chair = w.login(CHAIR)
    assert "Chairing the council" in chair.locator("main").inner_text()
    w.shot(chair, "home-chair")
    councillor = w.login(COUNCILLOR)
    assert "As a member" in councillor.locator("main").inner_text()
    w.shot(councillor, "home-councillor")
    dg = w.login(DG)
    assert "Hold a key that unseals" in dg.locator("main").inner_text()
    w.shot(dg, "home-dg")
    clerk = w.login(CLERK)
    assert "Clerk's office" in clerk.locator("main").inner_text()
    w.shot(clerk, "home-clerk")

    # 2. The clerk prints an extract of a decision of the past sitting.
    clerk.get_by_role("link", name="Decision records to print and sign").click()
    clerk.wait_for_load_state()
    w.shot(clerk, "decisions")
    row = clerk.locator("tr", has_text="Règlement-redevance")
    reference = re.compile(r"val-de-meuse.[0-9]{4}$")
    pdf_href = row.get_by_role("link", name=reference).get_attribute("href")
    response = clerk.request.get(pdf_href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = "\n".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.body())).pages
    )
    (shots / "extract.pdf").write_bytes(response.body())
    assert "Vote public : 32 voix pour, 3 contre, 6 abstentions." in text
    assert "Ont voté contre :" in text and "Se sont abstenus :" in text
    verify = re.search(r"https?://\S+/verify/[0-9a-f-]+/", text).group(0)
    if check_host:  # the test server's address is not the configured SITE_URL
        assert verify.startswith(w.base), "the extract links to another server"
    verify = urlsplit(verify).path
    seen["extract"] = text

    # 3. Anyone may open the verification link printed on the extract.
    public = browser.new_context(base_url=w.base, locale="en-GB").new_page()
    public.goto(verify)
    body = public.locator("main").inner_text()
    assert "Règlement-redevance" in body
    w.shot(public, "verify")

    # 4. The minutes of the past sitting.
    clerk.goto(w.link(clerk, "^Minutes$"))
    minutes = clerk.locator("main").inner_text()
    assert "Attendance" in minutes and "Excused" in minutes
    assert "Debate" in minutes or "Speeches" in minutes or "(ECOLO)" in minutes
    assert "Voted against:" in minutes and "Abstained:" in minutes
    assert "Round 1 — " in minutes and "Round 2 — " in minutes
    closed = clerk.locator(".closed-item").first.inner_text()
    assert "Voted against" not in closed
    w.shot(clerk, "minutes")
    for n, item in enumerate(clerk.locator(".minutes-item").all()):
        if n in (2, 5, 7, 8):
            item.screenshot(path=str(shots / f"minutes-item-{n + 1}.png"))

    # 5. The upcoming sitting, live: the chair opens it from the console.
    chair.get_by_role("link", name=re.compile("^Next sitting")).click()
    meeting_id = re.search(r"/meetings/(\d+)/", chair.url).group(1)
    chair.goto(f"/sitting/{meeting_id}/console/")
    assert not chair.locator("[data-live=closed-badge]").is_visible()
    w.shot(chair, "console-before")
    chair.get_by_role("button", name="Open the sitting").click()
    chair.wait_for_load_state()

    clerk.goto(f"/sitting/{meeting_id}/register/")
    # Others in the room, so that there is a quorum; the two councillors of
    # the walk join by themselves.
    rows = clerk.locator("tbody tr").filter(
        has_not_text=re.compile("Jean Wathelet|Sandrine Willems")
    )
    for index in range(QUORUM_HELPERS):
        rows.nth(index).get_by_role("button", name=re.compile("in the room$")).click()
        clerk.wait_for_load_state()
    w.shot(clerk, "register")

    join(councillor, meeting_id)

    chair.goto(f"/sitting/{meeting_id}/console/")
    agenda = chair.get_by_label("Move to item")
    budget = agenda.locator("option", has_text="Budget communal 2026")
    agenda.select_option(budget.get_attribute("value"))
    chair.get_by_role("button", name="Move to this item").click()
    chair.wait_for_load_state()

    councillor.goto(f"/sitting/{meeting_id}/")
    councillor.get_by_role("button", name="Ask for the floor").click()
    councillor.wait_for_load_state()
    w.shot(councillor, "member-asks")

    chair.goto(f"/sitting/{meeting_id}/console/")
    chair.locator(".queue").get_by_role("button", name="Give the floor").click()
    chair.wait_for_load_state()
    assert "Jean Wathelet has the floor." in chair.locator("main").inner_text()
    w.shot(chair, "console-floor")

    public.goto(f"/public/sitting/{meeting_id}/")
    public.get_by_text("Jean Wathelet has the floor.").wait_for()
    assert "Budget communal 2026" in public.locator("main").inner_text()
    w.shot(public, "public-gallery")

    # 6. A public vote on the item: two councillors vote, the chair closes.
    chair.goto(f"/sitting/{meeting_id}/console/")
    chair.get_by_role("link", name="Vote controls: open and close the vote").click()
    chair.get_by_role("button", name="Open the vote on this item").click()
    chair.wait_for_load_state()
    w.shot(chair, "vote-open")
    other = w.login(OTHER_COUNCILLOR)
    join(other, meeting_id)
    for member, choice in (
        (councillor, "Yes — I vote for the proposal"),
        (other, "No — I vote against the proposal"),
    ):
        member.goto(f"/sitting/{meeting_id}/")
        member.get_by_label(choice).check()
        member.get_by_role("button", name="Cast my vote").click()
        member.wait_for_load_state()
    w.shot(other, "member-voted")
    chair.goto(f"/meetings/{meeting_id}/votes/")
    chair.get_by_role("button", name="Close the vote").click()
    chair.wait_for_load_state()
    chair.goto(f"/meetings/{meeting_id}/results/")
    results = chair.locator("main").inner_text()
    assert "Sandrine Willems" in results
    w.shot(chair, "results")
    seen["results"] = results
    return seen


def test_demo_walkthrough(browser, asgi_live_server, tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    shots = Path(os.environ.get("DEMO_SHOTS", tmp_path / "shots"))
    seen = walk(browser, asgi_live_server, shots, check_host=False)
    assert "Ont voté contre" in seen["extract"]


if __name__ == "__main__":
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        walk(
            chromium,
            sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8790",
            Path(os.environ.get("DEMO_SHOTS", "/tmp/demo-shots")),
        )
        print("walk complete")
