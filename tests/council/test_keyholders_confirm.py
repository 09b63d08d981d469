"""A deputy becomes a keyholder only once the director-general confirms it.

The mandate is made on the server (``manage.py keyholder_mandate``); until the
director-general confirms it in the application, the deputy sets up no key
and nothing is sealed to them. The confirmation is an audit entry under
AUDIT_KEY: writing one into the database without the key does not count.
"""

import nacl.pwhash
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from council.audit import audit_record
from council.keyholders import CONFIRM_ACTION, confirmation_details, keyholders
from council.models import AuditEntry, Mandate
from council.refusals import Refusal
from council.services import (
    ALREADY_CONFIRMED,
    NOTHING_TO_CONFIRM,
    keyholder_mandate_confirm,
)
from meetings.models import AgendaItem, Meeting
from tests.conftest import client_for
from tests.factories import arrive, make_item, make_meeting, make_user
from tests.voting.conftest import recent_client
from voting.models import PollKeySeal, SealingKey
from voting.services import sealing
from voting.services.keys import MANDATE_PENDING, sealing_key_setup
from voting.services.polls import poll_open

pytestmark = pytest.mark.django_db

Role = Mandate.Role
PASSPHRASE = "a passphrase long enough"
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


@pytest.fixture(autouse=True)
def fast_kdf(settings):
    settings.SEALING_KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MIN
    settings.SEALING_KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MIN


@pytest.fixture
def new_deputy(body, director_general):
    """A deputy whose mandate the server's command has just made."""
    person = make_user(first_name="Nouvelle", last_name="Adjointe")
    call_command(
        "keyholder_mandate",
        "create",
        "--email",
        person.email,
        "--body",
        body.slug,
        "--role",
        Role.DEPUTY_DIRECTOR_GENERAL,
    )
    return person


def _mandate(person, body) -> Mandate:
    return Mandate.objects.get(person=person, body=body)


def _pending(body) -> set[int]:
    return {k.person.pk for k in keyholders(body) if k.pending}


def _secret_poll(body, chair, voters):
    meeting = make_meeting(body, state=Meeting.State.IN_SESSION)
    arrive(meeting, *voters)
    item = make_item(meeting, vote_kind=AgendaItem.VoteKind.SECRET)
    return poll_open(item=item, by=chair)


@pytest.fixture
def voters(chair, councillor, other_councillors):
    return [chair, councillor, *other_councillors]


# ---- pending -----------------------------------------------------------------


def test_the_command_says_a_deputy_awaits_confirmation(body, capsys):
    person = make_user()
    call_command(
        "keyholder_mandate",
        "create",
        "--email",
        person.email,
        "--body",
        body.slug,
        "--role",
        Role.DEPUTY_DIRECTOR_GENERAL,
    )
    assert "once the director-general confirms it" in capsys.readouterr().out


def test_a_deputy_made_by_the_command_is_pending(body, new_deputy, director_general):
    assert _pending(body) == {new_deputy.pk}
    with pytest.raises(Refusal) as refused:
        sealing_key_setup(
            body=body, by=new_deputy, passphrase=PASSPHRASE, confirm=PASSPHRASE
        )
    assert refused.value.message == MANDATE_PENDING
    assert not SealingKey.objects.filter(holder=new_deputy).exists()


