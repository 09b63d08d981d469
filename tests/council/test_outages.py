"""Clear answers during outages: Redis down, database connections cut."""

import html
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import time

import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import OperationalError, close_old_connections, connection, connections
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import translation
from django.utils.translation import gettext

from council import cache as fallback
from council.views import server_error
from tests.council.test_settings import _child
from tests.factories import PASSWORD, make_user

REDIS_SERVER = shutil.which("redis-server")
needs_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None, reason="needs the redis-server binary"
)


def free_port() -> int:
    """A free local port: from TEST_PORTS (e.g. 16320-16329) if set, else any."""
    low, _, high = os.environ.get("TEST_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"No free port in TEST_PORTS={os.environ['TEST_PORTS']}.")


class OwnRedis:
    """A redis-server of the test's own, which it may kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def keys(self) -> list[bytes]:
        return redis.Redis.from_url(self.url).keys("*")


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis_cache(settings, own_redis, monkeypatch):
    """The default cache as production configures it, on the test's own Redis."""
    monkeypatch.setattr(fallback, "RETRY_SECONDS", 0.0)
    settings.CACHES = {
        "default": {
            **django_settings.CACHES["default"],
            "BACKEND": "council.cache.FallbackRedisCache",
            "LOCATION": own_redis.url,
            "KEY_PREFIX": f"outages-{secrets.token_hex(4)}",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    fallback._outages.clear()
    yield own_redis
    fallback._outages.clear()


def fresh_client(address: str | None = None) -> Client:
    if address is None:
        a, b, c = secrets.token_bytes(3)
        address = f"10.{a}.{b}.{c}"
    client = Client(REMOTE_ADDR=address)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def log_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def login_lock_limit() -> int:
    per_key = django_settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")[1]
    return int(per_key.split("/")[0])


# ---- Redis down: login keeps working, rate limits keep counting ----------------


def test_the_production_cache_is_the_fallback_backend():
    if not django_settings.REDIS_URL:
        pytest.skip("the embedded default has no Redis cache")
    config = django_settings.CACHES["default"]
    assert config["BACKEND"] == "council.cache.FallbackRedisCache"
    assert config["OPTIONS"]["socket_connect_timeout"] <= 0.5
    assert config["OPTIONS"]["socket_timeout"] <= 1


@needs_redis_server
@pytest.mark.django_db
def test_login_works_with_redis_up_killed_and_restarted(redis_cache, caplog):
    caplog.set_level(logging.WARNING, logger="council.cache")
    councillor = make_user(email=f"outage-{secrets.token_hex(4)}@example.org")

    # Redis up: the rate limits are kept there.
    assert log_in(fresh_client(), councillor.email).status_code == 302
    assert redis_cache.keys(), "allauth's rate-limit counters should be in Redis"

    redis_cache.kill()
    started = time.monotonic()
    response = log_in(fresh_client(), councillor.email)
    assert response.status_code == 302, "login answered without Redis"
    first_login = time.monotonic() - started

    # The account lock still works, counted in this process.
    attacker = fresh_client()
    for _ in range(login_lock_limit()):
        assert log_in(attacker, councillor.email, "guess").status_code == 200
    locked = log_in(attacker, councillor.email)
    assert locked.status_code == 200
    assert "Too many failed login attempts" in locked.content.decode()

    outage_logs = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_logs) == 1, "the outage is logged once, not per request"

    # Redis back (empty, as after a restart without persistence).
    redis_cache.start()
    other = make_user(email=f"outage-{secrets.token_hex(4)}@example.org")
    assert log_in(fresh_client(), other.email).status_code == 302
    assert redis_cache.keys(), "counters go to Redis again once it answers"
    assert [r for r in caplog.records if "answers again" in r.getMessage()]
    assert first_login < 5, f"the first login without Redis took {first_login:.1f} s"


@needs_redis_server
@pytest.mark.django_db
def test_values_kept_locally_during_the_outage_are_dropped_when_redis_returns(
    redis_cache,
):
    cache.set("k", "before")
    redis_cache.kill()
    assert cache.get("k") is None  # Redis's value is out of reach
    cache.set("k", "during")
    assert cache.get("k") == "during"
    cache.add("n", 1)
    assert cache.incr("n") == 2
    redis_cache.start()
    assert cache.get("k") is None  # the restarted Redis is empty
    assert cache.get("n") is None
    redis_cache.kill()
    assert cache.get("k") is None, "the local copy of the last outage is gone"


def test_a_redis_that_never_answers_costs_one_timeout_then_nothing(settings):
    # A listening socket that never replies: connect succeeds, reads hang.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", free_port()))
        silent.listen(16)
        port = silent.getsockname()[1]
        settings.CACHES = {
            "default": {
                "BACKEND": "council.cache.FallbackRedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
            }
        }
        fallback._outages.clear()
        try:
            started = time.monotonic()
            assert cache.get("anything", "default") == "default"
            first = time.monotonic() - started
            started = time.monotonic()
            for number in range(100):
                cache.set(f"key-{number}", number)
            hundred = time.monotonic() - started
            assert cache.get("key-7") == 7
        finally:
            fallback._outages.clear()
    assert first < 2, f"the first call waited {first:.2f} s"
    assert hundred < 1, f"100 calls during the outage took {hundred:.2f} s"


def test_sessions_do_not_live_in_the_cache():
    # Sessions in the database: a Redis outage cannot log anyone out.
    assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


# ---- database connections are health-checked ----------------------------------

_READ_DATABASE = """
import json
import council.settings as s
db = s.DATABASES["default"]
pool = db.get("OPTIONS", {}).get("pool") or {}
check = pool.get("check")
print(json.dumps({
    "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "CONN_HEALTH_CHECKS": db["CONN_HEALTH_CHECKS"],
    "POOL_CHECK": check and f"{check.__qualname__}",
}))
"""


def read_database_settings(**env: str) -> dict:
    result = _child(_READ_DATABASE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_kept_connections_are_health_checked():
    values = read_database_settings(
        DATABASE_URL="postgres://council:pw@db.internal:5432/cm",
        DATABASE_CONN_MAX_AGE="60",
    )
    assert values["CONN_MAX_AGE"] == 60
    assert values["CONN_HEALTH_CHECKS"] is True


def test_pooled_connections_are_checked_before_use():
    values = read_database_settings(
        DATABASE_URL="postgres://council:pw@db.internal:5432/cm",
        DATABASE_POOL_MAX="5",
    )
    assert values["POOL_CHECK"] == "ConnectionPool.check_connection"


@pytest.mark.parametrize("health_checks", [True, False], ids=["checked", "unchecked"])
@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_the_server_cut_is_replaced_at_the_next_request(
    health_checks,
):
    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) to cut a connection")
    if connection.pool:
        pytest.skip("pooled connections are checked by the pool")
    if health_checks:
        assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60  # as .env.example sets it
    connection.settings_dict["CONN_HEALTH_CHECKS"] = health_checks
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (doomed,) = cursor.fetchone()
        # Between two requests, the server (an administrator, a failover) cuts it.
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [doomed])
        time.sleep(0.2)

        close_old_connections()  # what Django does when a request starts
        if not health_checks:
            with pytest.raises(OperationalError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (fresh,) = cursor.fetchone()
        assert fresh != doomed
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


# ---- the error page says whether the action may have been recorded -------------

ERROR_URL = "/test-database-gone/"
ERROR_PAGE_TEXTS = [
    "The server could not finish your request",
    "Was my action recorded?",
    "If you were casting a vote, your sitting page shows whether it was "
    "recorded; reload it before voting again.",
    "Council meetings",  # in every catalogue already: proves the language
]


def error_client(language: str, **extra) -> Client:
    client = Client(raise_request_exception=False, **extra)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_site_answers_errors_with_its_own_handler():
    handler = get_resolver("council.urls").resolve_error_handler(500)
    assert handler is server_error


@pytest.mark.urls("tests.council.urls_errors")
@pytest.mark.parametrize("language", ["fr", "en", "nl", "de"])
def test_a_database_error_answers_the_translated_page_without_a_query(
    db, language, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = error_client(language).post(ERROR_URL, {"choice": "yes"})
    assert response.status_code == 500
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    with translation.override(language):
        for text in ERROR_PAGE_TEXTS:
            assert gettext(text) in html.unescape(page)
    assert "<script" not in page


@pytest.mark.urls("tests.council.urls_errors")
def test_the_error_page_renders_for_a_member_while_the_database_is_gone(councillor):
    client = error_client("en")
    client.force_login(councillor)

    def database_gone(execute, sql, params, many, context):
        raise OperationalError("could not connect to server")

    with connection.execute_wrapper(database_gone):
        response = client.post(ERROR_URL, HTTP_REFERER="http://testserver/sitting/7/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Was my action recorded?" in page
    assert 'href="/sitting/7/"' in page  # back to the page the vote was cast on
    assert councillor.email not in page  # nothing read about the person


@pytest.mark.urls("tests.council.urls_errors")
@pytest.mark.parametrize(
    "referer", ["https://elsewhere.example/sitting/7/", "javascript:alert(1)", ""]
)
def test_the_error_page_links_back_only_to_this_site(db, referer):
    response = error_client("en").get(ERROR_URL, HTTP_REFERER=referer)
    assert response.status_code == 500
    assert "Back to the page you came from" not in response.content.decode()
