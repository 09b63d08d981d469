"""Receipts that survive a lost answer, and say nothing of the voter.

The voter's browser makes a random receipt secret before casting, keeps it on
the device and sends it with the ballot; the stored tracker is the hash of
it. The server answers the same receipt to the same secret sent again, shows
on every page that the vote is recorded, and keeps nothing that pairs the
member with the secret or the tracker: the tracker lives in the ballot row
only. The receipt page is one size whoever votes.
"""

import re
import secrets
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import translation

from meetings.models import Meeting
from tests.factories import arrive, make_item, make_member
from tests.voting.conftest import recent_client
from voting.models import Ballot, Participation, Poll
from voting.services import sealing
from voting.services.ballots import (
    BAD_RECEIPT_SECRET,
    RECEIPT_SECRET_USED,
    receipt_tracker,
)
from voting.services.polls import poll_close, poll_open
from voting.views import RECEIPT_PAGE_BYTES

pytestmark = pytest.mark.django_db


def _cast(client, poll, **data):
    return client.post(
        reverse("voting:cast", args=[poll.pk]), {"choice": "yes", **data}
    )


def _every_stored_value():
    """Every value of every row of every table, as text, by model; sessions decoded."""
    for model in apps.get_models():
        for row in model.objects.all().values():
            yield (
                model,
                " ".join(
                    bytes(v).hex() if isinstance(v, bytes | memoryview) else str(v)
                    for v in row.values()
                ),
            )
    for session in Session.objects.all():
        yield Session, str(session.get_decoded())


def test_a_lost_answer_loses_no_receipt_and_links_nothing_to_the_member(
    secret_poll, councillor, chair
):
    secret = secrets.token_hex(32)
    tracker = receipt_tracker(secret_poll.pk, secret)
    client = recent_client(councillor)
    _cast(client, secret_poll, receipt_secret=secret)  # the answer is lost

    # The ballot is in the box under the tracker the browser can compute.
    assert list(Ballot.objects.values_list("tracker", flat=True)) == [tracker]
    # Nothing stored anywhere holds the secret, and the tracker only in the
    # ballot row: not the participation, the session, the audit log.
    for model, text in _every_stored_value():
        assert secret not in text, model
        if model is not Ballot:
            assert tracker not in text, model
    assert list(Participation.objects.values_list("member_id", "poll_id")) == [
        (councillor.pk, secret_poll.pk)
    ]

    # The page says the vote is recorded, without the choice and without the
    # tracker: the server cannot show what it does not link to the member.
    html = client.get(reverse("voting:poll", args=[secret_poll.pk])).content.decode()
    assert "Your vote is recorded: your secret ballot is in the box." in html
    assert tracker not in html
    assert f'data-receipt-poll="{secret_poll.pk}"' in html
    assert f'data-receipt-voter="{councillor.pk}"' in html

    # Sending the same ballot again (the browser's retry) gives the receipt.
    again = _cast(client, secret_poll, receipt_secret=secret).content.decode()
    assert "You had already voted" in again and tracker in again
    assert Ballot.objects.count() == 1

    # Once the vote closes, the tracker is in the published box.
    poll_close(poll=secret_poll, by=chair)
    box = client.get(reverse("voting:box", args=[secret_poll.pk])).content.decode()
    assert f"<code data-box-tracker>{tracker}</code>" in box
    assert "data-receipt-box" in box


def test_another_secret_sent_again_gets_no_receipt(secret_poll, councillor):
    client = recent_client(councillor)
    _cast(client, secret_poll, receipt_secret=secrets.token_hex(32))
    other = secrets.token_hex(32)
    again = _cast(client, secret_poll, receipt_secret=other).content.decode()
    assert "You had already voted" in again
    assert receipt_tracker(secret_poll.pk, other) not in again
    assert "data-tracker" not in again


def test_without_javascript_the_server_makes_the_tracker(secret_poll, councillor):
    response = _cast(recent_client(councillor), secret_poll)
    ballot = Ballot.objects.get()
    assert ballot.tracker == sealing.tracker_of(bytes(ballot.ciphertext))
    assert ballot.tracker in response.content.decode()


@pytest.mark.parametrize(
    "secret", ["short", "Z" * 64, secrets.token_hex(32).upper(), "a" * 65, "ab\n" * 22]
)
def test_a_bad_receipt_secret_is_refused_and_nothing_is_cast(
    secret, secret_poll, councillor
):
    response = _cast(recent_client(councillor), secret_poll, receipt_secret=secret)
    assert response.status_code == 409
    with translation.override("en"):
        assert str(BAD_RECEIPT_SECRET) in response.content.decode()
    assert not Participation.objects.exists() and not Ballot.objects.exists()


