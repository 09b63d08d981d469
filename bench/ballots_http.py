"""Benchmark (a): N members cast a secret ballot at the same moment, each twice.

Sets up a sitting of N present members and an open secret poll on PostgreSQL,
starts Daphne processes on loopback, opens 2N connections, then releases all
requests at once: every member's POST is sent twice (a double click, a retry).
The same load then hits a minimal Django view that inserts one row under the
same unique constraint (bench/baseline_urls.py). Reports stored rows,
responses by status and latency percentiles.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/council_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 REDIS_PREFIX=bench DJANGO_SECRET_KEY=bench \\
    .venv/bin/python bench/ballots_http.py --members 500 --servers 2
"""

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
# Each server process keeps at most this many PostgreSQL connections.
os.environ.setdefault("DATABASE_POOL_MAX", "20")


def setup(members: int):
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.baseline_urls import TABLE_SQL
    from council.models import Body, Mandate, User
    from meetings.models import AgendaItem, AttendanceEvent, Meeting
    from voting.services.keys import sealing_key_setup
    from voting.services.polls import poll_open

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    call_command("migrate", verbosity=0)
    run = f"{time.time_ns():x}"
    body = Body.objects.create(
        name=f"Bench {run}",
        slug=f"bench-{run}",
        kind=Body.Kind.MUNICIPAL_COUNCIL,
        municipality="Bench",
        language="en",
        seats=members,
    )
    from django.contrib.auth.hashers import make_password

    # A usable password (hashed once for all): re-authentication needs one.
    password = make_password("bench password")
    users = User.objects.bulk_create(
        User(email=f"m{i}-{run}@bench.example", password=password, first_name=f"M{i}")
        for i in range(members)
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
    sealing_key_setup(
        body=body, by=dg, passphrase="bench passphrase", confirm="bench passphrase"
    )
    meeting = Meeting.objects.create(
        body=body,
        number=1,
        title="Bench sitting",
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
    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL)
    sessions = []
    now = time.time()
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        # A recent re-authentication, as after typing the password again.
        store["account_authentication_methods"] = [
            {"method": "password", "at": now, "reauthenticated": True}
        ]
        store["account_authentication_methods_user"] = str(user.pk)
        store.create()
        sessions.append(store.session_key)
    return poll.pk, sessions


def stored(poll_id: int) -> tuple[int, int, int]:
    from django.db import connection

    from voting.models import Ballot, Participation

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM bench_participation WHERE poll_id = %s", [poll_id]
        )
        baseline = cursor.fetchone()[0]
    return (
        Ballot.objects.filter(poll_id=poll_id).count(),
        Participation.objects.filter(poll_id=poll_id).count(),
        baseline,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(app: str, count: int, logs) -> tuple[list, list[int]]:
    procs, ports = [], []
    for log in logs[:count]:
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    str(ROOT / ".venv/bin/daphne"),
                    # A deep accept queue: 2N connections arrive at once.
                    "-e",
                    f"tcp:port={port}:interface=127.0.0.1:backlog=4096",
                    app,
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                # A file, not a pipe: a full pipe would stall the server.
                stderr=log,
            )
        )
        ports.append(port)
    deadline = time.time() + 60
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    stop_servers(procs)
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
    return procs, ports


def stop_servers(procs) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


TIMEOUT = 120  # seconds: a request not answered by then counts as lost
CSRF = "b" * 32  # an unmasked CSRF secret, sent as cookie and as form field


def request_bytes(port: int, path: str, session: str) -> bytes:
    body = f"csrfmiddlewaretoken={CSRF}&choice=yes".encode()
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={session}; csrftoken={CSRF}; django_language=en\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def fire(ports: list[int], path: str, sessions: list[str], copies: int = 2):
    go = asyncio.Event()
    results: list[tuple[int, float]] = []

    async def exchange(reader, writer, payload) -> int:
        writer.write(payload)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # until the server closes
        return int(status_line.split()[1]) if status_line else 0

    async def one(port: int, session: str):
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), TIMEOUT
            )
        except (OSError, TimeoutError):
            results.append((0, 0.0))
            return
        payload = request_bytes(port, path, session)
        await go.wait()
        begun = time.perf_counter()
        try:
            status = await asyncio.wait_for(exchange(reader, writer, payload), TIMEOUT)
        except (OSError, IndexError, ValueError, TimeoutError):
            status = 0
        results.append((status, time.perf_counter() - begun))
        writer.close()

    tasks = [
        asyncio.create_task(one(ports[i % len(ports)], session))
        for i, session in enumerate(sessions)
        for _ in range(copies)
    ]
    await asyncio.sleep(2)  # every connection is open before the signal
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    return results, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def report(label: str, results, wall: float, rows: int) -> str:
    statuses = Counter(s for s, _ in results)
    latencies = [t for s, t in results if s] or [0.0]
    return (
        f"| {label} | {len(results)} | {rows} | "
        + ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(statuses.items()))
        + f" | {statistics.median(latencies):.3f} | {percentile(latencies, 95):.3f}"
        f" | {max(latencies):.3f} | {wall:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--servers", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.members <= 5000 or not 1 <= args.servers <= 8:
        sys.exit("--members 1..5000, --servers 1..8")
    poll_id, sessions = setup(args.members)
    from django.db import connections

    connections.close_all()
    cpu_lines: list[str] = []
    lines = [
        "| target | requests | rows stored | responses by status | p50 s | p95 s "
        "| max s | wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, app, path in [
        (
            "secret ballot (voting:cast)",
            "council.asgi:application",
            f"/polls/{poll_id}/cast/",
        ),
        (
            "minimal insert view (baseline)",
            "bench.baseline_asgi:application",
            f"/polls/{poll_id}/cast/",
        ),
    ]:
        with contextlib.ExitStack() as stack:
            logs = [
                stack.enter_context(tempfile.TemporaryFile())
                for _ in range(args.servers)
            ]
            procs, ports = start_servers(app, args.servers, logs)
            try:
                server_cpu = sum(cpu_seconds(p.pid) for p in procs)
                client_cpu = time.process_time()
                results, wall = asyncio.run(fire(ports, path, sessions))
                client_cpu = time.process_time() - client_cpu
                server_cpu = sum(cpu_seconds(p.pid) for p in procs) - server_cpu
            finally:
                stop_servers(procs)
            # Who used the CPU: if the client's share were large, it would be
            # measuring itself rather than the servers.
            cpu_lines.append(
                f"{label}: servers {server_cpu:.1f} CPU s, client {client_cpu:.1f}"
                f" CPU s, wall {wall:.1f} s, load average {load_average()}"
            )
            errors = ""
            for log in logs:
                log.seek(0)
                errors += log.read().decode(errors="replace")
        ballots, participations, baseline = stored(poll_id)
        rows = ballots if app.startswith("council") else baseline
        lines.append(report(label, results, wall, rows))
        if "Traceback" in errors or "rror" in errors:
            print(errors[-3000:], file=sys.stderr)
        if app.startswith("council"):
            print(f"ballots={ballots} participations={participations}")
    print(
        f"{args.members} members x 2 requests, {args.servers} Daphne process(es), "
        f"pool of {os.environ['DATABASE_POOL_MAX']} connections each"
    )
    print("\n".join(lines))
    print("\n".join(cpu_lines))


if __name__ == "__main__":
    main()
