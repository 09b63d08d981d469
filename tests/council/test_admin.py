"""The Django admin asks council.permissions: nothing is granted by hand."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.urls import reverse

from council import permissions
from council.audit import audit_record
from council.backends import CouncilPermissionBackend
from council.models import AuditEntry, Mandate, User
from council.permissions import Action, can
from tests.conftest import client_for
from tests.factories import make_mandate, make_user

pytestmark = pytest.mark.django_db

Role = Mandate.Role
COUNCIL_MODELS = ("body", "user", "politicalgroup", "mandate")

# Who the admin opens for, written from DESIGN.md: the administrator flag
# (MANAGE_COUNCIL) and Django's superuser; no mandate opens it.
OPENS_FOR = {
    "councillor": False,
    "chair": False,
    "director_general": False,
    "deputy_director_general": False,
    "clerk": False,
    "administrator": True,
    "superuser": True,
    "outsider": False,
    "anonymous": False,
}


def _kept_out(response) -> bool:
    """Sent to the login, which refuses the logged-in, or refused outright."""
    if response.status_code == 302:
        return "login" in response.url
    return response.status_code == 403


def _person(who, cast, superuser):
    if who == "anonymous":
        return None
    if who == "superuser":
        return superuser
    return cast[who]


@pytest.mark.parametrize("who", list(OPENS_FOR))
def test_every_role_against_the_admin(who, cast, superuser, body, councillor):
    user = _person(who, cast, superuser)
    client = client_for(user)
    mandate = councillor.mandates.get()
    urls = [reverse("admin:index"), reverse("admin:council_mandate_changelist")]
    urls.append(reverse("admin:council_mandate_change", args=[mandate.pk]))
    for url in urls:
        response = client.get(url)
        if OPENS_FOR[who]:
            assert response.status_code == 200, url
        else:
            assert _kept_out(response), url
    if user is not None:
        assert user.is_staff is OPENS_FOR[who]


def test_administrator_lists_and_changes_mandates_with_no_stored_permission(
    administrator, councillor, body
):
    assert not administrator.user_permissions.exists()
    assert not administrator.groups.exists()
    mandate = councillor.mandates.get()
    client = client_for(administrator)
    listing = client.get(reverse("admin:council_mandate_changelist"))
    assert listing.status_code == 200
    assert str(councillor) in listing.content.decode()
    response = client.post(
        reverse("admin:council_mandate_change", args=[mandate.pk]),
        {
            "person": councillor.pk,
            "body": body.pk,
            "role": Role.COUNCILLOR,
            "group": "",
            "start": mandate.start.isoformat(),
            "end": "2030-12-31",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mandate.refresh_from_db()
    assert mandate.end == datetime.date(2030, 12, 31)
    for name in COUNCIL_MODELS:
        assert client.get(reverse(f"admin:council_{name}_add")).status_code == 200


def test_the_admin_follows_the_table_not_a_flag_of_its_own(administrator, monkeypatch):
    client = client_for(administrator)
    url = reverse("admin:council_mandate_changelist")
    assert client.get(url).status_code == 200
    monkeypatch.setattr(permissions, "ADMIN_MODELS_FOR_ACTION", {})
    assert not administrator.is_staff
    assert _kept_out(client.get(url))
    monkeypatch.setattr(
        permissions,
        "ADMIN_MODELS_FOR_ACTION",
        {Action.MANAGE_COUNCIL: frozenset({"council.body"})},
    )
    assert client.get(url).status_code == 403  # in the admin, not this model
    assert client.get(reverse("admin:council_body_changelist")).status_code == 200


def test_manage_council_is_the_administrator_flag(administrator, body):
    assert can(administrator, Action.MANAGE_COUNCIL, None)
    administrator.is_administrator = False
    administrator.save()
    assert not can(administrator, Action.MANAGE_COUNCIL, body)
    assert not administrator.is_staff
    assert _kept_out(client_for(administrator).get(reverse("admin:index")))


def test_hand_granted_permissions_open_nothing(clerk, administrator):
    every = Permission.objects.all()
    clerk.user_permissions.add(*every)
    group = Group.objects.create(name="everything")
    group.permissions.add(*every)
    administrator.groups.add(group)
    clerk = User.objects.get(pk=clerk.pk)  # no cached permissions
    administrator = User.objects.get(pk=administrator.pk)
    assert not clerk.is_staff
    assert not clerk.has_perm("council.change_mandate")
    assert _kept_out(client_for(clerk).get(reverse("admin:index")))
    # The administrator keeps what the table gives, and nothing the group adds.
    assert administrator.has_perm("council.change_mandate")
    assert not administrator.has_perm("council.view_auditentry")
    assert not administrator.has_perm("account.change_emailaddress")
    client = client_for(administrator)
    audit = client.get(reverse("admin:council_auditentry_changelist"))
    assert audit.status_code == 403


def test_administrator_sees_only_bodies_people_groups_and_mandates(administrator):
    response = client_for(administrator).get(reverse("admin:index"))
    models = {
        (app["app_label"], model["object_name"].lower())
        for app in response.context["app_list"]
        for model in app["models"]
    }
    assert models == {("council", name) for name in COUNCIL_MODELS}


def test_audit_entries_cannot_be_changed_in_the_admin_even_by_a_superuser(
    superuser, administrator
):
    entry = audit_record(by=administrator, action="test.entry")
    client = client_for(superuser)
    change = reverse("admin:council_auditentry_change", args=[entry.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    client.post(change, {"action": "forged"})
    delete = reverse("admin:council_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == "test.entry"
    assert AuditEntry.objects.count() == 1


def test_no_sitting_vote_or_minutes_model_is_in_the_admin():
    # Polls, ballots, sealing keys, attendance and records change through
    # their services only, which audit and check the rules.
    labels = {model._meta.app_label for model in admin.site._registry}
    assert not labels & {"meetings", "voting", "minutes"}
    assert Group not in admin.site._registry


def test_backend_answers_from_the_table(administrator, clerk):
    backend = CouncilPermissionBackend()
    assert backend.authenticate(None, username=clerk.email, password="x") is None
    assert not hasattr(backend, "get_user")  # sessions never name it
    granted = backend.get_all_permissions(administrator)
    assert granted == {
        f"council.{verb}_{name}"
        for verb in ("view", "add", "change", "delete")
        for name in COUNCIL_MODELS
    }
    assert backend.has_module_perms(administrator, "council")
    assert backend.get_all_permissions(clerk) == set()
    assert backend.get_all_permissions(AnonymousUser()) == set()
    inactive = make_user(is_administrator=True, is_active=False)
    assert backend.get_all_permissions(inactive) == set()
    assert not inactive.is_staff


def test_superuser_opens_the_admin_but_holds_no_council_role(superuser, body):
    make_mandate(make_user(), body, Role.CLERK)
    assert superuser.is_staff and superuser.has_perm("council.change_mandate")
    assert not any(can(superuser, action, body) for action in Action)
    assert not can(superuser, Action.MANAGE_COUNCIL, None)


def test_staff_status_is_not_stored():
    assert "is_staff" not in {field.name for field in User._meta.get_fields()}


@pytest.mark.parametrize("who", list(OPENS_FOR))
def test_the_administration_link_is_shown_to_whom_the_admin_opens(who, cast, superuser):
    response = client_for(_person(who, cast, superuser)).get(reverse("home"))
    link = f'href="{reverse("admin:index")}"'
    assert (link in response.content.decode()) is OPENS_FOR[who]