def test_a_secret_sent_by_two_members_is_refused_for_the_second(
    secret_poll, councillor, chair
):
    secret = secrets.token_hex(32)
    _cast(recent_client(councillor), secret_poll, receipt_secret=secret)
    response = _cast(recent_client(chair), secret_poll, receipt_secret=secret)
    assert response.status_code == 409
    with translation.override("en"):
        assert str(RECEIPT_SECRET_USED) in response.content.decode()
    # The second member's participation was rolled back with the ballot.
    assert list(Participation.objects.values_list("member_id", flat=True)) == [
        councillor.pk
    ]
    assert Ballot.objects.count() == 1


def test_the_same_secret_in_two_polls_gives_two_trackers(
    secret_poll, councillor, chair
):
    meeting = secret_poll.item.meeting
    secret = secrets.token_hex(32)
    _cast(recent_client(councillor), secret_poll, receipt_secret=secret)
    poll_close(poll=secret_poll, by=chair)
    item = make_item(meeting, vote_kind=secret_poll.item.vote_kind, current=True)
    second = poll_open(item=item, by=chair)
    _cast(recent_client(councillor), second, receipt_secret=secret)
    assert Ballot.objects.filter(poll=second).get().tracker == receipt_tracker(
        second.pk, secret
    )


# ---- the member's page always says whether the vote is recorded -----------------


def test_a_public_vote_whose_answer_was_lost_shows_as_recorded(public_poll, councillor):
    client = recent_client(councillor)
    client.post(reverse("voting:vote", args=[public_poll.pk]), {"choice": "no"})
    sitting = reverse("meetings:sitting", args=[public_poll.item.meeting_id])
    for url in (sitting, reverse("voting:poll", args=[public_poll.pk])):
        html = client.get(url).content.decode()
        assert "Your vote is recorded: No" in html, url
        # The ballot offered again is the one recorded, to change if wanted.
        assert re.search(r'value="no"[^>]*checked', html), url


def test_a_secret_ballot_shows_as_recorded_on_the_sitting_page(
    secret_poll, councillor, other_councillors
):
    client = recent_client(councillor)
    _cast(client, secret_poll, choice="no")
    html = client.get(
        reverse("meetings:sitting", args=[secret_poll.item.meeting_id])
    ).content.decode()
    assert "Your vote is recorded: your secret ballot is in the box." in html
    # The browser finds the receipt it kept for this poll and this member.
    assert f'data-receipt-poll="{secret_poll.pk}"' in html
    assert f'data-receipt-voter="{councillor.pk}"' in html
    # Someone who has not voted is not told so.
    other = recent_client(other_councillors[0]).get(
        reverse("meetings:sitting", args=[secret_poll.item.meeting_id])
    )
    assert "Your vote is recorded" not in other.content.decode()


def test_the_vote_is_shown_recorded_after_the_poll_closed(
    public_poll, councillor, chair
):
    client = recent_client(councillor)
    client.post(reverse("voting:vote", args=[public_poll.pk]), {"choice": "yes"})
    poll_close(poll=public_poll, by=chair)
    html = client.get(reverse("voting:poll", args=[public_poll.pk])).content.decode()
    assert "Your vote is recorded: Yes" in html


# ---- the receipt page's size ----------------------------------------------------


@pytest.fixture
def voters(body, sitting):
    short = make_member(body, first_name="Al", last_name="Li")
    long = make_member(
        body,
        first_name="Marie-Bénédicte-Ærøskøbing",
        last_name="de la Tour d'Auvergne-Łęczycka",
        email="a-much-longer-address-for-a-member@example.org",
    )
    arrive(sitting, short, long)
    return short, long


def test_receipt_pages_are_one_size_whoever_votes(secret_poll, voters):
    sizes, names = [], []
    for voter in voters:
        client = recent_client(voter)
        response = _cast(client, secret_poll, receipt_secret=secrets.token_hex(32))
        assert response.status_code == 200
        assert "Your tracker" in response.content.decode()
        sizes.append(len(response.content))
        names.append(len(voter.display_name.encode()))
        # The page sent again ("already voted") is the same size too.
        again = _cast(client, secret_poll)
        sizes.append(len(again.content))
    assert names[0] != names[1]
    assert sizes == [RECEIPT_PAGE_BYTES] * 4
    assert response["Content-Type"].startswith("text/html")
    assert response.content.rstrip().endswith(b"</html>")


def test_a_refused_cast_is_one_size_whoever_votes(secret_poll, voters, chair):
    from meetings.services.sitting import sitting_suspend

    sitting_suspend(meeting=secret_poll.item.meeting, by=chair)
    sizes = [len(_cast(recent_client(v), secret_poll).content) for v in voters]
    assert sizes == [RECEIPT_PAGE_BYTES] * 2


