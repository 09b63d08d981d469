"""The home page tells each role what it can do; the admin is for administrators."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.urls import reverse

from council.audit import audit_verify
from council.models import AuditEntry, Mandate, User
from council.permissions import ROLES_FOR_ACTION, Action
from tests.conftest import client_for
from tests.factories import make_body, make_mandate

Role = Mandate.Role

pytestmark = pytest.mark.django_db

SECTIONS = {
    "chair": {"chair", "member"},
    "councillor": {"member"},
    "director_general": {"director_general"},
    "deputy_director_general": {"deputy_director_general"},
    "clerk": {"clerk"},
    "administrator": {"administrator"},
    "outsider": {"none"},
}
ALL_SECTIONS = set().union(*SECTIONS.values())


def _sections(html: str) -> set[str]:
    return {s for s in ALL_SECTIONS if f'data-role="{s}"' in html}


@pytest.mark.parametrize("who", list(SECTIONS))
def test_each_role_sees_its_own_sections_only(who, cast, body):
    client = client_for(cast[who])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert _sections(html) == SECTIONS[who]
    assert cast[who].display_name in html
    if who in {"administrator", "outsider"}:
        assert body.name not in html
    else:
        assert body.name in html


def test_member_sees_group_and_seats(councillor, chair, body, group):
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("home")).content.decode()
    assert group.name in html
    assert f"2 of {body.seats} seats filled" in html


def test_anonymous_visitor_sees_public_page_and_login(body):
    response = client_for(None).get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert _sections(html) == set()
    assert reverse("account_login") in html
    assert body.name in html


def test_home_page_queries_do_not_grow_with_bodies(
    django_assert_num_queries, councillor, body
):
    client = client_for(councillor)
    client.get(reverse("home"))
    # session, user, mandates, member counts, and the meetings panel's next
    # sittings and the minutes panel's last closed sittings, for all bodies at once;
    # the sittings soon (ways in) and the header's sittings in session
    with django_assert_num_queries(8):
        client.get(reverse("home"))
    for _ in range(5):
        make_mandate(councillor, make_body(), Mandate.Role.COUNCILLOR)
    with django_assert_num_queries(8):
        html = client.get(reverse("home")).content.decode()
    assert html.count('class="card desk"') == 6


def test_home_page_and_panels_follow_the_table_not_role_names(
    monkeypatch, councillor, body
):
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    links = [
        reverse("meetings:meeting_create", args=[body.slug]),
        reverse("voting:key_setup", args=[body.slug]),
        reverse("minutes:oversight", args=[body.slug]),
    ]
    html = client.get(reverse("home")).content.decode()
    assert _sections(html) == {"member"}
    assert not any(link in html for link in links)
    everyone = frozenset(Role)
    for action in (
        Action.PREPARE_MEETINGS,
        Action.HOLD_SEALING_KEY,
        Action.OVERSEE,
        Action.CHAIR_SITTING,
    ):
        monkeypatch.setitem(ROLES_FOR_ACTION, action, everyone)
    monkeypatch.setitem(ROLES_FOR_ACTION, Action.VOTE, frozenset())
    html = client.get(reverse("home")).content.decode()
    assert _sections(html) == {"chair", "clerk", "deputy_director_general"}
    assert all(link in html for link in links)


def test_layout_is_accessible(councillor):
    html = client_for(councillor).get(reverse("home")).content.decode()
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert 'role="banner"' in html and 'role="contentinfo"' in html
    assert '<label for="language-select"' in html


# ---- Django admin ----------------------------------------------------------------


def test_administrator_can_use_the_admin(administrator):
    client = client_for(administrator)
    assert client.get(reverse("admin:index")).status_code == 200
    for name in ("body", "user", "mandate", "politicalgroup"):
        url = reverse(f"admin:council_{name}_changelist")
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["chair", "councillor", "director_general", "clerk"])
def test_people_without_the_flag_are_kept_out_of_the_admin(who, cast):
    response = client_for(cast[who]).get(reverse("admin:index"))
    assert response.status_code in {302, 403}
    if response.status_code == 302:
        assert "login" in response.url


def test_anonymous_admin_goes_through_the_site_login(db):
    client = client_for(None)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_administrator_cannot_grant_themself_superuser(administrator):
    client = client_for(administrator)
    url = reverse("admin:council_user_change", args=[administrator.pk])
    html = client.get(url).content.decode()
    assert 'name="is_superuser"' not in html
    assert 'name="is_staff"' not in html


def test_admin_exposes_nothing_of_voting():
    labels = {model._meta.app_label for model in admin.site._registry}
    assert "voting" not in labels
    assert "council" in labels


def test_admin_changes_are_written_to_the_audit_log(administrator, body, councillor):
    client = client_for(administrator)
    response = client.post(
        reverse("admin:council_mandate_add"),
        {
            "person": councillor.pk,
            "body": body.pk,
            "role": Mandate.Role.CLERK,
            "start": "2025-01-01",
            "end": "",
            "group": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mandate = Mandate.objects.get(person=councillor, role=Mandate.Role.CLERK)
    entry = AuditEntry.objects.get(action="admin.mandate.create")
    assert entry.actor == administrator
    assert entry.body == body
    assert entry.object_id == str(mandate.pk)
    assert "role" in entry.details["fields"]

    client.post(
        reverse("admin:council_mandate_delete", args=[mandate.pk]), {"post": "yes"}
    )
    assert not Mandate.objects.filter(pk=mandate.pk).exists()
    assert AuditEntry.objects.filter(action="admin.mandate.delete").count() == 1
    assert audit_verify().problems == []


def test_birth_dates_are_hidden_from_the_administrator(administrator, councillor):
    url = reverse("admin:council_user_change", args=[councillor.pk])
    html = client_for(administrator).get(url).content.decode()
    assert 'name="first_name"' in html
    assert 'name="birth_date"' not in html


def test_birth_dates_are_shown_to_a_clerk_with_admin_access(clerk, councillor):
    clerk.is_administrator = True
    clerk.save()
    url = reverse("admin:council_user_change", args=[councillor.pk])
    html = client_for(clerk).get(url).content.decode()
    assert 'name="birth_date"' in html


def test_administrator_cannot_change_a_superuser(administrator, superuser):
    client = client_for(administrator)
    url = reverse("admin:council_user_change", args=[superuser.pk])
    client.post(url, {"email": "taken@example.org", "first_name": "x"})
    superuser.refresh_from_db()
    assert superuser.email == "root@example.org"
    assert 'name="email"' not in client.get(url).content.decode()


def test_people_created_in_the_admin_have_a_verified_address(administrator):
    response = client_for(administrator).post(
        reverse("admin:council_user_add"),
        {
            "email": "nouvelle.conseillere@example.org",
            "first_name": "Nouvelle",
            "last_name": "Conseillère",
            "password1": "a-long-new-password-42",
            "password2": "a-long-new-password-42",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    person = User.objects.get(email="nouvelle.conseillere@example.org")
    address = EmailAddress.objects.get(user=person)
    assert address.verified and address.primary
    assert AuditEntry.objects.filter(
        action="admin.user.create", object_id=str(person.pk)
    ).exists()
