"""A database write cannot substitute a poll's key, nor a keyholder's.

The attack of issue 11: someone who can write the database (not the server's
configuration) replaces ``voting_poll.public_key`` with a key of their own and
re-seals their private key to each keyholder's public key, so that members
seal to them. Or they write their own public key into a keyholder's sealing
key, so that the next poll is sealed to them. Each is tried here with direct
SQL / ORM updates, as such a person would.
"""

import hashlib
import hmac

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from nacl.public import PrivateKey, PublicKey, SealedBox

from council.models import AuditEntry
from council.refusals import Refusal
from meetings.models import AgendaItem
from tests.conftest import client_for
from tests.council.test_settings import _child, settings_error
from tests.factories import make_item
from tests.voting.conftest import PASSPHRASE, recent_client
from voting.models import Ballot, Participation, Poll, PollKeySeal, SealingKey
from voting.services import sealing
from voting.services.ballots import secret_ballot_cast
from voting.services.keys import (
    POLL_KEY_ALARM,
    POLL_KEY_MISMATCH,
    POLL_KEY_MISMATCH_UNSEAL,
    SEALING_KEY_ALARM,
    SEALING_KEY_FORGED,
    poll_key_is_bound,
)
from voting.services.polls import poll_close, poll_open, poll_unseal

pytestmark = pytest.mark.django_db


def _swap_poll_key(poll: Poll) -> PrivateKey:
    """The attack: one's own poll key, its private half sealed to each keyholder."""
    mine = PrivateKey.generate()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE voting_poll SET public_key = %s WHERE id = %s",
            [bytes(mine.public_key), poll.pk],
        )
    for seal in PollKeySeal.objects.filter(poll=poll).select_related("sealing_key"):
        resealed = SealedBox(PublicKey(bytes(seal.sealing_key.public_key))).encrypt(
            bytes(mine)
        )
        PollKeySeal.objects.filter(pk=seal.pk).update(sealed_private_key=resealed)
    return mine


def _fresh(poll: Poll) -> Poll:
    # What the next request reads: the view loads the poll row again.
    return Poll.objects.select_related("item__meeting__body").get(pk=poll.pk)


def _keyholder_addresses(*people) -> set[str]:
    return {p.email for p in people}


# ---- the swapped poll key -------------------------------------------------------


def test_a_swapped_poll_key_stops_the_next_cast_with_an_alarm(
    secret_poll, members, councillor, director_general, deputy_director_general
):
    chair = members[0]
    assert secret_ballot_cast(poll=secret_poll, by=chair, choice="yes").recorded
    mail.outbox.clear()
    attacker_key = _swap_poll_key(secret_poll)

    response = recent_client(councillor).post(
        reverse("voting:cast", args=[secret_poll.pk]), {"choice": "no"}
    )

    assert response.status_code == 409
    with translation.override("en"):
        assert escape(str(POLL_KEY_MISMATCH)) in response.content.decode()
    # Nothing was sealed to the attacker's key.
    assert Ballot.objects.filter(poll=secret_poll).count() == 1
    assert not Participation.objects.filter(member=councillor).exists()
    for ciphertext in Ballot.objects.values_list("ciphertext", flat=True):
        with pytest.raises(sealing.SealingError):
            sealing.open_choice(bytes(ciphertext), attacker_key)
    # The vote is stopped, recorded, and the keyholders told.
    poll = _fresh(secret_poll)
    assert poll.key_alarm_at is not None
    alarm = AuditEntry.objects.get(action=POLL_KEY_ALARM)
    assert alarm.object_id == str(poll.pk) and alarm.details["during"] == "cast"
    assert alarm.details["key_fingerprint"] == sealing.fingerprint(
        bytes(attacker_key.public_key)
    )
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == _keyholder_addresses(
        director_general, deputy_director_general
    )
    assert poll.item.title in mail.outbox[0].body


