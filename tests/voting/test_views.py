"""Every page and action of the voting app, for every role."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from meetings.models import AgendaItem, AttendanceEvent
from tests.conftest import client_for
from tests.factories import arrive, make_item, make_member
from tests.voting.conftest import PASSPHRASE, recent_client
from voting.models import Ballot, Candidate, Participation, Poll, PublicVote, SealingKey
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.polls import poll_close, poll_open, poll_unseal

pytestmark = pytest.mark.django_db

ROLES = [
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
    "administrator",
    "superuser",
    "outsider",
    None,
]
MEMBER_AREA = {
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
}


def user_of(request, role):
    return request.getfixturevalue(role) if role else None


def expect(response, role, allowed, ok=(200, 302)):
    if role is None:
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
    elif role in allowed:
        assert response.status_code in ok, response.status_code
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_poll_page(request, public_poll, members, role):
    response = client_for(user_of(request, role)).get(
        reverse("voting:poll", args=[public_poll.pk])
    )
    expect(response, role, MEMBER_AREA, ok=(200,))


@pytest.mark.parametrize("role", ROLES)
def test_public_vote(request, public_poll, members, role):
    user = user_of(request, role)
    if user:
        arrive(public_poll.item.meeting, user)
    response = client_for(user).post(
        reverse("voting:vote", args=[public_poll.pk]), {"choice": "yes"}
    )
    expect(response, role, {"chair", "councillor"}, ok=(302,))
    expected = 1 if role in {"chair", "councillor"} else 0
    assert PublicVote.objects.count() == expected


@pytest.mark.parametrize("role", ROLES)
def test_secret_cast(request, secret_poll, members, role):
    user = user_of(request, role)
    if user:
        arrive(secret_poll.item.meeting, user)
    client = recent_client(user) if user else client_for(None)
    response = client.post(
        reverse("voting:cast", args=[secret_poll.pk]), {"choice": "no"}
    )
    expect(response, role, {"chair", "councillor"}, ok=(200,))
    expected = 1 if role in {"chair", "councillor"} else 0
    assert Ballot.objects.count() == Participation.objects.count() == expected


@pytest.mark.parametrize("role", ROLES)
def test_controls_and_open(request, sitting, members, role):
    item = make_item(sitting)
    client = client_for(user_of(request, role))
    response = client.get(reverse("voting:controls", args=[sitting.pk]))
    expect(response, role, {"chair"}, ok=(200,))
    response = client.post(reverse("voting:open", args=[sitting.pk]))
    expect(response, role, {"chair"}, ok=(302,))
    assert Poll.objects.filter(item=item).exists() is (role == "chair")


@pytest.mark.parametrize("role", ROLES)
def test_close(request, public_poll, members, role):
    response = client_for(user_of(request, role)).post(
        reverse("voting:close", args=[public_poll.pk])
    )
    expect(response, role, {"chair"}, ok=(302,))
    public_poll.refresh_from_db()
    assert public_poll.is_open is (role != "chair")


@pytest.mark.parametrize("role", ROLES)
def test_proxy_page(request, meeting, members, role):
    arrive(meeting, *members[:8])
    arrive(meeting, members[8], place=AttendanceEvent.Place.ROOM)
    poll = poll_open(item=make_item(meeting), by=request.getfixturevalue("chair"))
    client = client_for(user_of(request, role))
    response = client.get(reverse("voting:proxy", args=[poll.pk]))
    expect(response, role, {"clerk"}, ok=(200,))
    response = client.post(
        reverse("voting:proxy", args=[poll.pk]),
        {"member": members[8].pk, "choice": "abstain"},
    )
    expect(response, role, {"clerk"}, ok=(302,))
    votes = list(PublicVote.objects.filter(poll=poll))
    if role == "clerk":
        assert [(v.member_id, v.choice, v.recorded_by_id) for v in votes] == [
            (members[8].pk, "abstain", request.getfixturevalue("clerk").pk)
        ]
        page = client.get(reverse("voting:proxy", args=[poll.pk])).content.decode()
        assert members[8].display_name in page
    else:
        assert votes == []


def test_proxy_page_queries_do_not_grow_with_the_room(
    meeting, members, body, chair, clerk, django_assert_max_num_queries
):
    # The register is read once for the page, not once per member listed.
    arrive(meeting, *members, place=AttendanceEvent.Place.ROOM)
    poll = poll_open(item=make_item(meeting), by=chair)
    client = client_for(clerk)
    url = reverse("voting:proxy", args=[poll.pk])
    client.get(url)
    with django_assert_max_num_queries(9) as small:
        assert members[0].display_name in client.get(url).content.decode()
    arrive(meeting, *[make_member(body) for _ in range(5)], place="room")
    with django_assert_max_num_queries(9) as large:
        client.get(url)
    assert len(small.captured_queries) == len(large.captured_queries)


def test_proxy_refuses_a_remote_member(public_poll, clerk, councillor):
    response = client_for(clerk).post(
        reverse("voting:proxy", args=[public_poll.pk]),
        {"member": councillor.pk, "choice": "yes"},
    )
    assert response.status_code == 400
    assert not PublicVote.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_ballot_box(request, secret_poll, members, chair, role):
    secret_ballot_cast(poll=secret_poll, by=members[1], choice="yes")
    poll_close(poll=secret_poll, by=chair)
    response = client_for(user_of(request, role)).get(
        reverse("voting:box", args=[secret_poll.pk])
    )
    expect(response, role, MEMBER_AREA, ok=(200,))
    if response.status_code == 200:
        assert Ballot.objects.get().tracker in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_unseal(request, secret_poll, members, chair, role):
    poll_close(poll=secret_poll, by=chair)
    user = user_of(request, role)
    client = recent_client(user) if user else client_for(None)
    url = reverse("voting:unseal", args=[secret_poll.pk])
    keyholders = {"director_general", "deputy_director_general"}
    expect(client.get(url), role, keyholders, ok=(200,))
    passphrase = PASSPHRASE + ("!" if role == "deputy_director_general" else "")
    response = client.post(url, {"passphrase": passphrase})
    expect(response, role, keyholders, ok=(302,))
    secret_poll.refresh_from_db()
    assert (secret_poll.state == Poll.State.UNSEALED) is (role in keyholders)


@pytest.mark.parametrize("role", ROLES)
def test_announce(request, secret_poll, chair, director_general, role):
    poll_close(poll=secret_poll, by=chair)
    poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    client = client_for(user_of(request, role))
    url = reverse("voting:announce", args=[secret_poll.pk])
    expect(client.get(url), role, {"director_general"}, ok=(200,))
    expect(client.post(url), role, {"director_general"}, ok=(302,))
    secret_poll.refresh_from_db()
    assert (secret_poll.state == Poll.State.ANNOUNCED) is (role == "director_general")


@pytest.mark.parametrize("role", ROLES)
def test_key_setup(request, body, role):
    if role == "deputy_director_general":
        request.getfixturevalue("confirmed_deputy")
    user = user_of(request, role)
    client = recent_client(user) if user else client_for(None)
    url = reverse("voting:key_setup", args=[body.slug])
    keyholders = {"director_general", "deputy_director_general"}
    expect(client.get(url), role, keyholders, ok=(200,))
    response = client.post(url, {"passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    expect(response, role, keyholders, ok=(302,))
    assert SealingKey.objects.exists() is (role in keyholders)


@pytest.mark.parametrize("role", ROLES)
def test_candidates(request, sitting, role):
    item = make_item(sitting, kind=AgendaItem.Kind.APPOINTMENT)
    existing = Candidate.objects.create(item=item, name="Existing")
    client = client_for(user_of(request, role))
    url = reverse("voting:candidates", args=[item.pk])
    expect(client.get(url), role, {"clerk", "chair"}, ok=(200,))
    response = client.post(url, {"name": "New", "birth_date": "1960-02-03"})
    expect(response, role, {"clerk", "chair"}, ok=(302,))
    response = client.post(reverse("voting:candidate_remove", args=[existing.pk]))
    expect(response, role, {"clerk", "chair"}, ok=(302,))
    names = set(Candidate.objects.values_list("name", flat=True))
    assert names == ({"New"} if role in {"clerk", "chair"} else {"Existing"})


@pytest.mark.parametrize("role", ROLES)
def test_results_page_hides_closed_session_from_outsiders(
    request, sitting, chair, keys, members, role
):
    public_item = make_item(sitting, title="Budget communal")
    poll = poll_open(item=public_item, by=chair)
    poll_close(poll=poll, by=chair)
    closed = make_item(
        sitting, kind=AgendaItem.Kind.APPOINTMENT, title="Nomination secrète"
    )
    closed.candidates.create(name="A")
    poll_open(item=closed, by=chair)
    response = client_for(user_of(request, role)).get(
        reverse("voting:results", args=[sitting.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Budget communal" in page
    assert ("Nomination secrète" in page) is (role in MEMBER_AREA)


def _close_public_votes(meeting, chair, members, n):
    for _ in range(n):
        item = make_item(meeting)
        poll = poll_open(item=item, by=chair)
        for member in members:
            public_vote_cast(poll=poll, member=member, choice="yes")
        poll_close(poll=poll, by=chair)


def test_results_page_uses_a_constant_number_of_queries(
    sitting, chair, members, councillor, django_assert_max_num_queries
):
    client = client_for(councillor)
    url = reverse("voting:results", args=[sitting.pk])
    _close_public_votes(sitting, chair, members, 1)
    client.get(url)
    with django_assert_max_num_queries(12) as small:
        client.get(url)
    _close_public_votes(sitting, chair, members, 4)
    with django_assert_max_num_queries(12) as large:
        client.get(url)
    assert len(small.captured_queries) == len(large.captured_queries)


def test_double_post_of_a_secret_ballot_stores_one(secret_poll, councillor):
    client = recent_client(councillor)
    url = reverse("voting:cast", args=[secret_poll.pk])
    first = client.post(url, {"choice": "yes"})
    second = client.post(url, {"choice": "yes"})
    assert first.status_code == second.status_code == 200
    tracker = Ballot.objects.get().tracker
    assert tracker in first.content.decode()
    assert tracker not in second.content.decode()
    assert Participation.objects.count() == 1


def test_secret_ballot_without_recent_login_is_not_stashed(secret_poll, councillor):
    client = client_for(councillor)  # logged in, not recently re-authenticated
    response = client.post(
        reverse("voting:cast", args=[secret_poll.pk]), {"choice": "abstain"}
    )
    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    assert not Ballot.objects.exists()
    for session in Session.objects.all():
        assert "abstain" not in str(session.get_decoded())


def test_unseal_without_recent_login_keeps_no_passphrase(
    secret_poll, chair, director_general
):
    poll_close(poll=secret_poll, by=chair)
    response = client_for(director_general).post(
        reverse("voting:unseal", args=[secret_poll.pk]), {"passphrase": PASSPHRASE}
    )
    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    for session in Session.objects.all():
        assert PASSPHRASE not in str(session.get_decoded())
    secret_poll.refresh_from_db()
    assert secret_poll.state == Poll.State.CLOSED


def test_wrong_passphrase_page_says_so(secret_poll, chair, director_general):
    poll_close(poll=secret_poll, by=chair)
    response = recent_client(director_general).post(
        reverse("voting:unseal", args=[secret_poll.pk]),
        {"passphrase": "nope nope nope"},
    )
    assert response.status_code == 400
    assert "Wrong passphrase" in response.content.decode()


def test_confirmation_step_shows_the_choice_and_stores_nothing(secret_poll, councillor):
    response = recent_client(councillor).post(
        reverse("voting:vote", args=[secret_poll.pk]), {"choice": "no"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="choice" value="no"' in page
    assert reverse("voting:cast", args=[secret_poll.pk]) in page
    assert not Ballot.objects.exists()


def test_unannounced_secret_result_is_not_on_the_poll_page(
    request, secret_poll, chair, director_general, members
):
    for member in members[:3]:
        secret_ballot_cast(poll=secret_poll, by=member, choice="yes")
    poll_close(poll=secret_poll, by=chair)
    poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    url = reverse("voting:poll", args=[secret_poll.pk])
    for role in ("chair", "councillor", "clerk"):
        client = client_for(request.getfixturevalue(role))
        client.cookies["django_language"] = "en"
        page = client.get(url).content.decode()
        assert "Adopted" not in page and "Adopté" not in page
    client = client_for(director_general)
    client.cookies["django_language"] = "en"
    page = client.get(url).content.decode()
    assert "Adopted" in page and "keyholders only" in page


def test_ballot_form_is_large_labelled_radios(public_poll, councillor):
    page = (
        client_for(councillor)
        .get(reverse("voting:poll", args=[public_poll.pk]))
        .content.decode()
    )
    assert page.count('type="radio"') == 3
    assert "<legend>" in page and 'aria-live="polite"' in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Scrutin secret"),
        ("nl", "Geheime stemming"),
        ("de", "Geheime Abstimmung"),
    ],
)
def test_ballot_page_speaks_the_member_s_language(
    secret_poll, councillor, language, expected
):
    client = client_for(councillor)
    client.cookies["django_language"] = language
    page = client.get(reverse("voting:poll", args=[secret_poll.pk])).content.decode()
    assert expected in page


def test_poll_page_and_receipt_lead_back_to_the_sitting(secret_poll, councillor):
    client = recent_client(councillor)
    sitting = reverse("meetings:sitting", args=[secret_poll.item.meeting_id])
    page = client.get(reverse("voting:poll", args=[secret_poll.pk]))
    assert sitting in page.content.decode()
    receipt = client.post(
        reverse("voting:cast", args=[secret_poll.pk]), {"choice": "yes"}
    )
    assert receipt.status_code == 200
    assert Ballot.objects.filter(poll=secret_poll).count() == 1
    assert sitting in receipt.content.decode()
