"""Live-sitting benchmarks: fanout, reconnect storm, memory per connection.

Run on demand (see bench/README.md), loopback only, every loop bounded:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/council_bench \
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/fanout.py all

(a) fanout: N clients (members and public) spread over TWO Daphne processes
    sharing Redis; one state change made by a service in this process; the
    delivery latency of the versioned update at every client, next to a bare
    ``websockets.broadcast`` server reached by the same client code.
(b) storm: every client drops and reconnects at once; the time until all of
    them hold a fresh snapshot.
(c) memory: idle public connections on one Daphne process; RSS delta / N.
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFIX = os.environ.get("REDIS_PREFIX", "livebench")
BASE_PORT = int(os.environ.get("BENCH_PORT", "8710"))  # and the next three

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ["REDIS_PREFIX"] = PREFIX
os.environ.setdefault("CHANNEL_CAPACITY", "5000")
# Production settings: persistent database connections, and a handshake
# timeout long enough for a storm of reconnects to queue rather than fail.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
CONNECT_TIMEOUT = "30"
RETRIES = 5


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


# ---- the council to measure ----


def prepare(members: int) -> tuple[int, list[str], object]:
    """Migrate, create a body, a chair, members and a meeting in session."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from council.models import Body, Mandate, User
    from meetings.models import AgendaItem, Meeting

    call_command("migrate", verbosity=0)
    stamp = str(int(time.time()))
    body = Body.objects.create(
        name=f"Bench {stamp}",
        slug=f"bench-{stamp}",
        kind=Body.Kind.MUNICIPAL_COUNCIL,
        municipality="Bench",
        language="fr",
        seats=members + 1,
    )
    today = timezone.localdate()

    def person(role: str, n: int) -> User:
        user = User.objects.create_user(
            email=f"{role}{n}-{stamp}@bench.invalid", password=None
        )
        Mandate.objects.create(person=user, body=body, role=role, start=today)
        return user

    chair = person(Mandate.Role.CHAIR, 0)
    people = [person(Mandate.Role.COUNCILLOR, n) for n in range(members)]
    meeting = Meeting.objects.create(
        body=body,
        number=1,
        title="Bench sitting",
        starts_at=timezone.now(),
        state=Meeting.State.IN_SESSION,
    )
    meeting.current_item = AgendaItem.objects.create(
        meeting=meeting, position=1, title="Budget"
    )
    meeting.save()
    cookies = []
    for user in people:
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    return meeting.pk, cookies, chair


def start_daphne(port: int) -> subprocess.Popen:
    endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=4096"
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/daphne"),
            "-e",
            endpoint,
            "--websocket_connect_timeout",
            CONNECT_TIMEOUT,
            "council.asgi:application",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=open(f"/tmp/bench-daphne-{port}.log", "w"),  # noqa: SIM115
    )