def test_the_key_page_of_a_pending_deputy_offers_no_key(body, new_deputy):
    client = recent_client(new_deputy)
    url = reverse("voting:key_setup", args=[body.slug])
    page = client.get(url).content.decode()
    assert "awaits the director-general" in page
    assert 'name="passphrase"' not in page
    response = client.post(url, {"passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    assert response.status_code == 400
    assert not SealingKey.objects.filter(holder=new_deputy).exists()


def test_a_pending_deputy_is_not_sealed_to(
    body, chair, voters, new_deputy, director_general
):
    """Even with a key that verifies (set up under an earlier mandate)."""
    dg_key = sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    material = sealing.new_keyholder_key(PASSPHRASE)
    SealingKey.objects.create(
        holder=new_deputy,
        body=body,
        binding=sealing.sealing_key_tag(
            holder_id=new_deputy.pk,
            body_id=body.pk,
            public_key=material["public_key"],
        ),
        **material,
    )
    poll = _secret_poll(body, chair, voters)
    assert list(
        PollKeySeal.objects.filter(poll=poll).values_list("sealing_key", flat=True)
    ) == [dg_key.pk]
    entry = AuditEntry.objects.get(action="voting.poll.open", object_id=poll.pk)
    assert entry.details["sealed_to"] == [director_general.pk]


def test_once_confirmed_the_deputy_sets_up_a_key_and_is_sealed_to(
    body, chair, voters, new_deputy, director_general
):
    sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    keyholder_mandate_confirm(mandate=_mandate(new_deputy, body), by=director_general)
    assert _pending(body) == set()
    sealing_key_setup(
        body=body, by=new_deputy, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    poll = _secret_poll(body, chair, voters)
    assert set(
        PollKeySeal.objects.filter(poll=poll).values_list(
            "sealing_key__holder", flat=True
        )
    ) == {director_general.pk, new_deputy.pk}


# ---- the confirmation is the audit entry, which the database cannot forge ------


def test_a_confirmation_written_without_the_audit_key_does_not_count(
    body, new_deputy, director_general
):
    mandate = _mandate(new_deputy, body)
    with override_settings(AUDIT_KEY=b"a key the attacker guessed, not the server's"):
        audit_record(
            by=director_general,
            action=CONFIRM_ACTION,
            obj=mandate,
            body=body,
            details=confirmation_details(mandate),
        )
    assert _pending(body) == {new_deputy.pk}


def test_another_mandates_confirmation_does_not_count(
    body, new_deputy, director_general
):
    """A genuine entry re-pointed at the attacker's own deputy mandate."""
    first = make_user()
    call_command(
        "keyholder_mandate",
        "create",
        "--email",
        first.email,
        "--body",
        body.slug,
        "--role",
        Role.DEPUTY_DIRECTOR_GENERAL,
    )
    keyholder_mandate_confirm(mandate=_mandate(first, body), by=director_general)
    entry = AuditEntry.objects.get(action=CONFIRM_ACTION)
    AuditEntry.objects.filter(pk=entry.pk).update(
        object_id=str(_mandate(new_deputy, body).pk)
    )
    assert new_deputy.pk in _pending(body)
    # And with the details rewritten too, the hash no longer matches.
    details = confirmation_details(_mandate(new_deputy, body))
    AuditEntry.objects.filter(pk=entry.pk).update(details=details)
    assert new_deputy.pk in _pending(body)


def test_only_a_pending_deputy_mandate_is_confirmed(
    body, new_deputy, director_general, councillor
):
    dg_mandate = _mandate(director_general, body)
    with pytest.raises(Refusal) as refused:
        keyholder_mandate_confirm(mandate=dg_mandate, by=director_general)
    assert refused.value.message == NOTHING_TO_CONFIRM
    with pytest.raises(Refusal) as refused:
        keyholder_mandate_confirm(
            mandate=_mandate(councillor, body), by=director_general
        )
    assert refused.value.message == NOTHING_TO_CONFIRM
    keyholder_mandate_confirm(mandate=_mandate(new_deputy, body), by=director_general)
    with pytest.raises(Refusal) as refused:
        keyholder_mandate_confirm(
            mandate=_mandate(new_deputy, body), by=director_general
        )
    assert refused.value.message == ALREADY_CONFIRMED
    assert AuditEntry.objects.filter(action=CONFIRM_ACTION).count() == 1


# ---- the page ------------------------------------------------------------------


def test_the_dg_confirms_on_the_page_after_a_confirmation_step(
    body, new_deputy, director_general
):
    client = recent_client(director_general)
    url = reverse("keyholder_confirm", args=[body.slug])
    page = client.get(url).content.decode()
    assert new_deputy.display_name in page
    assert "every secret ballot opened afterwards is sealed to it" in page
    assert "recorded in the audit log" in page
    response = client.post(url, {"mandate": _mandate(new_deputy, body).pk})
    assert response.status_code == 302
    assert _pending(body) == set()
    entry = AuditEntry.objects.get(action=CONFIRM_ACTION)
    assert entry.actor_ref == director_general.pk
    assert entry.details == confirmation_details(_mandate(new_deputy, body))


def test_the_confirmation_needs_a_recent_login(body, new_deputy, director_general):
    stale = client_for(director_general)
    url = reverse("keyholder_confirm", args=[body.slug])
    response = stale.post(url, {"mandate": _mandate(new_deputy, body).pk})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert stale.get(url).url.startswith(reverse("account_reauthenticate"))
    assert _pending(body) == {new_deputy.pk}
    assert not AuditEntry.objects.filter(action=CONFIRM_ACTION).exists()


def test_a_made_up_mandate_id_confirms_nothing(body, new_deputy, director_general):
    client = recent_client(director_general)
    url = reverse("keyholder_confirm", args=[body.slug])
    for bad in ("", "x", str(_mandate(director_general, body).pk), "999999"):
        assert client.post(url, {"mandate": bad}).status_code == 302
    assert _pending(body) == {new_deputy.pk}


def _user(request, role):
    return request.getfixturevalue(role) if role else None


@pytest.mark.parametrize("role", ROLES)
def test_confirm_page_for_every_role(request, body, new_deputy, role):
    user = _user(request, role)
    client = recent_client(user) if user else client_for(None)
    url = reverse("keyholder_confirm", args=[body.slug])
    get = client.get(url)
    post = client.post(url, {"mandate": _mandate(new_deputy, body).pk})
    if role is None:
        assert get.status_code == post.status_code == 302
        assert reverse("account_login") in get.url
    elif role == "director_general":
        assert get.status_code == 200 and post.status_code == 302
    else:
        assert get.status_code == post.status_code == 403
    assert (new_deputy.pk in _pending(body)) is (role != "director_general")


@pytest.mark.parametrize("role", ROLES)
def test_keyholders_page_for_every_role(request, body, cast, role):
    user = _user(request, role)
    client = client_for(user)
    response = client.get(reverse("voting:keyholders", args=[body.slug]))
    if role is None:
        assert response.status_code == 302
        assert reverse("account_login") in response.url
    elif role in MEMBER_AREA:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_members_read_keyholders_roles_and_fingerprints(
    body, councillor, director_general, new_deputy
):
    key = sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    home = client.get(reverse("home")).content.decode()
    url = reverse("voting:keyholders", args=[body.slug])
    assert url in home
    page = client.get(url).content.decode()
    assert director_general.display_name in page and "Director-general" in page
    assert key.fingerprint in page
    assert new_deputy.display_name in page
    assert "awaiting the director-general" in page
    assert "no key set up" in page


def test_the_dg_is_led_to_the_confirmation_page(body, director_general, councillor):
    url = reverse("keyholder_confirm", args=[body.slug])
    assert url in client_for(director_general).get(reverse("home")).content.decode()
    assert url not in client_for(councillor).get(reverse("home")).content.decode()


def test_keyholders_page_costs_the_same_however_many_keyholders(
    body, councillor, director_general, new_deputy, django_assert_num_queries
):
    """Session, user, body, roles; the mandates, their confirmations, the keys."""
    client = client_for(councillor)
    url = reverse("voting:keyholders", args=[body.slug])
    client.get(url)
    with django_assert_num_queries(7):
        client.get(url)
    for _ in range(3):
        person = make_user()
        call_command(
            "keyholder_mandate",
            "create",
            "--email",
            person.email,
            "--body",
            body.slug,
            "--role",
            Role.DEPUTY_DIRECTOR_GENERAL,
        )
    with django_assert_num_queries(7):
        page = client.get(url).content.decode()
    assert person.display_name in page


def test_the_director_general_is_listed_first(body, director_general, new_deputy):
    assert [k.person for k in keyholders(body)][0] == director_general