def test_without_padding_the_sizes_would_differ(secret_poll, voters, monkeypatch):
    # The attack the padding stops: the header names the member.
    monkeypatch.setattr("voting.views.padded", lambda response, size: response)
    sizes = [
        len(
            _cast(
                recent_client(v), secret_poll, receipt_secret=secrets.token_hex(32)
            ).content
        )
        for v in voters
    ]
    assert sizes[0] != sizes[1]


# ---- the browser computes the same tracker ---------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the module")
@pytest.mark.django_db(False)
def test_the_browser_derives_the_same_tracker_without_subtle_crypto(tmp_path):
    source = Path(settings.BASE_DIR, "static", "js", "ballot.js").read_text()
    fallback = source[source.index("const K = new Uint32Array") :]
    secret = "0123456789abcdef" * 4
    script = tmp_path / "tracker.mjs"
    script.write_text(
        fallback
        + "\nconst data = new TextEncoder().encode("
        + f"'council-receipt:42:{secret}');\n"
        + "process.stdout.write(sha256(data));\n"
        + "for (const n of [0, 55, 56, 64, 119, 1000]) {\n"
        + "  const bytes = new Uint8Array(n).map((_, i) => (i * 7 + n) & 255);\n"
        + "  process.stdout.write(' ' + sha256(bytes));\n"
        + "}\n"
    )
    out = subprocess.run(
        ["node", str(script)], capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    import hashlib

    assert out[0] == receipt_tracker(42, secret)
    for n, digest in zip([0, 55, 56, 64, 119, 1000], out[1:], strict=True):
        data = bytes((i * 7 + n) & 255 for i in range(n))
        assert digest == hashlib.sha256(data).hexdigest()


def test_the_poll_stays_as_it_was(secret_poll):
    # Sanity: the fixtures give an open secret poll in a sitting in session.
    assert secret_poll.state == Poll.State.OPEN
    assert secret_poll.item.meeting.state == Meeting.State.IN_SESSION


# ---- a secret ballot's sizes do not tell the choice -------------------------------


def _sent(html: str, *names: str) -> int:
    """How many bytes the page's form sends for these fields (form-encoded)."""
    values = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in names
    }
    return len(urlencode(values))


def _offered(html: str) -> list[int]:
    values = re.findall(r'name="choice" value="([^"]*)"', html)
    return [len(urlencode({"choice": value})) for value in values]


def test_a_secret_ballot_s_requests_and_pages_are_one_size_whatever_the_choice(
    secret_poll, councillor
):
    client = recent_client(councillor)
    page = client.get(reverse("voting:poll", args=[secret_poll.pk])).content.decode()
    assert len(_offered(page)) == 3 and len(set(_offered(page))) == 1
    confirmations, sent = [], []
    for value in re.findall(r'name="choice" value="([^"]*)"', page):
        response = client.post(
            reverse("voting:vote", args=[secret_poll.pk]), {"choice": value}
        )
        assert response.status_code == 200
        html = response.content.decode()
        confirmations.append(len(response.content))
        sent.append(_sent(html, "choice", "filler"))
    # The confirmation names the choice, yet is one size; what it sends on too.
    assert confirmations == [RECEIPT_PAGE_BYTES] * 3
    assert len(set(sent)) == 1
    # A padded value is cast as the bare choice.
    _cast(client, secret_poll, choice=re.findall(r'value="(abstain\.*)"', page)[0])
    assert Participation.objects.count() == 1
    assert (
        recent_client(councillor)
        .get(reverse("voting:poll", args=[secret_poll.pk]))
        .status_code
        == 200
    )


def test_an_appointment_s_candidates_travel_at_one_width(body, sitting, chair, keys):
    from voting.models import Candidate

    item = make_item(sitting, kind="appointment", current=True)
    Candidate.objects.create(item=item, name="A")
    Candidate.objects.create(item=item, name="Berthe-Marie de Longuenom")
    poll = poll_open(item=item, by=chair)
    html = recent_client(chair).get(reverse("voting:poll", args=[poll.pk]))
    offered = _offered(html.content.decode())
    # Candidate keys hold a colon, which a form sends as three bytes.
    assert len(offered) == 3 and len(set(offered)) == 1
    client = recent_client(chair)
    confirm = client.post(
        reverse("voting:vote", args=[poll.pk]), {"choice": "blank"}
    ).content.decode()
    assert _sent(confirm, "choice", "filler") == len(
        urlencode({"choice": "c:1", "filler": "." * 19})
    )
