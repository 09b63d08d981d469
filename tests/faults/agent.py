"""The harness's hands in the database: a Django process reading JSON commands.

Run by the harness as ``python -m tests.faults.agent`` with the environment of
the servers (its own database). It reads one JSON object per line on stdin,
``{"command": name, ...arguments}``, and answers one line on stdout:
``{"ok": result}`` or ``{"error": traceback}``. It seeds the council and each
sitting, and reads what an administrator would read: the register, the
votes, the sitting's version. Its connection is closed after every command,
so a terminated backend never outlives one answer.
"""

import datetime
import json
import os
import sys
import traceback

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")

import django  # noqa: E402

django.setup()

import nacl.pwhash  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from council.models import User  # noqa: E402
from meetings.models import (  # noqa: E402
    AgendaItem,
    AttendanceEvent,
    LiveConnection,
    Meeting,
    SittingState,
)
from meetings.register import Register  # noqa: E402
from tests.factories import Role, make_body, make_group, make_member  # noqa: E402
from voting.models import Ballot, Participation, Poll, PublicVote  # noqa: E402
from voting.services.keys import sealing_key_setup  # noqa: E402

SEALING_PASSPHRASE = "fault-harness-passphrase"


def _person(user: User) -> dict:
    return {"id": user.pk, "email": user.email, "name": user.display_name}


def setup_council(*, members: int, password: str) -> dict:
    """A body of ``members`` seats: a chair and councillors, a clerk, a DG."""
    body = make_body(name="Conseil des pannes", language="en", seats=members)
    group = make_group(body, name="Groupe des pannes", short_name="GP")
    chair = make_member(body, Role.CHAIR, group=group, password=None)
    councillors = [
        make_member(body, Role.COUNCILLOR, group=group, password=None)
        for _ in range(members - 1)
    ]
    clerk = make_member(body, Role.CLERK, password=None)
    dg = make_member(body, Role.DIRECTOR_GENERAL, password=None)
    people = [chair, *councillors, clerk, dg]
    # One hash for everyone: the real hasher is slow on purpose.
    User.objects.filter(pk__in=[p.pk for p in people]).update(
        password=make_password(password)
    )
    # The keyholder's key, at libsodium's lowest cost: this key opens nothing
    # the tests read, and the moderate cost takes a quarter of a gigabyte.
    settings.SEALING_KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MIN
    settings.SEALING_KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MIN
    sealing_key_setup(
        body=body, by=dg, passphrase=SEALING_PASSPHRASE, confirm=SEALING_PASSPHRASE
    )
    return {
        "body": body.pk,
        "slug": body.slug,
        "chair": _person(chair),
        "members": [_person(p) for p in [chair, *councillors]],
        "clerk": _person(clerk),
        "director_general": _person(dg),
    }


def new_sitting(*, body: int, title: str) -> dict:
    """A hybrid sitting in session on a public roll-call item, a secret one next."""
    now = timezone.now()
    number = (Meeting.objects.filter(body_id=body).count() or 0) + 1
    meeting = Meeting.objects.create(
        body_id=body,
        number=number,
        title=title,
        starts_at=now,
        opened_at=now,
        mode=Meeting.Mode.HYBRID,
        place="Hôtel de ville",
        state=Meeting.State.IN_SESSION,
    )
    public = AgendaItem.objects.create(
        meeting=meeting,
        position=1,
        title="Budget (roll-call)",
        vote_kind=AgendaItem.VoteKind.PUBLIC,
    )
    secret = AgendaItem.objects.create(
        meeting=meeting,
        position=2,
        title="Motion (secret ballot)",
        vote_kind=AgendaItem.VoteKind.SECRET,
    )
    meeting.current_item = public
    meeting.save(update_fields=["current_item"])
    return {"meeting": meeting.pk, "public_item": public.pk, "secret_item": secret.pk}


def _departures(meeting: Meeting, since: str | None) -> list[dict]:
    events = AttendanceEvent.objects.filter(
        meeting=meeting, kind=AttendanceEvent.Kind.LEFT
    )
    if since:
        events = events.filter(at__gte=datetime.datetime.fromisoformat(since))
    return [
        {"person": person, "cause": cause, "at": at.isoformat()}
        for person, cause, at in events.order_by("at").values_list(
            "person_id", "cause", "at"
        )
    ]


def register(*, meeting: int) -> dict:
    """The register as the clerk's page reads it, and the sitting's versions."""
    sitting = Meeting.objects.select_related("body", "current_item").get(pk=meeting)
    register = Register.of(sitting)
    quorum = register.quorum(sitting.current_item)
    state = SittingState.objects.filter(pk=meeting).first()
    return {
        "present_ids": sorted(register.present_ids()),
        "quorum": quorum.as_dict(),
        "departures": _departures(sitting, None),
        "version": state.version if state else 0,
        "published_version": state.published_version if state else 0,
        "live_connections": LiveConnection.objects.filter(meeting=sitting).count(),
    }


def versions(*, meeting: int) -> dict:
    state = SittingState.objects.filter(pk=meeting).first()
    return {
        "version": state.version if state else 0,
        "published_version": state.published_version if state else 0,
    }


def current_poll(*, item: int) -> int | None:
    poll = Poll.objects.filter(item_id=item).order_by("-round_number").first()
    return poll.pk if poll else None


def votes(*, poll: int) -> dict:
    """What the tables hold for the poll: public votes, participations, ballots."""
    return {
        "public": [
            [member, choice]
            for member, choice in PublicVote.objects.filter(poll_id=poll)
            .order_by("member_id")
            .values_list("member_id", "choice")
        ],
        "participations": sorted(
            Participation.objects.filter(poll_id=poll).values_list(
                "member_id", flat=True
            )
        ),
        "ballots": Ballot.objects.filter(poll_id=poll).count(),
    }


def terminate_backends() -> int:
    """End every other connection to this database, as an administrator would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def backends() -> int:
    """How many other connections this database has now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


COMMANDS = {
    f.__name__: f
    for f in (
        setup_council,
        new_sitting,
        register,
        versions,
        current_poll,
        votes,
        terminate_backends,
        backends,
    )
}


def main() -> None:
    out = sys.stdout
    # Only answers go to stdout; anything Django prints goes to the log.
    sys.stdout = sys.stderr
    out.write(json.dumps({"ok": "ready"}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            command = COMMANDS[request.pop("command")]
            answer = {"ok": command(**request)}
        except Exception:
            answer = {"error": traceback.format_exc()}
        finally:
            connections.close_all()
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
