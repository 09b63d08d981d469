"""Every page checks the role of the person asking; the public sees only the public."""

import datetime
from html import escape

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from council.models import AuditEntry
from meetings.models import AgendaItem, Convocation, Document, ItemSubmission, Meeting
from meetings.services import documents as document_services
from meetings.services import submissions as submission_services
from tests.conftest import client_for
from tests.factories import make_item, make_meeting
from tests.jobs import run_jobs
from tests.meetings.conftest import pdf_bytes, set_state

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "outsider",
    "administrator",
    "superuser",
    "councillor",
    "chair",
    "director_general",
    "deputy_director_general",
    "clerk",
]
MEMBER_AREA = {
    "councillor",
    "chair",
    "director_general",
    "deputy_director_general",
    "clerk",
}
MEMBERS = {"councillor", "chair"}
CLERK = {"clerk"}
EVERYONE = set(ROLES)


@pytest.fixture
def people(cast, superuser):
    return {**cast, "superuser": superuser, "anonymous": None}


@pytest.fixture
def world(meeting, agenda, members, clerk, councillor):
    set_state(meeting, Meeting.State.CONVENED)
    public, closed = agenda
    document = document_services.document_upload(
        item=public, by=clerk, name="annexe.pdf", data=pdf_bytes()
    )
    submission = ItemSubmission.objects.create(
        meeting=meeting,
        submitted_by=councillor,
        submitted_at=timezone.now(),
        title="Motion",
        explanatory_note="Note",
    )
    return {
        "meeting": meeting,
        "public": public,
        "closed": closed,
        "document": document,
        "submission": submission,
        "slug": meeting.body.slug,
    }


GET_PAGES = [
    ("meetings:body_meetings", lambda w: [w["slug"]], MEMBER_AREA),
    ("meetings:meeting_create", lambda w: [w["slug"]], CLERK),
    ("meetings:meeting_edit", lambda w: [w["meeting"].pk], CLERK),
    ("meetings:meeting_convene", lambda w: [w["meeting"].pk], CLERK),
    ("meetings:convocations_progress", lambda w: [w["meeting"].pk], CLERK),
    ("meetings:item_create", lambda w: [w["meeting"].pk], CLERK),
    ("meetings:item_edit", lambda w: [w["public"].pk], CLERK),
    ("meetings:meeting_detail", lambda w: [w["meeting"].pk], MEMBER_AREA),
    ("meetings:submission_create", lambda w: [w["meeting"].pk], MEMBERS),
    ("meetings:public_calendar", lambda w: [w["slug"]], EVERYONE),
    ("meetings:public_agenda", lambda w: [w["slug"], w["meeting"].pk], EVERYONE),
    ("meetings:calendar_feed", lambda w: [w["slug"]], EVERYONE),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "args", "allowed"), GET_PAGES, ids=[p[0] for p in GET_PAGES]
)
def test_get_pages_by_role(people, world, role, name, args, allowed):
    response = client_for(people[role]).get(reverse(name, args=args(world)))
    if role in allowed:
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == 403


POSTS = [
    (
        "meetings:item_delete",
        lambda w: [w["public"].pk],
        {},
        lambda w: AgendaItem.objects.filter(pk=w["public"].pk).exists() is False,
    ),
    (
        "meetings:item_move",
        lambda w: [w["closed"].pk],
        {"direction": "up"},
        lambda w: AgendaItem.objects.get(pk=w["closed"].pk).position == 1,
    ),
    (
        "meetings:document_delete",
        lambda w: [w["document"].pk],
        {},
        lambda w: not Document.objects.filter(pk=w["document"].pk).exists(),
    ),
    (
        "meetings:submission_decide",
        lambda w: [w["submission"].pk],
        {"decision": "decline", "reason": "Hors sujet"},
        lambda w: (
            ItemSubmission.objects.get(pk=w["submission"].pk).status == "declined"
        ),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "args", "data", "done"), POSTS, ids=[p[0] for p in POSTS]
)
def test_clerk_actions_by_role(people, world, role, name, args, data, done):
    response = client_for(people[role]).post(reverse(name, args=args(world)), data)
    if role == "clerk":
        assert response.status_code == 302
        assert done(world)
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert not done(world)


@pytest.mark.parametrize("role", ROLES)
def test_resending_convocations_by_role(
    people, world, role, members, django_capture_on_commit_callbacks
):
    Convocation.objects.create(
        meeting=world["meeting"],
        person=members[0],
        email=members[0].email,
        language="fr",
        created_at=timezone.now(),
        status=Convocation.Status.FAILED,
        attempts=5,
        error="mailbox unavailable",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people[role]).post(
            reverse("meetings:convocations_resend", args=[world["meeting"].pk])
        )
    assert mail.outbox == []  # the request only queues it
    run_jobs()
    sent = Convocation.objects.get(person=members[0]).sent_at is not None
    if role == "clerk":
        assert response.status_code == 302
        assert sent and len(mail.outbox) == 1
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert not sent and mail.outbox == []


