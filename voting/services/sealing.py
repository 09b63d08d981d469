"""Sealing with libsodium (PyNaCl): keyholder keys, poll keys, sealed ballots.

- A keyholder's X25519 private key is stored encrypted with a SecretBox whose
  key is derived from their passphrase by Argon2id; the passphrase is never
  stored. The salt and the cost parameters are stored with the key.
- Each secret poll gets its own key pair when it opens; its private key is
  stored only as a SealedBox to each keyholder's public key.
- Each ballot is a SealedBox to the poll's public key of the choice padded to
  a fixed length, so every ciphertext of every poll has the same size.
- Every keyholder's public key, and each poll's public key with its seals,
  carry an HMAC under ``settings.POLL_KEY_SECRET``, which is not in the
  database: a key someone wrote into the database does not verify.
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from django.conf import settings
from nacl.public import PrivateKey, PublicKey, SealedBox

PADDED_LENGTH = 64  # bytes of plaintext in every ballot, whatever the choice
MIN_PASSPHRASE_LENGTH = 12


class SealingError(Exception):
    """A key or ballot could not be opened (wrong passphrase, tampering)."""


def kdf_limits() -> tuple[int, int]:
    """Argon2id cost: moderate by default, raised in production by settings."""
    return (
        getattr(
            settings, "SEALING_KDF_OPSLIMIT", nacl.pwhash.argon2id.OPSLIMIT_MODERATE
        ),
        getattr(
            settings, "SEALING_KDF_MEMLIMIT", nacl.pwhash.argon2id.MEMLIMIT_MODERATE
        ),
    )


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode(),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )


def new_keyholder_key(passphrase: str) -> dict:
    """A fresh key pair, its private half locked by the passphrase."""
    opslimit, memlimit = kdf_limits()
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    private = PrivateKey.generate()
    box = nacl.secret.SecretBox(_derive(passphrase, salt, opslimit, memlimit))
    return {
        "public_key": bytes(private.public_key),
        "encrypted_private_key": bytes(box.encrypt(bytes(private))),
        "salt": salt,
        "opslimit": opslimit,
        "memlimit": memlimit,
    }


def unlock_keyholder_key(sealing_key, passphrase: str) -> PrivateKey:
    box = nacl.secret.SecretBox(
        _derive(
            passphrase,
            bytes(sealing_key.salt),
            sealing_key.opslimit,
            sealing_key.memlimit,
        )
    )
    try:
        return PrivateKey(box.decrypt(bytes(sealing_key.encrypted_private_key)))
    except nacl.exceptions.CryptoError as exc:
        raise SealingError("wrong passphrase") from exc


def new_poll_key(keyholder_public_keys: list[bytes]) -> tuple[bytes, list[bytes]]:
    """The poll's public key, and its private key sealed to each keyholder."""
    private = PrivateKey.generate()
    sealed = [
        bytes(SealedBox(PublicKey(public)).encrypt(bytes(private)))
        for public in keyholder_public_keys
    ]
    # The only copy of the poll's private key in clear is this local variable.
    return bytes(private.public_key), sealed


def open_poll_key(
    sealed_private_key: bytes, keyholder_private: PrivateKey
) -> PrivateKey:
    try:
        return PrivateKey(SealedBox(keyholder_private).decrypt(sealed_private_key))
    except nacl.exceptions.CryptoError as exc:
        raise SealingError("this poll key was not sealed to this keyholder") from exc


def pad(choice: str) -> bytes:
    raw = choice.encode()
    if len(raw) >= PADDED_LENGTH:
        raise ValueError("choice too long")
    # One length byte, the choice, then random filler up to the fixed size.
    filler = secrets.token_bytes(PADDED_LENGTH - 1 - len(raw))
    return bytes([len(raw)]) + raw + filler


def unpad(data: bytes) -> str:
    if len(data) != PADDED_LENGTH or data[0] >= PADDED_LENGTH:
        raise SealingError("malformed ballot")
    return data[1 : 1 + data[0]].decode()


def seal_choice(choice: str, poll_public_key: bytes) -> bytes:
    return bytes(SealedBox(PublicKey(bytes(poll_public_key))).encrypt(pad(choice)))


def open_choice(ciphertext: bytes, poll_private: PrivateKey) -> str:
    try:
        return unpad(SealedBox(poll_private).decrypt(bytes(ciphertext)))
    except nacl.exceptions.CryptoError as exc:
        raise SealingError("a ballot does not open with the poll key") from exc


def tracker_of(ciphertext: bytes) -> str:
    """The voter's receipt: the hash of the ballot exactly as stored."""
    return hashlib.sha256(bytes(ciphertext)).hexdigest()


# ---- binding keys to the server's secret --------------------------------------


def fingerprint(public_key: bytes) -> str:
    """A public key's name for people to compare: 128 bits of its SHA-256."""
    digest = hashlib.sha256(bytes(public_key)).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def _tag(label: str, material) -> str:
    message = json.dumps([label, material], separators=(",", ":"))
    return hmac.new(
        settings.POLL_KEY_SECRET, message.encode(), hashlib.sha256
    ).hexdigest()


def sealing_key_tag(*, holder_id: int, body_id: int, public_key: bytes) -> str:
    """The binding of a keyholder's public key to them and to the body."""
    return _tag("sealing-key.v1", [holder_id, body_id, bytes(public_key).hex()])


def poll_key_tag(
    *, poll_id: int, public_key: bytes, seals: Iterable[tuple[int, bytes, bytes]]
) -> str:
    """The binding of a poll's public key and of its seals to the poll.

    ``seals``: (keyholder id, the keyholder's public key, the sealed private
    key) for every seal; their order does not matter.
    """
    rows = sorted(
        [holder_id, bytes(holder_key).hex(), bytes(sealed).hex()]
        for holder_id, holder_key, sealed in seals
    )
    return _tag("poll-key.v1", [poll_id, bytes(public_key).hex(), rows])


def tags_match(expected: str, stored: str | None) -> bool:
    return bool(stored) and hmac.compare_digest(expected, str(stored))
