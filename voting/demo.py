"""The voting part of the demo: sealing keys and appointment candidates."""

import datetime

from meetings.models import AgendaItem
from voting.models import Candidate, SealingKey
from voting.services.keys import sealing_key_setup

# Demo only: a real keyholder chooses a passphrase the server never sees twice.
DEMO_SEALING_PASSPHRASE = "demo-sealing-passphrase"

DEMO_CANDIDATES = [
    ("Claire Dumont", datetime.date(1971, 4, 12)),
    ("Marc Lefèvre", datetime.date(1965, 11, 3)),
    ("Nadia Benali", datetime.date(1983, 7, 28)),
]


def seed(cast) -> None:
    """Give both keyholders a key and every appointment item its candidates."""
    for holder in (cast.director_general, cast.deputy_director_general):
        if not SealingKey.objects.filter(
            holder=holder, body=cast.body, active=True
        ).exists():
            sealing_key_setup(
                body=cast.body,
                holder=holder,
                passphrase=DEMO_SEALING_PASSPHRASE,
                confirm=DEMO_SEALING_PASSPHRASE,
            )
    items = AgendaItem.objects.filter(
        meeting__body=cast.body, kind=AgendaItem.Kind.APPOINTMENT, polls__isnull=True
    ).distinct()
    for item in items:
        for name, born in DEMO_CANDIDATES:
            Candidate.objects.get_or_create(
                item=item, name=name, defaults={"birth_date": born}
            )
    entry = ("Sealing passphrase (DG, deputy)", DEMO_SEALING_PASSPHRASE)
    if entry not in cast.logins:
        cast.logins.append(entry)
