"""`make run` serves the demo with the address it announces."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_server_knows_its_own_address_for_verification_links():
    # Regression: SITE_URL reached seed_demo but not daphne, so extracts
    # printed from `make run PORT=8790` pointed to port 8000.
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8790"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    server = [line for line in dry_run if "daphne" in line]
    assert len(server) == 1
    assert "SITE_URL=${SITE_URL:-http://127.0.0.1:8790}" in server[0]
    assert "-p 8790" in server[0]


def _run_recipe(*args: str) -> str:
    """The shell command `make run` would run to serve, continuation lines joined."""
    dry_run = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dry_run.replace("\\\n", " ")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_worker_starts_beside_the_server_and_stops_with_it():
    serve = [line for line in _run_recipe().splitlines() if "daphne" in line]
    assert len(serve) == 1
    line = serve[0]
    worker, server = line.index("manage.py run_worker"), line.index("/daphne ")
    assert worker < server
    # In the background, with the same environment, and stopped on the way out.
    assert "run_worker --no-reload & worker=$!;" in line
    assert line.count("SITE_URL=${SITE_URL:-http://127.0.0.1:8000}") == 2
    assert "trap 'kill $worker" in line and "EXIT INT TERM" in line


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_demo_server_keeps_no_access_log():
    # Daphne's access log (on by default) would record each cast with its
    # time and the member's address.
    (server,) = [line for line in _run_recipe().splitlines() if "/daphne " in line]
    assert "--access-log /dev/null" in server
