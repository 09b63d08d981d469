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
