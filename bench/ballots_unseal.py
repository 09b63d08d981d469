"""Benchmark (b): close and unseal a secret poll of N ballots (default 2,000).

Creates N present members and an open secret poll, seals N ballots through
the product's casting service, then times closing (counting, rewriting the
participations) and unsealing (Argon2id key derivation, opening the poll key,
decrypting and tallying every ballot) separately.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/council_bench \\
    DJANGO_SECRET_KEY=bench .venv/bin/python bench/ballots_unseal.py --ballots 2000
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=2000)
    parser.add_argument(
        "--kdf",
        choices=["interactive", "moderate", "sensitive"],
        default="moderate",
        help="Argon2id cost of the keyholder's key (libsodium presets)",
    )
    args = parser.parse_args()
    if not 1 <= args.ballots <= 20000:
        sys.exit("--ballots 1..20000")

    import django
    import nacl.pwhash

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from council.models import Body, Mandate, User
    from meetings.models import AgendaItem, AttendanceEvent, Meeting
    from voting.services.ballots import secret_ballot_cast
    from voting.services.keys import sealing_key_setup
    from voting.services.polls import poll_close, poll_open, poll_unseal

    argon = nacl.pwhash.argon2id
    settings.SEALING_KDF_OPSLIMIT = getattr(argon, f"OPSLIMIT_{args.kdf.upper()}")
    settings.SEALING_KDF_MEMLIMIT = getattr(argon, f"MEMLIMIT_{args.kdf.upper()}")
    call_command("migrate", verbosity=0)
    run = f"{time.time_ns():x}"
    n = args.ballots
    body = Body.objects.create(
        name=f"Unseal bench {run}",
        slug=f"unseal-{run}",
        kind=Body.Kind.MUNICIPAL_COUNCIL,
        municipality="Bench",
        language="en",
        seats=n,
    )
    users = User.objects.bulk_create(
        User(email=f"u{i}-{run}@bench.example", password="!") for i in range(n)
    )
    start = timezone.localdate() - timezone.timedelta(days=30)
    Mandate.objects.bulk_create(
        Mandate(
            person=u,
            body=body,
            role=Mandate.Role.CHAIR if i == 0 else Mandate.Role.COUNCILLOR,
            start=start,
        )
        for i, u in enumerate(users)
    )
    dg = User.objects.create_user(email=f"dg-{run}@bench.example", password=None)
    Mandate.objects.create(
        person=dg, body=body, role=Mandate.Role.DIRECTOR_GENERAL, start=start
    )
    passphrase = "bench passphrase of the DG"
    key = sealing_key_setup(body=body, by=dg, passphrase=passphrase, confirm=passphrase)
    meeting = Meeting.objects.create(
        body=body,
        number=1,
        title="Bench",
        starts_at=timezone.now(),
        state=Meeting.State.IN_SESSION,
    )
    item = AgendaItem.objects.create(
        meeting=meeting, position=1, title="Secret", vote_kind="secret"
    )
    meeting.current_item = item
    meeting.save()
    AttendanceEvent.objects.bulk_create(
        AttendanceEvent(meeting=meeting, person=u, kind="arrived", at=timezone.now())
        for u in users
    )
    poll = poll_open(item=item, by=users[0])
    began = time.perf_counter()
    for i, user in enumerate(users):
        secret_ballot_cast(poll=poll, by=user, choice=("yes", "no", "abstain")[i % 3])
    casting = time.perf_counter() - began

    from voting.services.sealing import unlock_keyholder_key

    k0 = time.perf_counter()
    unlock_keyholder_key(key, passphrase)
    kdf = time.perf_counter() - k0

    t0 = time.perf_counter()
    poll = poll_close(poll=poll, by=users[0])
    t1 = time.perf_counter()
    poll = poll_unseal(poll=poll, by=dg, passphrase=passphrase)
    t2 = time.perf_counter()
    assert poll.tally["yes"] + poll.tally["no"] + poll.tally["abstain"] == n
    print(
        f"{n} ballots; Argon2id {args.kdf}: opslimit={key.opslimit}, "
        f"memlimit={key.memlimit // (1024 * 1024)} MiB"
    )
    print(f"casting (sequential, in process, for setup): {casting:.1f} s")
    print(f"close: {t1 - t0:.3f} s; unseal: {t2 - t1:.3f} s; total {t2 - t0:.3f} s")
    print(f"of which the key derivation alone: {kdf:.3f} s")
    print(f"tally: {poll.tally}")


if __name__ == "__main__":
    main()
