"""The fault harness: the production layout on one machine, started for the tests.

``Cluster`` starts, as real processes of their own:

- a Redis server on a free port (nothing saved to disk), so a test may kill
  and restart it without touching anyone else's Redis;
- a PostgreSQL database of its own (``council_faults_<host>_<pid>_<random>``)
  on the server ``DATABASE_URL`` names, migrated with ``manage.py migrate``
  and dropped at the end (or by the next run, if this one was killed);
- two Daphne processes serving ``council.asgi:application`` and one
  ``manage.py run_worker``, all with the short timings of ``SERVER_SETTINGS``;
- the agent (``tests/faults/agent.py``), which seeds the council and reads
  the tables as an administrator would.

Every process runs in a process group of its own and gets SIGKILL if the test
run dies (``PR_SET_PDEATHSIG``); ``Cluster.stop`` kills the groups and drops
the database, whatever the tests did. Members act through the real pages
(``Browser``: the login page, CSRF-protected forms) and the real websockets
(``LiveClient``, which handles messages as ``static/js/sitting.js`` does).
"""

import asyncio
import contextlib
import ctypes
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "fault-harness-password-2026"
MEMBERS = 12  # seats of the harness's council: the chair and 11 councillors

# The timings every process of the harness runs with, in one place: short, so
# that a lost member is recorded absent within seconds. Each is the setting's
# environment variable (council/settings.py).
GRACE_SECONDS = 3
SERVER_SETTINGS = {
    "ATTENDANCE_GRACE_SECONDS": str(GRACE_SECONDS),
    # Presence leases (meetings/live/presence.py): the shortest lease allowed,
    # renewed every second; pages ping every 2 s; the worker sweeps every second.
    "PRESENCE_LEASE_SECONDS": "5",
    "PRESENCE_HEARTBEAT_SECONDS": "1",
    "PRESENCE_PING_SECONDS": "2",
    "PRESENCE_SWEEP_SECONDS": "1",
    # Logins happen once, at the start of the run; secret ballots need a recent one.
    "REAUTHENTICATION_TIMEOUT": "1800",
    # Persistent connections, as in production: a terminated backend is then
    # met by the next request, not only by the queries running at the time.
    "DATABASE_CONN_MAX_AGE": "60",
}
WORKER_INTERVAL = 0.5  # seconds between the worker's looks at the queue

STARTUP_TIMEOUT = 60.0
HTTP_TIMEOUT = 15.0

# Not a server's bare "Server Error (500)" (Django's answer without a page).
BARE_SERVER_ERROR = b"<h1>Server Error (500)</h1>"


class HarnessError(RuntimeError):
    pass