def start_bare(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench/bare_server.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# ---- clients ----


class Client:
    """One websocket that records when it gets each versioned message."""

    def __init__(self, url: str, cookie: str | None = None):
        self.url = url
        self.cookie = cookie
        self.socket = None
        self.snapshot_at: float | None = None
        self.version = 0
        self.received: dict[int, float] = {}
        self.task: asyncio.Task | None = None
        self.failures = 0

    async def connect(self) -> None:
        """Connect, retrying like the page's script does (bounded)."""
        for attempt in range(RETRIES):
            try:
                await self._connect()
                return
            except (OSError, Exception):
                self.failures += 1
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _connect(self) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": f"sessionid={self.cookie}"} if self.cookie else None
        self.snapshot_at = None
        self.socket = await connect(
            self.url,
            origin="http://127.0.0.1",
            additional_headers=headers,
            open_timeout=60,
            max_queue=None,
            compression=None,
        )
        self.task = asyncio.create_task(self.listen())

    async def listen(self) -> None:
        try:
            async for text in self.socket:
                now = time.perf_counter()
                message = json.loads(text)
                kind = message.get("type")
                if kind == "snapshot":
                    self.snapshot_at = now
                    self.version = max(self.version, message.get("version", 0))
                elif kind == "update":
                    self.received.setdefault(message["version"], now)
                    self.version = max(self.version, message["version"])
                elif kind == "bare":
                    self.received.setdefault(message["version"], now)
        except Exception:  # noqa: S110 - a dropped client shows as undelivered
            pass

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.task is not None:
            await asyncio.wait([self.task], timeout=5)


async def connect_all(clients: list[Client], concurrency: int | None) -> float:
    start = time.perf_counter()
    if concurrency is None:
        await asyncio.gather(*(client.connect() for client in clients))
    else:
        gate = asyncio.Semaphore(concurrency)

        async def one(client: Client) -> None:
            async with gate:
                await client.connect()

        await asyncio.gather(*(one(client) for client in clients))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(client.snapshot_at for client in clients):
            break
        await asyncio.sleep(0.01)
    return time.perf_counter() - start


async def wait_deliveries(
    clients: list[Client], version: int, timeout: float = 10
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(version in client.received for client in clients):
            return
        await asyncio.sleep(0.01)


def summarise(latencies: list[float], expected: int) -> dict:
    ms = [value * 1000 for value in latencies]
    return {
        "delivered": len(ms),
        "expected": expected,
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
    }


# ---- (a) fanout and (b) storm ----


async def bench_fanout(n: int, rounds: int, member_share: float) -> dict:
    from asgiref.sync import sync_to_async

    members = max(1, int(n * member_share))
    meeting_id, cookies, chair = await sync_to_async(prepare)(min(members, 60))
    from meetings.models import Meeting, SittingState
    from meetings.services import sitting as services
    from meetings.services.meetings import meeting_resume

    ports = [BASE_PORT, BASE_PORT + 1]
    servers = [start_daphne(port) for port in ports]
    bare_port = BASE_PORT + 2
    bare = start_bare(bare_port)
    results: dict = {"clients": n, "members": members, "public": n - members}
    try:
        for port in [*ports, bare_port]:
            await wait_port(port)
        clients = []
        for index in range(n):
            port = ports[index % 2]
            if index < members:
                url = f"ws://127.0.0.1:{port}/ws/sitting/{meeting_id}/"
                clients.append(Client(url, cookies[index % len(cookies)]))
            else:
                url = f"ws://127.0.0.1:{port}/ws/sitting/{meeting_id}/public/"
                clients.append(Client(url))
        results["connect_s"] = round(await connect_all(clients, 100), 2)
        results["connect_retries"] = sum(c.failures for c in clients)
        await asyncio.sleep(2)  # let the arrivals' pushes settle

        meeting = await sync_to_async(Meeting.objects.select_related("body").get)(
            pk=meeting_id
        )
        # When the push leaves this process: latency after it is the transport's
        # share, the figure to hold next to the bare server's.
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        real_group_send = layer.group_send
        pushed: list[float] = []

        async def timed_group_send(group, message):
            pushed.append(time.perf_counter())
            await real_group_send(group, message)

        layer.group_send = timed_group_send
        latencies: list[float] = []
        service_ms: list[float] = []
        transport: list[float] = []
        missing: dict[str, int] = {}
        for round_number in range(rounds):
            change = (
                services.sitting_suspend if round_number % 2 == 0 else meeting_resume
            )
            pushed.clear()
            start = time.perf_counter()
            await sync_to_async(change, thread_sensitive=False)(
                meeting=meeting, by=chair
            )
            service_ms.append((time.perf_counter() - start) * 1000)
            version = await sync_to_async(
                lambda: SittingState.objects.get(pk=meeting_id).version,
                thread_sensitive=False,
            )()
            await wait_deliveries(clients, version)
            got = [
                c.received[version] - start for c in clients if version in c.received
            ]
            latencies += got
            for client in clients:
                if version not in client.received:
                    key = client.url.split("/ws/")[0][-4:] + (
                        " member" if client.cookie else " public"
                    )
                    missing[key] = missing.get(key, 0) + 1
            if pushed:
                transport += [
                    c.received[version] - pushed[0]
                    for c in clients
                    if version in c.received
                ]
            await asyncio.sleep(1)
        results["django"] = summarise(latencies, n * rounds)
        results["missed_by_port_and_audience"] = missing
        results["django_after_push"] = summarise(transport, n * rounds)
        # How long the change itself took (its transaction and the push).
        results["service_ms"] = [round(value, 1) for value in service_ms]

        # The same clients' code against the bare reference.
        from websockets.asyncio.client import connect

        bare_clients = [Client(f"ws://127.0.0.1:{bare_port}/") for _ in range(n)]
        await connect_all(bare_clients, 100)
        control = await connect(f"ws://127.0.0.1:{bare_port}/control")
        bare_latencies: list[float] = []
        payload = (
            '{"type":"update","version":%d,"prev":%d,"changes":{"status":"suspended"}}'
        )
        for round_number in range(rounds):
            version = 1000 + round_number
            text = payload.replace('"update"', '"bare"') % (version, version - 1)
            start = time.perf_counter()
            await control.send(json.dumps({"broadcast": text}))
            await wait_deliveries(bare_clients, version)
            bare_latencies += [
                c.received[version] - start
                for c in bare_clients
                if version in c.received
            ]
            await asyncio.sleep(1)
        results["bare"] = summarise(bare_latencies, n * rounds)
        await control.close()

        # (b) The storm: everyone drops and comes back at once.
        await asyncio.gather(*(client.close() for client in clients))
        await asyncio.sleep(1)
        results["storm_s"] = round(await connect_all(clients, None), 2)
        results["storm_with_snapshot"] = sum(1 for c in clients if c.snapshot_at)
        results["storm_retries"] = sum(c.failures for c in clients)
        await asyncio.gather(*(client.close() for client in bare_clients))
        await asyncio.sleep(0.5)
        results["bare_storm_s"] = round(await connect_all(bare_clients, None), 2)
        await asyncio.gather(*(client.close() for client in [*clients, *bare_clients]))
    finally:
        for process in [*servers, bare]:
            process.terminate()
        for process in [*servers, bare]:
            process.wait(timeout=20)
    return results


# ---- (c) memory ----


async def bench_memory(n: int) -> dict:
    from asgiref.sync import sync_to_async

    meeting_id, _, _ = await sync_to_async(prepare)(1)
    port = BASE_PORT + 3
    server = start_daphne(port)
    try:
        await wait_port(port)
        url = f"ws://127.0.0.1:{port}/ws/sitting/{meeting_id}/public/"
        warm = [Client(url) for _ in range(50)]
        await connect_all(warm, 50)
        await asyncio.sleep(2)
        before = rss_kb(server.pid)
        clients = [Client(url) for _ in range(n)]
        await connect_all(clients, 200)
        await asyncio.sleep(3)
        after = rss_kb(server.pid)
        connected = sum(1 for c in clients if c.snapshot_at)
        await asyncio.gather(*(c.close() for c in [*warm, *clients]))
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {
        "connections": n,
        "connected": connected,
        "rss_before_kb": before,
        "rss_after_kb": after,
        "kb_per_connection": round((after - before) / max(1, connected), 1),
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["fanout", "memory", "all"])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--members", type=float, default=0.2, help="share of members")
    parser.add_argument("--idle", type=int, default=5000)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL (and DATABASE_URL): the fanout runs over Redis.")
    report = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if args.what in {"fanout", "all"}:
        report["fanout"] = asyncio.run(
            bench_fanout(args.clients, args.rounds, args.members)
        )
    if args.what in {"memory", "all"}:
        report["memory"] = asyncio.run(bench_memory(args.idle))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
