"""Every view, every role: allowed roles get the page, others 403, anonymous login."""

import pytest
from django.urls import reverse

from council.models import AuditEntry
from minutes import services
from minutes.models import Minutes, PrintJob
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ROLES = [
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
    "administrator",
    "outsider",
    None,
]
MEMBERS_AND_STAFF = {
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
}
STAFF = {"director_general", "deputy_director_general", "clerk"}
PRINTERS = STAFF  # the clerk prints; the DG and deputy read for oversight
CLERK = {"clerk"}


@pytest.fixture
def world(issued, sitting, director_general, clerk, next_meeting, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    minutes = Minutes.objects.get(meeting=sitting.meeting)
    services.minutes_approve(minutes=minutes, by=director_general)
    job = PrintJob.objects.create(
        meeting=sitting.meeting, kind="decisions", total=2, requested_by=clerk
    )
    services.print_job_run(job.pk)
    return {"meeting": sitting.meeting.pk, "record": issued[0].pk, "job": job.pk}


def _client(cast, role):
    return client_for(cast[role] if role else None)


GETS = [
    ("minutes:minutes", "meeting", MEMBERS_AND_STAFF),
    ("minutes:minutes_pdf", "meeting", MEMBERS_AND_STAFF),
    ("minutes:versions", "meeting", MEMBERS_AND_STAFF),
    ("minutes:edit", "meeting", CLERK),
    ("minutes:register_pdf", "meeting", PRINTERS),
    ("minutes:decisions", "meeting", PRINTERS),
    ("minutes:record_pdf", "record", PRINTERS),
    ("minutes:record_sign", "record", CLERK),
    ("minutes:record_correct", "record", CLERK),
    ("minutes:print_job", "job", PRINTERS),
    ("minutes:print_job_status", "job", PRINTERS),
    ("minutes:print_job_file", "job", PRINTERS),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,key,allowed", GETS, ids=[g[0] for g in GETS])
def test_get_views(world, cast, role, name, key, allowed):
    response = _client(cast, role).get(reverse(name, args=[world[key]]))
    if role is None:
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


POSTS = [
    ("minutes:generate", {}, CLERK),
    ("minutes:approve", {}, {"director_general"}),
    ("minutes:reopen", {"reason": "objection"}, {"director_general"}),
    ("minutes:place", {}, {"director_general", "clerk"}),
    ("minutes:object", {"text": "erreur"}, {"chair", "councillor"}),
    ("minutes:adopt", {"method": "no_objection"}, {"chair", "clerk"}),
    ("minutes:issue", {}, CLERK),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,data,allowed", POSTS, ids=[p[0] for p in POSTS])
def test_post_views(world, cast, role, name, data, allowed):
    response = _client(cast, role).post(reverse(name, args=[world["meeting"]]), data)
    if role is None:
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code == 302
        assert "/accounts/login/" not in response["Location"]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_mark_printed(world, cast, role):
    url = reverse("minutes:record_printed", args=[world["record"]])
    response = _client(cast, role).post(url)
    if role is None:
        assert response.status_code == 302 and "/accounts/" in response["Location"]
    elif role in CLERK:
        assert response.status_code == 302
        assert "/accounts/" not in response["Location"]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_print_start(world, cast, role):
    url = reverse("minutes:print_start", args=[world["meeting"], "minutes"])
    before = PrintJob.objects.count()
    response = _client(cast, role).post(url)
    if role is None:
        assert response.status_code == 302 and "/accounts/" in response["Location"]
    elif role in CLERK:
        assert response.status_code == 302
        assert PrintJob.objects.count() == before + 1
    else:
        assert response.status_code == 403
        assert PrintJob.objects.count() == before


@pytest.mark.parametrize("role", ROLES)
def test_oversight(world, cast, role, body):
    response = _client(cast, role).get(reverse("minutes:oversight", args=[body.slug]))
    if role is None:
        assert response.status_code == 302
    elif role in {"director_general", "deputy_director_general"}:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_oversight_verify(world, cast, role, body):
    url = reverse("minutes:oversight_verify", args=[body.slug])
    before = AuditEntry.objects.filter(action="audit.verified").count()
    response = _client(cast, role).post(url)
    after = AuditEntry.objects.filter(action="audit.verified").count()
    if role is None:
        assert response.status_code == 302 and "/accounts/" in response["Location"]
        assert after == before
    elif role in {"director_general", "deputy_director_general"}:
        assert response.status_code == 302
        assert after == before + 1
    else:
        assert response.status_code == 403
        assert after == before
    assert _client(cast, role).get(url).status_code in {302, 405}


@pytest.mark.parametrize("role", ["chair", "councillor"])
def test_members_do_not_see_a_draft_still_being_written(drafted, cast, role):
    meeting = drafted.meeting_id
    client = _client(cast, role)
    page = client.get(reverse("minutes:minutes", args=[meeting]))
    assert page.status_code == 200
    assert b"not available yet" in page.content
    assert client.get(reverse("minutes:minutes_pdf", args=[meeting])).status_code == 403
    assert client.get(reverse("minutes:versions", args=[meeting])).status_code == 403


def test_get_only_and_post_only(world, cast):
    clerk = _client(cast, "clerk")
    assert (
        clerk.post(reverse("minutes:minutes_pdf", args=[world["meeting"]])).status_code
        == 405
    )
    assert (
        clerk.get(reverse("minutes:issue", args=[world["meeting"]])).status_code == 405
    )