def test_a_stopped_vote_stays_stopped_and_alerts_once(secret_poll, members):
    _swap_poll_key(secret_poll)
    for member in members[:3]:
        with pytest.raises(Refusal) as refused:
            secret_ballot_cast(poll=_fresh(secret_poll), by=member, choice="yes")
        assert refused.value.message == POLL_KEY_MISMATCH
    assert AuditEntry.objects.filter(action=POLL_KEY_ALARM).count() == 1
    assert len(mail.outbox) == 1
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_putting_the_key_back_does_not_restart_a_stopped_vote(secret_poll, members):
    original = bytes(secret_poll.public_key)
    seals = {s.pk: bytes(s.sealed_private_key) for s in secret_poll.seals.all()}
    _swap_poll_key(secret_poll)
    with pytest.raises(Refusal):
        secret_ballot_cast(poll=_fresh(secret_poll), by=members[1], choice="yes")
    Poll.objects.filter(pk=secret_poll.pk).update(public_key=original)
    for pk, sealed in seals.items():
        PollKeySeal.objects.filter(pk=pk).update(sealed_private_key=sealed)
    assert poll_key_is_bound(_fresh(secret_poll))
    with pytest.raises(Refusal):
        secret_ballot_cast(poll=_fresh(secret_poll), by=members[2], choice="yes")


def test_the_binding_cannot_be_recomputed_without_the_server_secret(
    secret_poll, members, settings
):
    """An attacker with the database but another secret computes a wrong tag."""
    mine = _swap_poll_key(secret_poll)
    settings_secret = settings.POLL_KEY_SECRET
    settings.POLL_KEY_SECRET = b"what a copy of the database does not have"
    forged = sealing.poll_key_tag(
        poll_id=secret_poll.pk,
        public_key=bytes(mine.public_key),
        seals=[
            (
                s.sealing_key.holder_id,
                bytes(s.sealing_key.public_key),
                bytes(s.sealed_private_key),
            )
            for s in PollKeySeal.objects.filter(poll=secret_poll).select_related(
                "sealing_key"
            )
        ],
    )
    settings.POLL_KEY_SECRET = settings_secret
    Poll.objects.filter(pk=secret_poll.pk).update(key_binding=forged)
    with pytest.raises(Refusal) as refused:
        secret_ballot_cast(poll=_fresh(secret_poll), by=members[1], choice="yes")
    assert refused.value.message == POLL_KEY_MISMATCH


def test_a_seal_pointed_at_another_key_stops_the_vote(
    secret_poll, members, director_general, administrator
):
    """The attacker's own key row, made to look like the DG's seal."""
    material = sealing.new_keyholder_key("the administrator's passphrase")
    theirs = SealingKey.objects.create(
        holder=administrator, body=secret_poll.item.meeting.body, **material
    )
    PollKeySeal.objects.filter(
        poll=secret_poll, sealing_key__holder=director_general
    ).update(sealing_key=theirs)
    with pytest.raises(Refusal) as refused:
        secret_ballot_cast(poll=_fresh(secret_poll), by=members[1], choice="yes")
    assert refused.value.message == POLL_KEY_MISMATCH


def test_an_honest_poll_takes_ballots_and_unseals(
    secret_poll, members, director_general
):
    for member in members[:4]:
        assert secret_ballot_cast(poll=_fresh(secret_poll), by=member, choice="yes")
    poll_close(poll=secret_poll, by=members[0])
    poll = poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    assert poll.tally["yes"] == 4
    assert not AuditEntry.objects.filter(action=POLL_KEY_ALARM).exists()
    assert mail.outbox == []


# ---- unsealing -------------------------------------------------------------------


def test_unsealing_a_swapped_key_refuses_and_alerts(
    secret_poll, members, director_general
):
    for member in members[:3]:
        secret_ballot_cast(poll=_fresh(secret_poll), by=member, choice="yes")
    poll_close(poll=secret_poll, by=members[0])
    _swap_poll_key(secret_poll)
    with pytest.raises(Refusal) as refused:
        poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    assert refused.value.message == POLL_KEY_MISMATCH_UNSEAL
    poll = _fresh(secret_poll)
    assert poll.state == Poll.State.CLOSED and poll.tally is None
    alarm = AuditEntry.objects.get(action=POLL_KEY_ALARM)
    assert alarm.details["during"] == "unseal"
    assert len(mail.outbox) == 1