@pytest.mark.parametrize("role", ROLES)
def test_document_upload_by_role(people, world, role):
    before = Document.objects.count()
    response = client_for(people[role]).post(
        reverse("meetings:document_upload", args=[world["public"].pk]),
        {"file": SimpleUploadedFile("b.pdf", pdf_bytes())},
    )
    if role == "clerk":
        assert response.status_code == 302
        assert Document.objects.count() == before + 1
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert Document.objects.count() == before


@pytest.mark.parametrize("role", ROLES)
def test_draft_meeting_page_is_for_the_clerk_and_dg(people, meeting, agenda, role):
    response = client_for(people[role]).get(
        reverse("meetings:meeting_detail", args=[meeting.pk])
    )
    if role in {"clerk", "director_general", "deputy_director_general"}:
        assert response.status_code == 200
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)


def test_draft_meetings_are_not_public(meeting, agenda):
    client = client_for(None)
    response = client.get(
        reverse("meetings:public_agenda", args=[meeting.body.slug, meeting.pk])
    )
    assert response.status_code == 404
    calendar = client.get(reverse("meetings:public_calendar", args=[meeting.body.slug]))
    assert meeting.title not in calendar.content.decode()
    feed = client.get(reverse("meetings:calendar_feed", args=[meeting.body.slug]))
    assert b"VEVENT" not in feed.content


def test_public_agenda_hides_everything_of_closed_items(world, clerk):
    closed_doc = document_services.document_upload(
        item=world["closed"], by=clerk, name="cv-candidat.pdf", data=pdf_bytes()
    )
    AgendaItem.objects.filter(pk=world["closed"].pk).update(
        explanatory_note="Candidatures de Mme X et M. Y"
    )
    html = (
        client_for(None)
        .get(
            reverse("meetings:public_agenda", args=[world["slug"], world["meeting"].pk])
        )
        .content.decode()
    )
    assert world["public"].title in html
    assert world["document"].get_absolute_url() in html
    assert "Closed-session item" in html
    assert escape(world["closed"].title) not in html
    assert "directeur financier" not in html
    assert "Candidatures" not in html
    assert closed_doc.get_absolute_url() not in html
    assert "cv-candidat" not in html


def test_member_page_shows_closed_items_and_their_documents(world, clerk, councillor):
    closed_doc = document_services.document_upload(
        item=world["closed"], by=clerk, name="cv-candidat.pdf", data=pdf_bytes()
    )
    html = (
        client_for(councillor)
        .get(reverse("meetings:meeting_detail", args=[world["meeting"].pk]))
        .content.decode()
    )
    assert escape(world["closed"].title) in html
    assert closed_doc.get_absolute_url() in html


def test_clerk_creates_a_meeting_in_the_body_time_zone(body, clerk):
    response = client_for(clerk).post(
        reverse("meetings:meeting_create", args=[body.slug]),
        {
            "title": "Conseil du 29 mars",
            "starts_at": "2026-03-29T19:30",
            "mode": "in_person",
            "place": "Salle du conseil",
            "video_provider": "none",
            "convocation_round": "1",
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    # 19:30 in Brussels on the first day of summer time is 17:30 UTC.
    assert meeting.starts_at == datetime.datetime(
        2026, 3, 29, 17, 30, tzinfo=datetime.UTC
    )
    assert response["Location"] == reverse("meetings:meeting_edit", args=[meeting.pk])
    assert AuditEntry.objects.filter(action="meeting.create").count() == 1


def test_invalid_meeting_form_changes_nothing(body, clerk):
    response = client_for(clerk).post(
        reverse("meetings:meeting_create", args=[body.slug]),
        {
            "title": "",
            "starts_at": "demain",
            "mode": "in_person",
            "video_provider": "none",
            "convocation_round": "1",
        },
    )
    assert response.status_code == 200
    assert not Meeting.objects.exists()


def test_clerk_adds_an_appointment_item_through_the_form(meeting, clerk):
    response = client_for(clerk).post(
        reverse("meetings:item_create", args=[meeting.pk]),
        {
            "title": "Désignation",
            "session": "public",
            "kind": "appointment",
            "vote_kind": "public",
        },
    )
    assert response.status_code == 302
    item = meeting.items.get()
    assert (item.session, item.vote_kind) == ("closed", "secret")


def test_reordering_works_without_javascript(meeting, clerk):
    first = make_item(meeting, title="Premier")
    second = make_item(meeting, title="Second")
    response = client_for(clerk).post(
        reverse("meetings:item_move", args=[second.pk]), {"direction": "up"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#item-{second.pk}")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.position, first.position) == (1, 2)


def test_convene_page_refuses_late_unless_urgent(
    body, members, clerk, django_capture_on_commit_callbacks
):
    meeting = Meeting.objects.create(
        body=body,
        number=1,
        title="Urgente",
        starts_at=timezone.now() + datetime.timedelta(days=3),
    )
    make_item(meeting)
    client = client_for(clerk)
    url = reverse("meetings:meeting_convene", args=[meeting.pk])
    response = client.post(url, {})
    assert response.status_code == 200
    assert "Too late" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.DRAFT
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"urgent": "on", "urgency_reason": "Marché public à attribuer"}
        )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.CONVENED and meeting.urgent
    assert mail.outbox == []  # the request queues the emails, it sends none
    run_jobs()
    assert len(mail.outbox) == len(members)


def test_member_submits_an_item_through_the_page(world, councillor):
    response = client_for(councillor).post(
        reverse("meetings:submission_create", args=[world["meeting"].pk]),
        {
            "title": "Plaines de jeux",
            "explanatory_note": "Rénovation",
            "draft_decision": "",
        },
    )
    assert response.status_code == 302
    assert ItemSubmission.objects.filter(
        title="Plaines de jeux", submitted_by=councillor
    ).exists()
    page = (
        client_for(councillor)
        .get(reverse("meetings:meeting_detail", args=[world["meeting"].pk]))
        .content.decode()
    )
    assert "Plaines de jeux" in page


def test_member_sees_the_clerks_decline_reason(world, councillor, clerk):
    submission_services.submission_decline(
        submission=world["submission"], by=clerk, reason="Déjà traité en janvier"
    )
    page = (
        client_for(councillor)
        .get(reverse("meetings:meeting_detail", args=[world["meeting"].pk]))
        .content.decode()
    )
    assert "Déjà traité en janvier" in page


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("clerk", ["Prepare the meetings", "New meeting", "Public calendar"]),
        ("councillor", ["All meetings and agendas", "Public calendar"]),
        ("director_general", ["All meetings and agendas", "Public calendar"]),
    ],
)
def test_home_page_links_by_role(people, world, role, expected):
    html = client_for(people[role]).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in expected:
        assert text in html
    if role != "clerk":
        assert "New meeting" not in html


