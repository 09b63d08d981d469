"""The fixed cast (chair, councillor, DG, clerk, outsider...) and shared helpers."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.conf import settings
from django.contrib.auth import hashers
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections
from django.test import Client
from django.utils import translation
from playwright.sync_api import sync_playwright

from council.models import Body, PoliticalGroup, User
from tests.factories import (
    PASSWORD,
    Role,
    make_body,
    make_group,
    make_member,
    make_user,
)

# pytest-asyncio keeps an event loop running while sync fixtures create rows for
# async (websocket) tests; the ORM calls there are not made from a coroutine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# ---- the fixed cast ----------------------------------------------------------


@pytest.fixture
def body(db) -> Body:
    return make_body()


@pytest.fixture
def group(body) -> PoliticalGroup:
    return make_group(body, name="Groupe A", short_name="GA")


@pytest.fixture
def chair(body, group) -> User:
    return make_member(body, Role.CHAIR, group=group, first_name="Présidente")


@pytest.fixture
def councillor(body, group) -> User:
    return make_member(body, Role.COUNCILLOR, group=group, first_name="Conseillère")


@pytest.fixture
def other_councillors(body, group) -> list[User]:
    """Seven more members: with chair and councillor, the body's nine seats."""
    return [make_member(body, Role.COUNCILLOR, group=group) for _ in range(7)]


@pytest.fixture
def director_general(body) -> User:
    return make_member(body, Role.DIRECTOR_GENERAL, first_name="Directeur")


@pytest.fixture
def deputy_director_general(body) -> User:
    return make_member(body, Role.DEPUTY_DIRECTOR_GENERAL, first_name="Adjointe")


@pytest.fixture
def clerk(body) -> User:
    return make_member(body, Role.CLERK, first_name="Greffier")


@pytest.fixture
def administrator(db) -> User:
    return make_user(is_administrator=True, first_name="Admin")


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(email="root@example.org", password=PASSWORD)


@pytest.fixture
def outsider(db) -> User:
    """Logged in, but holds no mandate on the body."""
    return make_user(first_name="Extérieur")


@pytest.fixture
def cast(
    chair,
    councillor,
    director_general,
    deputy_director_general,
    clerk,
    administrator,
    outsider,
) -> dict[str, User]:
    return {
        "chair": chair,
        "councillor": councillor,
        "director_general": director_general,
        "deputy_director_general": deputy_director_general,
        "clerk": clerk,
        "administrator": administrator,
        "outsider": outsider,
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def cookie_for(user) -> str:
    """The session cookie of a logged-in user, for websockets and browsers."""
    return client_for(user).cookies["sessionid"].value


# ---- live server and browser -------------------------------------------------


def start_test_server(django_db_blocker, *, serve_static: bool = True):
    """Fork a Daphne serving the whole ASGI app on a free port; return it started."""
    with django_db_blocker.unblock():
        connections.close_all()  # the child must open its own connections

    def setup_child():
        # The forked server inherits the test database settings; it serves
        # whatever the test commits, outside pytest-django's blocker.
        django_db_blocker.unblock()
        # It also inherits what async tests left behind:
        # - asgiref's one thread-sensitive worker, without its thread: every
        #   thread-sensitive call would then wait forever;
        # - the channel layer instance: two forked Redis servers would share
        #   its random client prefix and take each other's messages.
        SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
        channel_layers.backends = {}

    wrapper = ASGIStaticFilesHandler if serve_static else None
    process = DaphneProcess(
        "127.0.0.1",
        partial(make_application, static_wrapper=wrapper),
        setup=setup_child,
    )
    process.start()
    if not process.ready.wait(timeout=30):
        process.terminate()
        raise RuntimeError("The test server did not start.")
    return process


def stop_test_server(process) -> None:
    process.terminate()
    process.join(timeout=10)
    if process.is_alive():
        # Never leave it behind: the run would wait for it at exit for ever.
        process.kill()
        process.join(timeout=5)


@pytest.fixture(scope="session")
def asgi_live_server(django_db_setup, django_db_blocker):
    """Daphne serving the whole ASGI app (HTTP and websockets) in a child process."""
    process = start_test_server(django_db_blocker)
    yield f"http://127.0.0.1:{process.port.value}"
    stop_test_server(process)


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's loop must not precede async tests."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"No Chromium at {CHROMIUM}: install the Debian package chromium.")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def logged_in_page(browser, asgi_live_server):
    """Make a browser page logged in as a user: ``page = logged_in_page(user)``."""
    contexts = []

    def open_page(user):
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=asgi_live_server, locale="en-GB")
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": asgi_live_server,
                },
                {"name": "django_language", "value": "en", "url": asgi_live_server},
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def pytest_configure(config):
    """A fast hasher for the many users tests create; the real one still verifies."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language, whatever the previous one read.

    A request through the test client leaves its language active in the
    thread; a later test comparing with a lazy string would then compare with
    another language.
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _audit_anchor_dir(settings, tmp_path):
    """Each test anchors the audit chain in a directory of its own."""
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"
    return settings.AUDIT_ANCHOR_DIR