def test_the_unseal_page_says_why(secret_poll, members, director_general):
    secret_ballot_cast(poll=_fresh(secret_poll), by=members[1], choice="yes")
    poll_close(poll=secret_poll, by=members[0])
    _swap_poll_key(secret_poll)
    response = recent_client(director_general).post(
        reverse("voting:unseal", args=[secret_poll.pk]), {"passphrase": PASSPHRASE}
    )
    assert response.status_code == 400
    with translation.override("en"):
        assert escape(str(POLL_KEY_MISMATCH_UNSEAL)) in response.content.decode()


# ---- verify and oversight say so -------------------------------------------------


def test_verify_poll_keys_reports_the_swap(secret_poll, capsys):
    call_command("verify_poll_keys")
    assert "Every key verifies: 1 secret poll" in capsys.readouterr().out
    _swap_poll_key(secret_poll)
    with pytest.raises(CommandError, match="1 key"):
        call_command("verify_poll_keys")
    assert f"poll #{secret_poll.pk}" in capsys.readouterr().err


def test_verify_poll_keys_reports_a_forged_sealing_key(keys, capsys):
    SealingKey.objects.filter(pk=keys[0].pk).update(
        public_key=bytes(PrivateKey.generate().public_key)
    )
    with pytest.raises(CommandError):
        call_command("verify_poll_keys")
    assert f"sealing key #{keys[0].pk}" in capsys.readouterr().err


def test_oversight_and_poll_page_show_a_stopped_vote(
    secret_poll, members, director_general, councillor, body
):
    _swap_poll_key(secret_poll)
    with pytest.raises(Refusal):
        secret_ballot_cast(poll=_fresh(secret_poll), by=members[1], choice="yes")
    client = client_for(director_general)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("minutes:oversight", args=[body.slug])).content.decode()
    assert "Secret ballots stopped: their key was altered" in page
    assert secret_poll.get_absolute_url() in page
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    page = client.get(secret_poll.get_absolute_url()).content.decode()
    assert "does not match what the server sealed" in page


# ---- keyholders' sealing keys ------------------------------------------------------


def _secret_item(sitting):
    return make_item(sitting, vote_kind=AgendaItem.VoteKind.SECRET)


def test_an_administrator_key_written_over_the_dgs_is_refused_at_opening(
    sitting, chair, keys, director_general, deputy_director_general
):
    mine = PrivateKey.generate()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE voting_sealingkey SET public_key = %s WHERE id = %s",
            [bytes(mine.public_key), keys[0].pk],
        )
    item = _secret_item(sitting)
    with pytest.raises(Refusal) as refused:
        poll_open(item=item, by=chair)
    assert refused.value.message == SEALING_KEY_FORGED
    assert not Poll.objects.filter(item=item).exists()
    alarm = AuditEntry.objects.get(action=SEALING_KEY_ALARM)
    assert [k["key"] for k in alarm.details["keys"]] == [keys[0].pk]
    assert alarm.details["keys"][0]["fingerprint"] == sealing.fingerprint(
        bytes(mine.public_key)
    )
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == _keyholder_addresses(
        director_general, deputy_director_general
    )


def test_a_sealing_key_row_inserted_for_the_dg_is_refused_at_opening(
    sitting, chair, keys, director_general
):
    """Deactivate the DG's key, insert one whose passphrase the attacker knows,
    even copying the genuine row's binding."""
    SealingKey.objects.filter(pk=keys[0].pk).update(active=False)
    SealingKey.objects.create(
        holder=director_general,
        body=keys[0].body,
        binding=keys[0].binding,
        **sealing.new_keyholder_key("the attacker's passphrase"),
    )
    with pytest.raises(Refusal) as refused:
        poll_open(item=_secret_item(sitting), by=chair)
    assert refused.value.message == SEALING_KEY_FORGED


