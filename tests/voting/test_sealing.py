"""Sealing: keys, unsealing with the passphrase, who sees what, trackers."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from nacl.public import PrivateKey, SealedBox

from council.models import AuditEntry
from council.refusals import Refusal
from tests.voting.conftest import PASSPHRASE
from voting.models import Ballot, Poll, SealingKey
from voting.selectors import box_of, may_see_tally
from voting.services import sealing
from voting.services.ballots import secret_ballot_cast
from voting.services.keys import (
    PASSPHRASE_TOO_SHORT,
    PASSPHRASES_DIFFER,
    sealing_key_setup,
)
from voting.services.polls import (
    BALLOT_CORRUPT,
    NOT_CLOSED,
    WRONG_PASSPHRASE,
    poll_announce,
    poll_close,
    poll_unseal,
)

pytestmark = pytest.mark.django_db


def cast_all(poll, members, choices):
    return [
        secret_ballot_cast(poll=poll, by=m, choice=c).tracker
        for m, c in zip(members, choices, strict=True)
    ]


def test_key_setup_stores_no_passphrase_and_no_clear_key(body, director_general):
    key = sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    stored = b"".join(
        bytes(getattr(key, f)) for f in ("public_key", "encrypted_private_key", "salt")
    )
    assert PASSPHRASE.encode() not in stored
    private = sealing.unlock_keyholder_key(key, PASSPHRASE)
    assert bytes(private.public_key) == bytes(key.public_key)
    assert bytes(private) not in bytes(key.encrypted_private_key)
    assert key.opslimit > 0 and key.memlimit > 0 and len(bytes(key.salt)) == 16


@pytest.mark.parametrize(
    ("passphrase", "confirm", "message"),
    [("short", "short", None), (PASSPHRASE, PASSPHRASE + "x", PASSPHRASES_DIFFER)],
)
def test_bad_passphrases_are_refused(
    body, director_general, passphrase, confirm, message
):
    with pytest.raises(Refusal) as exc:
        sealing_key_setup(
            body=body, by=director_general, passphrase=passphrase, confirm=confirm
        )
    expected = message or PASSPHRASE_TOO_SHORT % {"n": sealing.MIN_PASSPHRASE_LENGTH}
    assert str(exc.value) == str(expected)
    assert not SealingKey.objects.exists()


@pytest.mark.parametrize("role", ["chair", "councillor", "clerk", "administrator"])
def test_only_keyholders_set_up_keys(request, body, role):
    with pytest.raises(PermissionDenied):
        sealing_key_setup(
            body=body,
            by=request.getfixturevalue(role),
            passphrase=PASSPHRASE,
            confirm=PASSPHRASE,
        )


def test_a_new_key_replaces_the_old_for_new_polls(body, director_general, keys):
    new = sealing_key_setup(
        body=body, by=director_general, passphrase=PASSPHRASE, confirm=PASSPHRASE
    )
    assert list(SealingKey.objects.filter(holder=director_general, active=True)) == [
        new
    ]


def test_dg_unseals_and_announces(secret_poll, members, chair, director_general):
    cast_all(secret_poll, members, ["yes"] * 5 + ["no"] * 2 + ["abstain"] * 2)
    poll_close(poll=secret_poll, by=chair)
    poll = poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    assert poll.state == Poll.State.UNSEALED
    assert (poll.tally["yes"], poll.tally["no"], poll.tally["abstain"]) == (5, 2, 2)
    assert poll.decision == "adopted"
    assert not poll.result_is_public
    unseal_entry = AuditEntry.objects.get(action="voting.poll.unseal")
    assert "tally" not in unseal_entry.details
    poll = poll_announce(poll=poll, by=director_general)
    assert poll.state == Poll.State.ANNOUNCED and poll.result_is_public


def test_deputy_unseals_with_own_passphrase(
    secret_poll, members, chair, deputy_director_general
):
    cast_all(secret_poll, members[:3], ["no", "no", "yes"])
    poll_close(poll=secret_poll, by=chair)
    poll = poll_unseal(
        poll=secret_poll, by=deputy_director_general, passphrase=PASSPHRASE + "!"
    )
    assert poll.decision == "rejected"


def test_deputy_cannot_announce(secret_poll, chair, deputy_director_general):
    poll_close(poll=secret_poll, by=chair)
    poll_unseal(
        poll=secret_poll, by=deputy_director_general, passphrase=PASSPHRASE + "!"
    )
    with pytest.raises(PermissionDenied):
        poll_announce(poll=secret_poll, by=deputy_director_general)


def test_wrong_passphrase_fails_cleanly_and_changes_nothing(
    secret_poll, members, chair, director_general
):
    cast_all(secret_poll, members[:3], ["yes", "yes", "no"])
    poll_close(poll=secret_poll, by=chair)
    with pytest.raises(Refusal) as exc:
        poll_unseal(poll=secret_poll, by=director_general, passphrase="not the one")
    assert exc.value.message == WRONG_PASSPHRASE
    secret_poll.refresh_from_db()
    assert secret_poll.state == Poll.State.CLOSED
    assert secret_poll.tally is None and secret_poll.decision == ""
    assert AuditEntry.objects.filter(action="voting.poll.unseal_refused").count() == 1


def test_open_poll_cannot_be_unsealed(secret_poll, director_general):
    with pytest.raises(Refusal) as exc:
        poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    assert exc.value.message == NOT_CLOSED


@pytest.mark.parametrize(
    "role", ["chair", "councillor", "clerk", "administrator", "superuser", "outsider"]
)
def test_nobody_but_a_keyholder_unseals(request, secret_poll, chair, role):
    poll_close(poll=secret_poll, by=chair)
    with pytest.raises(PermissionDenied):
        poll_unseal(
            poll=secret_poll, by=request.getfixturevalue(role), passphrase=PASSPHRASE
        )


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("chair", False),
        ("councillor", False),
        ("clerk", False),
        ("administrator", False),
        ("superuser", False),
        ("director_general", True),
        ("deputy_director_general", True),
    ],
)
def test_unsealed_tally_is_seen_by_keyholders_alone(
    request, secret_poll, members, chair, director_general, role, sees
):
    cast_all(secret_poll, members[:2], ["yes", "no"])
    poll_close(poll=secret_poll, by=chair)
    assert not may_see_tally(request.getfixturevalue(role), secret_poll)
    poll = poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    assert may_see_tally(request.getfixturevalue(role), poll) is sees
    poll = poll_announce(poll=poll, by=director_general)
    assert may_see_tally(request.getfixturevalue(role), poll)


def test_database_alone_does_not_yield_the_tally(secret_poll, members, chair):
    """Everything stored about the poll, tried with every key stored: nothing opens."""
    cast_all(secret_poll, members, ["yes"] * 9)
    poll_close(poll=secret_poll, by=chair)
    poll = Poll.objects.get(pk=secret_poll.pk)
    assert poll.tally is None and poll.decision == ""
    stored_keys = [bytes(k.encrypted_private_key) for k in SealingKey.objects.all()]
    stored_keys += [bytes(s.sealed_private_key) for s in poll.seals.all()]
    for ciphertext in Ballot.objects.values_list("ciphertext", flat=True):
        assert b"yes" not in bytes(ciphertext)
        for candidate in stored_keys:
            # No stored blob is usable as the poll's private key.
            for start in range(0, len(candidate) - 31):
                guess = PrivateKey(candidate[start : start + 32])
                with pytest.raises(Exception):  # noqa: B017 — CryptoError
                    SealedBox(guess).decrypt(bytes(ciphertext))
            break


def test_tampered_ballot_box_is_detected(secret_poll, members, chair, director_general):
    cast_all(secret_poll, members[:2], ["yes", "no"])
    poll_close(poll=secret_poll, by=chair)
    ballot = Ballot.objects.first()
    Ballot.objects.filter(pk=ballot.pk).update(ciphertext=b"\x00" * 112)
    with pytest.raises(Refusal) as exc:
        poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    assert exc.value.message == BALLOT_CORRUPT
    secret_poll.refresh_from_db()
    assert secret_poll.state == Poll.State.CLOSED


def test_trackers_verify_the_stored_ballots(secret_poll, members, chair):
    trackers = cast_all(secret_poll, members[:4], ["yes", "no", "yes", "abstain"])
    poll = poll_close(poll=secret_poll, by=chair)
    box = box_of(poll)
    assert box == sorted(trackers)  # every voter finds theirs; hash order
    assert poll.participants == poll.ballots == 4
    for ballot in Ballot.objects.all():
        assert hashlib.sha256(bytes(ballot.ciphertext)).hexdigest() == ballot.tracker


def test_an_extra_ballot_shows_as_a_mismatch(secret_poll, members, chair):
    cast_all(secret_poll, members[:2], ["yes", "no"])
    stuffed = sealing.seal_choice("yes", bytes(secret_poll.public_key))
    Ballot.objects.create(
        poll=secret_poll, ciphertext=stuffed, tracker=sealing.tracker_of(stuffed)
    )
    poll = poll_close(poll=secret_poll, by=chair)
    assert (poll.participants, poll.ballots) == (2, 3)


def test_padding_round_trips_and_rejects_garbage():
    for choice in ["yes", "no", "abstain", "blank", "c:12345"]:
        padded = sealing.pad(choice)
        assert len(padded) == sealing.PADDED_LENGTH
        assert sealing.unpad(padded) == choice
    with pytest.raises(sealing.SealingError):
        sealing.unpad(b"\xff" * sealing.PADDED_LENGTH)