def missing_requirement() -> str | None:
    """Why the fault tests cannot run here, or None."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "fault tests need PostgreSQL: set DATABASE_URL=postgres://..."
    if shutil.which("redis-server") is None:
        return "fault tests need redis-server on PATH (Debian package redis-server)"
    if daphne_path() is None:
        return "fault tests need daphne in the virtual environment (make install)"
    return None


def daphne_path() -> Path | None:
    path = BIN / "daphne"
    if path.exists():
        return path
    found = shutil.which("daphne")
    return Path(found) if found else None


# ---- ports ---------------------------------------------------------------------------

_taken: set[int] = set()


def _port_range(variable: str) -> range | None:
    """``FAULTS_PORTS=8240-8299`` (or ``FAULTS_REDIS_PORTS``) limits the ports."""
    value = os.environ.get(variable, "")
    if not value:
        return None
    low, _, high = value.partition("-")
    return range(int(low), int(high or low) + 1)


def free_port(variable: str = "FAULTS_PORTS") -> int:
    """A loopback port nobody listens on, never one this run handed out before."""
    candidates = _port_range(variable) or [0] * 50
    for candidate in candidates:
        if candidate in _taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port = probe.getsockname()[1]
        if port not in _taken:
            _taken.add(port)
            return port
    raise HarnessError(f"no free port ({variable}={os.environ.get(variable, '')})")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


# ---- processes -----------------------------------------------------------------------

_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)  # Linux
PR_SET_PDEATHSIG = 1


def _die_with_the_tests() -> None:
    # In the child, before exec: SIGKILL when the process that started it dies,
    # so a killed test run leaves no server behind.
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Process:
    """One child in a process group of its own, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, logs: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = logs / f"{name}.log"
        self.popen: subprocess.Popen | None = None
        self._log_mark = 0

    def start(self, **kwargs) -> "Process":
        if threading.current_thread() is not threading.main_thread():
            # PR_SET_PDEATHSIG follows the thread that forked: a child started
            # from a short-lived thread would die with it.
            raise HarnessError("start processes from the main thread")
        with self.log_path.open("ab") as log:
            log.write(f"==== start {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=kwargs.pop("stdin", subprocess.DEVNULL),
                stdout=kwargs.pop("stdout", log),
                stderr=log,
                start_new_session=True,
                preexec_fn=_die_with_the_tests,
                **kwargs,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group (``kill -9`` by default) and reap it."""
        if self.popen is None or self.popen.poll() is not None:
            return  # never started, or already reaped: its group id may be reused
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to the group, then SIGKILL if it is still there in 5 s."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        self.kill(signal.SIGKILL)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def mark_log(self) -> None:
        """Later ``log_since_mark`` calls read only what came after this."""
        self._log_mark = len(self.log())

    def log_since_mark(self) -> str:
        return self.log()[self._log_mark :]

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


class Server(Process):
    """A Daphne process; restarted on the same port after a kill."""

    def __init__(self, name: str, port: int, env: dict, logs: Path):
        super().__init__(
            name,
            [
                str(daphne_path()),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "council.asgi:application",
            ],
            env,
            logs,
        )
        self.port = port

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def start_and_wait(self) -> "Server":
        self.start()
        wait_until(
            lambda: _listening(self.port),
            timeout=STARTUP_TIMEOUT,
            what=f"{self.name} listening on {self.port}",
            process=self,
        )
        return self


class Redis(Process):
    def __init__(self, port: int, env: dict, logs: Path):
        super().__init__(
            "redis",
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            env,
            logs,
        )
        self.port = port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start_and_wait(self) -> "Redis":
        self.start()
        wait_until(self.ping, timeout=20, what="redis answering", process=self)
        return self


class Agent(Process):
    """The Django process that seeds and reads the database (``agent.py``)."""

    def __init__(self, env: dict, logs: Path):
        super().__init__(
            "agent", [sys.executable, "-m", "tests.faults.agent"], env, logs
        )
        self._lock = threading.Lock()
        self._buffer = b""

    def start_and_wait(self) -> "Agent":
        self.start(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if self._answer(timeout=STARTUP_TIMEOUT) != "ready":
            raise HarnessError("the agent did not start:\n" + self.tail())
        return self

    def _readline(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        fd = self.popen.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.alive():
                raise HarnessError("the agent did not answer:\n" + self.tail())
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise HarnessError("the agent stopped:\n" + self.tail())
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _answer(self, timeout: float):
        answer = json.loads(self._readline(timeout))
        if "error" in answer:
            raise HarnessError("the agent failed:\n" + answer["error"])
        return answer["ok"]

    def call(self, command: str, timeout: float = 30.0, **arguments):
        with self._lock:
            self.popen.stdin.write(
                (json.dumps({"command": command, **arguments}) + "\n").encode()
            )
            self.popen.stdin.flush()
            return self._answer(timeout)

    async def acall(self, command: str, timeout: float = 30.0, **arguments):
        """``call`` on a thread: the event loop keeps reading the sockets."""
        return await asyncio.to_thread(self.call, command, timeout, **arguments)


def wait_until(predicate, *, timeout: float, what: str, process=None, every=0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        if process is not None and not process.alive():
            raise HarnessError(
                f"{process.name} exited while waiting for {what}:\n" + process.tail()
            )
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


# ---- the database --------------------------------------------------------------------


def _admin_connection(url: str):
    import psycopg

    parts = urllib.parse.urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password or "") or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


DATABASE_PREFIX = "council_faults_"
# The database's name says which run made it: host, pid, then a random part.
_HOST = re.sub(r"[^a-z0-9]", "", socket.gethostname().lower())[:12] or "host"


def _left_by_a_dead_run(name: str) -> bool:
    """A harness database of this host whose test run no longer exists.

    A run killed outright cannot drop its own database; the next run does.
    Another host's, or a live run's, is never touched.
    """
    pid = name.removeprefix(f"{DATABASE_PREFIX}{_HOST}_").partition("_")[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _database_url(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}", query=""))


# ---- the cluster ---------------------------------------------------------------------


class Cluster:
    """Redis, a database, two Daphne processes, a worker and the agent."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.anchors = logs / "audit-anchors"
        self.db_name = f"{DATABASE_PREFIX}{_HOST}_{os.getpid()}_{secrets.token_hex(3)}"
        self.db_created = False
        self.base_url = os.environ["DATABASE_URL"]
        self.database_url = _database_url(self.base_url, self.db_name)
        self.redis: Redis | None = None
        self.servers: list[Server] = []
        self.worker: Process | None = None
        self.agent: Agent | None = None
        self.council: dict = {}
        self.browsers: dict[int, Browser] = {}

    # -- environment --

    def env(self) -> dict:
        """What every process gets: the harness's database, Redis and timings.

        Built from a short list of the run's own variables, never the test
        process's project settings (its DATABASE_URL, its REDIS_URL).
        """
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "VIRTUAL_ENV")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "DJANGO_SETTINGS_MODULE": "council.settings",
                "DJANGO_SECRET_KEY": self.secret_key,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url,
                "REDIS_PREFIX": self.prefix,
                "AUDIT_ANCHOR_DIR": str(self.anchors),
                "MEDIA_ROOT": str(self.logs / "media"),
                "LOG_LEVEL": "INFO",
                **SERVER_SETTINGS,
            }
        )
        return env

    # -- start and stop --

    def start(self) -> "Cluster":
        self.secret_key = secrets.token_urlsafe(32)
        self.prefix = f"faults-{secrets.token_hex(4)}"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.redis = Redis(free_port("FAULTS_REDIS_PORTS"), {}, self.logs)
        self.redis.start_and_wait()
        self._create_database()
        env = self.env()
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if migrate.returncode:
            raise HarnessError("migrate failed:\n" + migrate.stdout + migrate.stderr)
        self.agent = Agent(env, self.logs).start_and_wait()
        self.council = self.agent.call(
            "setup_council", members=MEMBERS, password=PASSWORD, timeout=120
        )
        self.servers = [
            Server(f"daphne-{i}", free_port(), env, self.logs) for i in (0, 1)
        ]
        for server in self.servers:
            server.start()
        for server in self.servers:
            wait_until(
                lambda s=server: _listening(s.port),
                timeout=STARTUP_TIMEOUT,
                what=f"{server.name} listening",
                process=server,
            )
        self.worker = Process(
            "worker",
            [
                sys.executable,
                "manage.py",
                "run_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                str(WORKER_INTERVAL),
            ],
            env,
            self.logs,
        ).start()
        self._log_everyone_in()
        return self

    def _create_database(self) -> None:
        with _admin_connection(self.base_url) as admin:
            for (name,) in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [f"{DATABASE_PREFIX}{_HOST}_%"],
            ).fetchall():
                if _left_by_a_dead_run(name):
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.db_name}"')
        self.db_created = True

    def _drop_database(self) -> None:
        if not self.db_created:
            return
        with _admin_connection(self.base_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        self.db_created = False

    def stop(self) -> None:
        """Everything the harness started is stopped and its database dropped."""
        errors = []
        for process in [*self.servers, self.worker, self.agent, self.redis]:
            if process is None:
                continue
            try:
                process.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{process.name}: {exc!r}")
        try:
            self._drop_database()
        except Exception as exc:
            errors.append(f"dropping {self.db_name}: {exc!r}")
        if errors:
            raise HarnessError("; ".join(errors))

    def ensure_running(self) -> None:
        """Bring back whatever a previous test killed."""
        if not self.redis.alive():
            self.redis.start_and_wait()
        for server in self.servers:
            if not server.alive():
                server.start_and_wait()
        if not self.worker.alive():
            self.worker.start()

    def restart_servers(self) -> None:
        """Fresh Daphne processes and worker, on the same ports."""
        for process in [*self.servers, self.worker]:
            process.stop()
        self.worker.start()
        for server in self.servers:
            server.start_and_wait()

    def database_outage(self, seconds: float, every: float = 0.02) -> int:
        """No connection to the database for a while, as in a failover.

        New connections are refused and every backend is ended every
        ``every`` seconds, for ``seconds``; then connections are let in
        again, whatever happened. Returns how many backends were ended.
        """
        ended = 0
        name = self.db_name
        with _admin_connection(self.base_url) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            try:
                until = time.monotonic() + seconds
                while time.monotonic() < until:
                    ended += admin.execute(
                        "SELECT count(pg_terminate_backend(pid)) "
                        "FROM pg_stat_activity WHERE datname = %s",
                        [name],
                    ).fetchone()[0]
                    time.sleep(every)
            finally:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        return ended

    def mark_logs(self) -> None:
        for process in [*self.servers, self.worker]:
            process.mark_log()

    def log_problems(self) -> dict[str, int]:
        """Tracebacks the servers and the worker logged since ``mark_logs``."""
        text = "".join(p.log_since_mark() for p in [*self.servers, self.worker])
        return {
            "tracebacks": text.count("Traceback (most recent call last)"),
            "unretrieved task exceptions": text.count(
                "Task exception was never retrieved"
            ),
            "exceptions inside application": text.count("Exception inside application"),
        }

    def tails(self) -> str:
        parts = [
            f"---- {p.name} ({p.log_path})\n{p.tail(25)}"
            for p in [*self.servers, self.worker, self.agent, self.redis]
            if p is not None
        ]
        return "\n".join(parts)

    # -- people --

    def _log_everyone_in(self) -> None:
        """Each member, the clerk and the DG log in through the login page."""
        people = [
            *self.council["members"],
            self.council["clerk"],
            self.council["director_general"],
        ]
        failures: list[str] = []
        # Every login comes from one address: allauth holds each attempt
        # against its limit of failures per address until it succeeds.
        at_once = threading.Semaphore(4)

        def log_in(index: int, person: dict) -> None:
            browser = Browser(person)
            server = self.servers[index % 2]
            try:
                with at_once:
                    browser.log_in(server)
            except Exception as exc:
                failures.append(f"{person['email']} on {server.name}: {exc}")
            self.browsers[person["id"]] = browser

        threads = [
            threading.Thread(target=log_in, args=(i, p)) for i, p in enumerate(people)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        if failures:
            raise HarnessError("log-in failed: " + "; ".join(failures))

    def browser(self, person: dict) -> "Browser":
        return self.browsers[person["id"]]


# ---- a person's browser: cookies, forms, the pages' answers --------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to look at, not to follow blindly


@dataclass
class Response:
    status: int | None  # None: no answer (connection refused or cut)
    body: bytes = b""
    location: str = ""
    error: str = ""
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def messages(self, tag: str) -> list[str]:
        """The texts of the page's messages with ``tag`` (success, error...)."""
        found = re.findall(
            rf'<p class="message message-{tag}"[^>]*>(.*?)</p>', self.text, re.S
        )
        return [re.sub(r"\s+", " ", m).strip() for m in found]

    @property
    def bare_server_error(self) -> bool:
        return self.status == 500 and BARE_SERVER_ERROR in self.body


class Browser:
    """One person's browser: its cookies work on both processes (same host)."""

    def __init__(self, person: dict):
        self.person = person
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def cookie(self, name: str) -> str | None:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None

    @property
    def session(self) -> str:
        session = self.cookie("sessionid")
        if not session:
            raise HarnessError(f"{self.person['email']} is not logged in")
        return session

    def request(
        self,
        server: Server,
        path: str,
        data: dict | None = None,
        timeout: float = HTTP_TIMEOUT,
    ) -> Response:
        body = None
        if data is not None:
            fields = {"csrfmiddlewaretoken": self.cookie("csrftoken") or "", **data}
            body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(
            server.base + path,
            data=body,
            headers={"Accept-Language": "en", "Referer": server.base + path},
        )
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                return Response(
                    answer.status, answer.read(), seconds=time.monotonic() - started
                )
        except urllib.error.HTTPError as answer:
            return Response(
                answer.code,
                answer.read(),
                location=answer.headers.get("Location", ""),
                seconds=time.monotonic() - started,
            )
        except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
            return Response(None, error=repr(exc), seconds=time.monotonic() - started)

    def follow(self, server: Server, answer: Response) -> Response:
        """The page a redirect leads to, on the same process."""
        if answer.status not in (301, 302, 303) or not answer.location:
            return answer
        location = urllib.parse.urlsplit(answer.location)
        path = location.path + (f"?{location.query}" if location.query else "")
        return self.request(server, path)

    def log_in(self, server: Server) -> None:
        page = self.request(server, "/accounts/login/")
        if page.status != 200:
            raise HarnessError(f"login page answered {page.status} {page.error}")
        answer = self.request(
            server,
            "/accounts/login/",
            {"login": self.person["email"], "password": PASSWORD},
        )
        if answer.status != 302 or not self.cookie("sessionid"):
            said = re.findall(
                r'<ul class="errorlist[^>]*>(.*?)</ul>', answer.text, re.S
            )
            raise HarnessError(f"login answered {answer.status} {answer.error} {said}")

    # -- what members and the chair do --

    def open_vote(self, server: Server, meeting: int) -> Response:
        answer = self.request(server, f"/meetings/{meeting}/votes/open/", {})
        return self.follow(server, answer)

    def move_to(self, server: Server, meeting: int, item: int) -> Response:
        """The chair's console: the sitting moves to another item."""
        path = f"/sitting/{meeting}/console/move/"
        return self.follow(server, self.request(server, path, {"item": item}))

    def vote(self, server: Server, poll: int, choice: str, then=None) -> "Vote":
        """A roll-call vote as the poll page posts it; recorded if the page says so.

        ``then()``, if given, runs between the POST's answer and the page it
        redirects to (which shows the message).
        """
        started = time.monotonic()
        posted = self.request(server, f"/polls/{poll}/vote/", {"choice": choice})
        if then is not None:
            then()
        page = self.follow(server, posted)
        recorded = posted.status == 302 and bool(page.messages("success"))
        return Vote(
            self.person["id"], choice, server.name, recorded, posted, page, started
        )

    def cast_secret(self, server: Server, poll: int, choice: str) -> Response:
        """Step two of a secret ballot (the confirmation page's form)."""
        return self.request(server, f"/polls/{poll}/cast/", {"choice": choice})


def tracker_of(receipt: Response) -> str | None:
    """The tracker a receipt page shows, only on the answer that stored the ballot."""
    found = re.search(r"data-tracker>([^<]+)<", receipt.text)
    return found.group(1).strip() if found else None


@dataclass
class Vote:
    member: int
    choice: str
    server: str
    recorded: bool  # the member saw "Your vote is recorded"
    posted: Response
    page: Response
    started: float

    @property
    def unknown(self) -> bool:
        """No answer: the member cannot tell whether it counted."""
        return self.posted.status is None or (
            self.posted.status == 302 and self.page.status is None
        )


# ---- a live page: the websocket as sitting.js handles it -----------------------------


def page_timings() -> dict[str, float]:
    """The periods of what the member page sends on its own, read from sitting.js.

    The fake clients send the same, so a server that relies on them (a
    heartbeat renewing presence) sees what a browser would send.
    """
    script = (ROOT / "static/js/sitting.js").read_text()
    timings = {}
    for name, value in re.findall(r"const (\w+_MS) = (\d+);", script):
        timings[name] = int(value) / 1000
    return timings


@dataclass
class LiveClient:
    """A page of the live sitting open on one process: a member's or the public's."""

    name: str
    meeting: int
    browser: Browser | None = None  # None: the public gallery
    server: Server | None = None
    periodic_sync: bool = True
    version: int = 0
    state: dict | None = None
    closed_at: float | None = None
    connected_at: float | None = None
    updates: list[tuple[float, int]] = field(default_factory=list)
    snapshots: list[tuple[float, int]] = field(default_factory=list)
    held: list[tuple[float, int]] = field(default_factory=list)  # (time, version)
    errors: list[dict] = field(default_factory=list)
    resyncs: int = 0

    @property
    def person(self) -> int | None:
        return self.browser.person["id"] if self.browser else None

    @property
    def path(self) -> str:
        tail = "" if self.browser else "public/"
        return f"/ws/sitting/{self.meeting}/{tail}?lang=en"

    @property
    def connected(self) -> bool:
        return self.connected_at is not None and self.closed_at is None

    async def connect(self, server: Server, timeout: float = 10.0) -> "LiveClient":
        self.server = server
        headers = (
            {"Cookie": f"sessionid={self.browser.session}"} if self.browser else {}
        )
        self.socket = await websockets.connect(
            server.ws_url(self.path),
            origin=server.base,
            additional_headers=headers,
            open_timeout=timeout,
            ping_interval=None,  # browsers answer Daphne's pings, never send any
            max_size=2**22,
        )
        self.closed_at = None
        self.connected_at = time.monotonic()
        seen = len(self.snapshots)
        self._timers = []
        if self.periodic_sync:
            self._timers.append(asyncio.create_task(self._sync()))
        self._reader = asyncio.create_task(self._read())
        await self.wait(lambda: len(self.snapshots) > seen, timeout, "a snapshot")
        return self

    async def _sync(self) -> None:
        """The page's periodic check, as often as sitting.js sends it."""
        period = page_timings()["SYNC_EVERY_MS"]
        while True:
            await asyncio.sleep(period)
            await self.send({"action": "sync", "version": self.version})

    async def _ping(self, period: float) -> None:
        while True:
            await asyncio.sleep(period)
            await self.send({"action": "ping"})

    async def send(self, message: dict) -> bool:
        try:
            await self.socket.send(json.dumps(message))
        except websockets.ConnectionClosed:
            return False
        return True

    async def _read(self) -> None:
        try:
            async for text in self.socket:
                self._handle(json.loads(text), time.monotonic())
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_at = time.monotonic()
            for timer in self._timers:
                timer.cancel()

    def _hold(self, at: float, version: int) -> None:
        self.version = version
        self.held.append((at, version))

    def _handle(self, message: dict, at: float) -> None:
        kind = message.get("type")
        if kind == "hello":
            # The member page pings as often as the server's hello asks.
            ping = message.get("ping")
            if self.browser and isinstance(ping, int | float) and ping > 0:
                self._timers.append(asyncio.create_task(self._ping(ping)))
        elif kind == "snapshot":
            self.snapshots.append((at, message["version"]))
            if message["version"] >= self.version:
                self.state = message["data"]
                self._hold(at, message["version"])
        elif kind == "update":
            self.updates.append((at, message["version"]))
            if message["version"] <= self.version:
                return  # stale or repeated
            if message["prev"] != self.version or self.state is None:
                self.resyncs += 1
                asyncio.create_task(self.send({"action": "resync"}))
                return
            self.state = {**self.state, **message["changes"]}
            self._hold(at, message["version"])
        elif kind == "error":
            self.errors.append(message)

    def holds_since(self, version: int) -> float | None:
        """When this client first held ``version`` or a later one."""
        return next((at for at, v in self.held if v >= version), None)

    def pushed_since(self, version: int) -> float | None:
        """When a pushed update of ``version`` or later first reached this client."""
        return next((at for at, v in self.updates if v >= version), None)

    async def wait(self, predicate, timeout: float, what: str) -> float:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: no {what} within {timeout} s "
                    f"(holds v{self.version}, {'open' if self.connected else 'closed'})"
                )
            await asyncio.sleep(0.01)
        return time.monotonic()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.socket.close()
        for task in [getattr(self, "_reader", None), *getattr(self, "_timers", [])]:
            if task is not None:
                task.cancel()


async def wait_all(
    clients: list[LiveClient], predicate, timeout: float, what: str
) -> float:
    """Wait until ``predicate(client)`` holds for each; the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while True:
        lagging = [c.name for c in clients if not predicate(c)]
        if not lagging:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(lagging)} of {len(clients)} clients without {what} "
                f"after {timeout} s: {', '.join(lagging[:8])}"
            )
        await asyncio.sleep(0.01)


async def in_sync(
    agent: Agent, meeting: int, clients: list[LiveClient], timeout: float
) -> tuple[float, int]:
    """Wait until every client holds the sitting's current version.

    Returns the monotonic time the last of them got there, and that version.
    The version is read again after they all hold it: a change committing
    meanwhile is waited for too.
    """
    deadline = time.monotonic() + timeout
    while True:
        version = (await agent.acall("versions", meeting=meeting))["version"]
        behind = [c for c in clients if c.version < version]
        if not behind:
            again = (await agent.acall("versions", meeting=meeting))["version"]
            if again == version:
                return max(c.holds_since(version) for c in clients), version
            continue
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(behind)} of {len(clients)} clients behind version {version} "
                f"after {timeout} s: "
                + ", ".join(f"{c.name} v{c.version}" for c in behind[:8])
            )
        await asyncio.sleep(0.05)


# ---- the figures each scenario prints ------------------------------------------------

REPORTS: list[str] = []


def report(
    fault: str, *, sync: float | None, votes_lost: int, presence_errors: int, **figures
) -> str:
    """``FAULT <name>: sync 2.3 s, votes lost 0, presence errors 0, ...``."""
    parts = [
        "sync " + (f"{sync:.2f} s" if sync is not None else "never"),
        f"votes lost {votes_lost}",
        f"presence errors {presence_errors}",
    ]
    for name, value in figures.items():
        label = name.replace("_", " ")
        if value is None:
            parts.append(f"{label} never")
        elif isinstance(value, float):
            parts.append(f"{label} {value:.2f} s")
        else:
            parts.append(f"{label} {value}")
    line = f"FAULT {fault}: " + ", ".join(parts)
    REPORTS.append(line)
    print(line, file=sys.stderr, flush=True)
    return line


# ---- a sitting with its open pages ---------------------------------------------------


@dataclass
class Sitting:
    """A fresh live sitting, every member's page open, alternating processes.

    Member ``i`` (the chair is member 0) is on process ``i % 2``; the clerk's
    page is on process 1; a public gallery page is open on each process.
    """

    cluster: Cluster
    meeting: int
    public_item: int
    secret_item: int
    clients: list[LiveClient] = field(default_factory=list)

    @classmethod
    async def open(cls, cluster: Cluster, title: str) -> "Sitting":
        ids = await cluster.agent.acall(
            "new_sitting", body=cluster.council["body"], title=title
        )
        sitting = cls(cluster, ids["meeting"], ids["public_item"], ids["secret_item"])
        council = cluster.council
        pages = [
            (LiveClient(f"member{i}", sitting.meeting, cluster.browser(person)), i % 2)
            for i, person in enumerate(council["members"])
        ]
        pages.append(
            (LiveClient("clerk", sitting.meeting, cluster.browser(council["clerk"])), 1)
        )
        pages += [(LiveClient(f"public{i}", sitting.meeting), i) for i in (0, 1)]
        try:
            for client, index in pages:
                sitting.clients.append(client)
                await client.connect(cluster.servers[index])
            await wait_all(
                sitting.clients,
                lambda c: c.state["attendance"]["present"] == MEMBERS,
                15,
                f"all {MEMBERS} members present",
            )
        except BaseException:
            await sitting.close()
            raise
        return sitting

    @property
    def members(self) -> list[dict]:
        return self.cluster.council["members"]

    def client_of(self, person: dict) -> LiveClient:
        return next(c for c in self.clients if c.person == person["id"])

    def server_of(self, person: dict) -> Server:
        return self.client_of(person).server

    def connected(self) -> list[LiveClient]:
        return [c for c in self.clients if c.connected]

    async def register(self) -> dict:
        return await self.cluster.agent.acall("register", meeting=self.meeting)

    async def poll(self, item: int) -> int:
        poll = await self.cluster.agent.acall("current_poll", item=item)
        if poll is None:
            raise AssertionError(f"no poll opened on item {item}")
        return poll

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


async def vote_all(
    votes: list[tuple[Browser, Server, int, str]], stagger: float = 0.0
) -> list[Vote]:
    """Post the roll-call votes together, each from its member's browser.

    With ``stagger``, the n-th vote leaves ``n * stagger`` seconds after the first.
    """

    async def one(n: int, browser: Browser, server: Server, poll: int, choice: str):
        await asyncio.sleep(n * stagger)
        return await asyncio.to_thread(browser.vote, server, poll, choice)

    return list(await asyncio.gather(*(one(n, *v) for n, v in enumerate(votes))))


def vote_accounts(recorded: list[Vote], stored: dict[int, str], attempted: set[int]):
    """Lost and duplicated roll-call votes, from what members saw and what is stored.

    Lost: a member was told their vote is recorded and the table does not
    hold it (or holds another choice than their last recorded one). Extra: a
    row for a member who never posted. Duplicates cannot be rows (one per
    member by constraint) so ``stored`` counts members.
    """
    last: dict[int, str] = {}
    for vote in sorted(recorded, key=lambda v: v.started):
        if vote.recorded:
            last[vote.member] = vote.choice
    lost = [m for m, choice in last.items() if stored.get(m) != choice]
    extra = [m for m in stored if m not in attempted]
    return last, lost, extra


def presence_errors(
    register: dict, pages: list[LiveClient], present: set[int], away=frozenset()
) -> list[str]:
    """What the register and the open pages get wrong about who is here.

    ``present`` are the members who should be present, ``away`` those who
    should have been recorded absent (connection lost). Anyone else recorded
    as having left, a register that disagrees, or a page showing another
    quorum or other people present than the register is an error.
    """
    departed = {d["person"] for d in register["departures"]}
    errors = [f"recorded absent but online: {p}" for p in sorted(departed - away)]
    errors += [f"never recorded absent: {p}" for p in sorted(away - departed)]
    if set(register["present_ids"]) != present:
        errors.append(f"register shows present {register['present_ids']}")
    quorum = register["quorum"]
    for page in pages:
        shown = page.state["quorum"]
        if (shown["present"], shown["reached"]) != (
            quorum["present"],
            quorum["reached"],
        ):
            errors.append(f"{page.name} shows quorum {shown}, not {quorum}")
        ids = page.state.get("present_ids")
        if ids is not None and set(ids) != present:
            errors.append(f"{page.name} shows present {sorted(ids)}")
    return errors


def socket_errors(pages: list[LiveClient]) -> list[str]:
    """Errors the server answered on the pages' sockets (pages only send what
    sitting.js sends, so any is a refusal of a page's own traffic)."""
    return [
        f"{page.name}: {error.get('code')} {error.get('message', '')}"
        for page in pages
        for error in page.errors
    ]


def assert_recorded(votes: list[Vote], when: str) -> None:
    """Every vote was told "recorded"; else say what each one was answered."""
    refused = [v for v in votes if not v.recorded]
    assert not refused, f"votes not recorded {when}: " + "; ".join(
        f"member {v.member} on {v.server}: {v.posted.status or v.posted.error} "
        f"{v.page.messages('error')}"
        for v in refused
    )
