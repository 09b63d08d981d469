"""Request bodies are bounded: a huge POST is refused before it costs memory."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from council.limits import REQUEST_TOO_LARGE, BodyLimitMiddleware
from meetings.services import documents
from tests.council.test_outages import free_port
from tests.council.test_settings import _child

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2 * 1024 * 1024
MB = 1024 * 1024


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    """A real Daphne serving council.asgi, with a 2 MB request limit."""
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the server's memory from /proc")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "DJANGO_SECRET_KEY": "test-secret",
        "MAX_REQUEST_BYTES": str(LIMIT),
        "SQLITE_PATH": str(tmp_path_factory.mktemp("daphne") / "db.sqlite3"),
        "LANGUAGE_CODE": "en",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        + ["council.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("Daphne did not start") from None
            time.sleep(0.1)
    yield process, port
    process.terminate()
    process.wait(timeout=10)


def post_head(port: int, headers: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.sendall(
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + headers.encode()
        + b"Content-Type: application/octet-stream\r\n\r\n"
    )
    return connection


def read_answer(connection: socket.socket) -> bytes:
    answer = b""
    try:
        while chunk := connection.recv(4096):
            answer += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return answer


def test_a_declared_gigabyte_is_refused_at_once(daphne):
    process, port = daphne
    before = rss_kb(process.pid)
    started = time.monotonic()
    with post_head(port, "Content-Length: 1000000000\r\n") as connection:
        answer = read_answer(connection)
    waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    # In the server's LANGUAGE_CODE (en): the request asked for no language.
    with translation.override("en"):
        assert str(REQUEST_TOO_LARGE % {"limit": 2}).encode() in answer
    assert waited < 2, f"the refusal took {waited:.1f} s"
    assert rss_kb(process.pid) - before < 5 * 1024


def test_a_streamed_body_is_cut_at_the_limit(daphne):
    process, port = daphne
    before = rss_kb(process.pid)
    chunk = b"x" * (64 * 1024)
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    with post_head(port, "Transfer-Encoding: chunked\r\n") as connection:
        try:
            while sent < 200 * MB:
                connection.sendall(framed)
                sent += len(chunk)
        except OSError:
            pass  # the server stopped reading
        answer = read_answer(connection)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    growth = rss_kb(process.pid) - before
    assert growth < 10 * 1024, f"the server grew by {growth} kB"


def test_a_body_under_the_limit_reaches_the_application(daphne):
    _process, port = daphne
    body = b"x" * MB
    with post_head(port, f"Content-Length: {len(body)}\r\n") as connection:
        connection.sendall(body)
        answer = read_answer(connection)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:80]  # Django's CSRF check


# ---- the ASGI middleware, whatever the server ------------------------------------


async def _run(middleware, messages, headers=()):
    sent, received = [], []

    async def receive():
        received.append(True)
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "headers": list(headers),
        "method": "POST",
        "path": "/accounts/login/",
        "query_string": b"",
    }
    await middleware(scope, receive, send)
    return sent, len(received)


async def _reading_app(scope, receive, send):
    """Reads the whole body like Django, then answers 200."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_the_middleware_refuses_a_declared_size_without_reading():
    middleware = BodyLimitMiddleware(_reading_app, limit=1000)
    sent, reads = await _run(middleware, [], [(b"content-length", b"1000000000")])
    assert sent[0]["status"] == 413
    assert reads == 0


async def test_the_middleware_cuts_a_body_that_grows_past_the_limit():
    chunks = [
        {"type": "http.request", "body": b"x" * 400, "more_body": True}
        for _ in range(100)
    ]
    middleware = BodyLimitMiddleware(_reading_app, limit=1000)
    sent, reads = await _run(middleware, chunks)
    assert [m.get("status") for m in sent if "status" in m] == [413]
    assert reads == 3  # 400, 800, 1200: cut there


async def test_the_middleware_passes_a_body_within_the_limit():
    chunks = [{"type": "http.request", "body": b"x" * 1000, "more_body": False}]
    sent, _reads = await _run(BodyLimitMiddleware(_reading_app, limit=1000), chunks)
    assert sent[0]["status"] == 200


# ---- the limits agree with each other and with the proxy example ---------------


def test_the_largest_document_fits_in_a_request():
    assert documents.MAX_UPLOAD_BYTES == settings.MEETINGS_MAX_UPLOAD_BYTES
    assert settings.MAX_REQUEST_BYTES >= documents.MAX_UPLOAD_BYTES + MB


def test_the_reverse_proxy_example_allows_what_the_application_allows():
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"client_max_body_size\s+(\d+)m;", readme)
    assert found, "README's nginx example sets client_max_body_size"
    assert int(found.group(1)) * MB == settings.MAX_REQUEST_BYTES


async def test_django_behind_the_middleware_never_sees_a_cut_body():
    from django.core.asgi import get_asgi_application

    chunks = [
        {"type": "http.request", "body": b"x" * (256 * 1024), "more_body": True}
        for _ in range(64)
    ]
    scope_headers = [(b"host", b"127.0.0.1"), (b"transfer-encoding", b"chunked")]
    middleware = BodyLimitMiddleware(get_asgi_application(), limit=MB)
    sent, reads = await _run(middleware, chunks, scope_headers)
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert statuses == [413]
    assert reads <= 6  # about 1 MB read of the 16 MB offered


def test_a_request_limit_below_two_megabytes_stops_start_up():
    result = _child("import council.settings", MAX_REQUEST_BYTES="1000")
    assert result.returncode != 0
    assert "MAX_REQUEST_BYTES=1000 is below the minimum" in result.stderr


def test_a_lower_request_limit_lowers_the_document_limit_with_it():
    code = (
        "import council.settings as s; "
        "print(s.MAX_REQUEST_BYTES, s.MEETINGS_MAX_UPLOAD_BYTES)"
    )
    result = _child(code, MAX_REQUEST_BYTES=str(10 * MB))
    assert result.returncode == 0, result.stderr
    request, document = map(int, result.stdout.split())
    assert (request, document) == (10 * MB, 9 * MB)