@pytest.mark.parametrize(
    ("role", "warned"),
    [("clerk", True), ("director_general", True), ("councillor", False)],
)
def test_ten_meetings_warning_on_clerk_and_dg_dashboards(people, world, role, warned):
    client = client_for(people[role])
    home = client.get("/").content.decode()
    listing = client.get(
        reverse("meetings:body_meetings", args=[world["slug"]])
    ).content.decode()
    assert ("Ten-meetings rule" in home) is warned
    assert ("Still missing to reach the ten" in listing) is warned


def test_public_agenda_in_french_names_the_closed_item_huis_clos(world):
    html = (
        client_for(None)
        .get(
            reverse(
                "meetings:public_agenda", args=[world["slug"], world["meeting"].pk]
            ),
            HTTP_ACCEPT_LANGUAGE="fr",
        )
        .content.decode()
    )
    assert "Point à huis clos" in html
    assert "Ordre du jour" in html


def test_editor_of_a_convened_meeting_saves_other_details(world, clerk):
    meeting = world["meeting"]
    response = client_for(clerk).post(
        reverse("meetings:meeting_edit", args=[meeting.pk]),
        {
            "title": "Titre corrigé",
            "starts_at": "2030-01-01T10:00",  # ignored: the date was convened
            "mode": "remote",
            "place": "Salle des mariages",
            "video_provider": "none",
            "convocation_round": "3",
        },
    )
    assert response.status_code == 302
    before = meeting.starts_at
    meeting.refresh_from_db()
    assert meeting.title == "Titre corrigé"
    assert meeting.place == "Salle des mariages"
    assert meeting.starts_at == before
    assert (meeting.mode, meeting.convocation_round) == ("in_person", 1)


def test_calendar_feed_lists_published_meetings_as_events(world, body):
    make_meeting(body, title="Brouillon secret")  # a draft: not in the feed
    response = client_for(None).get(reverse("meetings:calendar_feed", args=[body.slug]))
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(event["summary"]) for event in events] == [
        f"{body.name} — {world['meeting'].title}"
    ]
    event = events[0]
    assert event.decoded("dtstart") == world["meeting"].starts_at
    assert str(event["url"]).endswith(
        reverse("meetings:public_agenda", args=[body.slug, world["meeting"].pk])
    )


def test_editing_a_closed_meeting_is_refused_visibly(meeting, clerk):
    set_state(meeting, Meeting.State.CLOSED)
    response = client_for(clerk).post(
        reverse("meetings:meeting_edit", args=[meeting.pk]),
        {
            "title": "Autre titre",
            "starts_at": "2030-01-01T10:00",
            "mode": "in_person",
            "video_provider": "none",
            "convocation_round": "1",
        },
    )
    assert response.status_code == 200
    assert "This meeting can no longer be changed." in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.title != "Autre titre"
