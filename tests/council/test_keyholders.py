"""Keyholders (director-general, deputy) are made on the server, never in the admin."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from council.audit import audit_verify
from council.models import AuditEntry, Mandate
from tests.conftest import client_for
from tests.factories import make_user
from tests.voting.conftest import PASSPHRASE, recent_client
from voting.models import SealingKey

pytestmark = pytest.mark.django_db

Role = Mandate.Role
KEYHOLDERS = [Role.DIRECTOR_GENERAL, Role.DEPUTY_DIRECTOR_GENERAL]


@pytest.fixture(params=["administrator", "superuser"])
def manager(request):
    return request.getfixturevalue(request.param)


def _fields(person, body, role, start="2025-01-01", end=""):
    return {
        "person": person.pk,
        "body": body.pk,
        "role": role,
        "group": "",
        "start": start,
        "end": end,
    }


@pytest.mark.parametrize("role", KEYHOLDERS)
def test_the_admin_cannot_add_a_keyholder_mandate(manager, body, role):
    client = client_for(manager)
    form = client.get(reverse("admin:council_mandate_add")).content.decode()
    assert f'value="{role}"' not in form
    assert f'value="{Role.COUNCILLOR}"' in form
    before = Mandate.objects.count()
    response = client.post(
        reverse("admin:council_mandate_add"), _fields(manager, body, role)
    )
    assert response.status_code == 200  # the form again, with its error
    assert Mandate.objects.count() == before
    assert not Mandate.objects.filter(person=manager, role=role).exists()


def test_the_admin_shows_a_keyholder_mandate_read_only(
    manager, director_general, deputy_director_general, body
):
    client = client_for(manager)
    for holder in (director_general, deputy_director_general):
        mandate = holder.mandates.get()
        url = reverse("admin:council_mandate_change", args=[mandate.pk])
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="role"' not in page.content.decode()
        client.post(url, _fields(manager, body, Role.COUNCILLOR, end="2025-06-30"))
        mandate.refresh_from_db()
        assert (mandate.person, mandate.role, mandate.end) == (
            holder,
            holder.mandates.get().role,
            None,
        )


def test_the_admin_cannot_delete_a_keyholder_mandate(manager, director_general, body):
    client = client_for(manager)
    mandate = director_general.mandates.get()
    delete = reverse("admin:council_mandate_delete", args=[mandate.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        reverse("admin:council_mandate_changelist"),
        {"action": "delete_selected", "_selected_action": [mandate.pk], "post": "yes"},
    )
    assert Mandate.objects.filter(pk=mandate.pk).exists()


def test_a_councillor_mandate_cannot_be_turned_into_a_keyholder_one(
    manager, councillor, body
):
    mandate = councillor.mandates.get()
    client_for(manager).post(
        reverse("admin:council_mandate_change", args=[mandate.pk]),
        _fields(councillor, body, Role.DEPUTY_DIRECTOR_GENERAL),
    )
    mandate.refresh_from_db()
    assert mandate.role == Role.COUNCILLOR


def test_the_body_page_does_not_edit_keyholders_inline(manager, director_general, body):
    page = client_for(manager).get(reverse("admin:council_body_change", args=[body.pk]))
    assert page.status_code == 200
    assert director_general.mandates.exists()
    assert 'name="mandates-INITIAL_FORMS" value="0"' in page.content.decode()


def test_the_command_creates_and_ends_a_keyholder_mandate_audited(body):
    person = make_user(email="adjointe@example.org", first_name="Adjointe")
    call_command(
        "keyholder_mandate",
        "create",
        "--email=Adjointe@example.org",
        f"--body={body.slug}",
        "--role=deputy_director_general",
        "--date=2025-02-01",
        stdout=io.StringIO(),
    )
    mandate = Mandate.objects.get(person=person, body=body)
    assert (mandate.role, mandate.start.isoformat(), mandate.end) == (
        Role.DEPUTY_DIRECTOR_GENERAL,
        "2025-02-01",
        None,
    )
    entry = AuditEntry.objects.get(action="keyholder.mandate.create")
    assert (entry.actor, entry.actor_label, entry.body) == (None, "command", body)
    assert entry.details["role"] == Role.DEPUTY_DIRECTOR_GENERAL
    call_command(
        "keyholder_mandate",
        "end",
        "--email=adjointe@example.org",
        f"--body={body.slug}",
        "--role=deputy_director_general",
        "--date=2025-03-01",
        stdout=io.StringIO(),
    )
    mandate.refresh_from_db()
    assert mandate.end.isoformat() == "2025-03-01"
    entry = AuditEntry.objects.get(action="keyholder.mandate.end")
    assert entry.actor_label == "command"
    assert audit_verify().intact


def test_the_command_refuses_other_roles_and_unknown_people(body, councillor):
    with pytest.raises(CommandError):
        call_command(
            "keyholder_mandate",
            "create",
            f"--email={councillor.email}",
            f"--body={body.slug}",
            "--role=councillor",
        )
    with pytest.raises(CommandError, match="Nobody has the address"):
        call_command(
            "keyholder_mandate",
            "create",
            "--email=nobody@example.org",
            f"--body={body.slug}",
            "--role=director_general",
        )
    assert not AuditEntry.objects.filter(action__startswith="keyholder.").exists()


def test_a_sealing_key_needs_a_recent_login(body, director_general):
    """A stale session is sent to re-authenticate and no key is set up."""
    url = reverse("voting:key_setup", args=[body.slug])
    stale = client_for(director_general)
    response = stale.get(url)
    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    response = stale.post(url, {"passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    assert not SealingKey.objects.filter(holder=director_general).exists()
    fresh = recent_client(director_general)
    assert fresh.get(url).status_code == 200
    fresh.post(url, {"passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    assert SealingKey.objects.filter(holder=director_general, active=True).exists()
