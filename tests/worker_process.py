"""``manage.py run_worker`` as a real process on the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def _database_env() -> dict[str, str]:
    """Point the worker at the database pytest-django made, not the real one."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"])}
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return {"DATABASE_URL": f"postgres://{credentials}@{host}:{port}/{db['NAME']}"}


def worker_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "SQLITE_PATH", "EMAIL_HOST"}
    }
    env.update(_database_env())
    env.update(
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "x"),
        DJANGO_DEBUG="0",
        SITE_URL=settings.SITE_URL,
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        AUDIT_ANCHOR_DIR=str(settings.AUDIT_ANCHOR_DIR),
        LOG_LEVEL="WARNING",
    )
    return env


def start_worker(tmp_path: Path, *args: str) -> subprocess.Popen:
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 (the process holds it)
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.1",
            *args,
        ],
        cwd=ROOT,
        env=worker_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the worker exited ({process.returncode})")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} not reached in {timeout} s")
        time.sleep(0.05)


def worker_log(tmp_path: Path) -> str:
    path = tmp_path / "worker.log"
    return path.read_text(errors="replace") if path.exists() else ""