def test_a_binding_copied_from_another_keyholder_does_not_verify(sitting, chair, keys):
    SealingKey.objects.filter(pk=keys[1].pk).update(
        public_key=bytes(keys[0].public_key), binding=keys[0].binding
    )
    with pytest.raises(Refusal):
        poll_open(item=_secret_item(sitting), by=chair)


# ---- fingerprints: in the audit log and on the poll page -------------------------


def test_the_opening_entry_names_every_key_fingerprint(secret_poll, keys):
    entry = AuditEntry.objects.get(action="voting.poll.open", object_id=secret_poll.pk)
    assert entry.details["key_fingerprint"] == secret_poll.key_fingerprint
    assert sorted(
        (k["holder"], k["fingerprint"]) for k in entry.details["sealing_keys"]
    ) == sorted((k.holder_id, k.fingerprint) for k in keys)
    assert len(secret_poll.key_fingerprint.replace(" ", "")) == 32


def test_the_poll_page_shows_who_can_unseal(
    secret_poll, keys, councillor, director_general, deputy_director_general
):
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    page = client.get(secret_poll.get_absolute_url()).content.decode()
    assert "Who can unseal this ballot" in page
    assert secret_poll.key_fingerprint in page
    for person, role, key in (
        (director_general, "Director-general", keys[0]),
        (deputy_director_general, "Deputy director-general", keys[1]),
    ):
        assert person.display_name in page
        assert role in page
        assert key.fingerprint in page


def test_a_public_vote_page_lists_no_keys(public_poll, councillor):
    page = client_for(councillor).get(public_poll.get_absolute_url()).content
    assert b"poll-keys" not in page


# ---- configuration ---------------------------------------------------------------

_PROBE = """
import hashlib, hmac, council.settings as s
print(hmac.new(s.POLL_KEY_SECRET, b"probe", hashlib.sha256).hexdigest())
"""


def _probe(**env) -> str:
    base = {"POLL_KEY_SECRET": None, "POLL_KEY_SECRET_FILE": None}
    result = _child(_PROBE, **(base | env))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_secret_is_derived_under_its_own_label_or_read_from_a_file(tmp_path):
    derived = _probe(DJANGO_SECRET_KEY="secret-one")
    assert derived == _probe(DJANGO_SECRET_KEY="secret-one")
    assert derived != _probe(DJANGO_SECRET_KEY="secret-two")
    audit = _child(
        "import hashlib, hmac, council.settings as s\n"
        "print(hmac.new(s.AUDIT_KEY, b'probe', hashlib.sha256).hexdigest())",
        DJANGO_SECRET_KEY="secret-one",
        AUDIT_KEY=None,
        AUDIT_KEY_FILE=None,
    )
    assert derived != audit.stdout.strip().splitlines()[-1]
    secret = "p" * 40
    (tmp_path / "poll-key-secret").write_text(secret + "\n")
    expected = hmac.new(secret.encode(), b"probe", hashlib.sha256).hexdigest()
    assert _probe(POLL_KEY_SECRET=secret) == expected
    assert _probe(POLL_KEY_SECRET_FILE=str(tmp_path / "poll-key-secret")) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POLL_KEY_SECRET": "short"}, "POLL_KEY_SECRET (or POLL_KEY_SECRET_FILE)"),
        ({"POLL_KEY_SECRET_FILE": "/nonexistent/secret"}, "cannot be read"),
        ({"POLL_KEY_SECRET_FILE": "/dev/null"}, "is 0 characters long"),
    ],
    ids=["short", "missing-file", "empty-file"],
)
def test_a_bad_poll_key_secret_stops_start_up(env, message):
    assert message in settings_error(**env)


def test_the_keyholders_page_flags_a_key_written_into_the_database(
    keys, body, councillor
):
    genuine = keys[0].fingerprint
    forged = bytes(PrivateKey.generate().public_key)
    SealingKey.objects.filter(pk=keys[0].pk).update(public_key=forged)
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("voting:keyholders", args=[body.slug])).content.decode()
    assert sealing.fingerprint(forged) in page and genuine not in page
    assert page.count("does not match what the server recorded") == 1
