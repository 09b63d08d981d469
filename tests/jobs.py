"""Running the background queue from a test, as the worker would."""

import io
import signal
from unittest import mock

from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def run_jobs() -> None:
    """Run every job that is due, then return (``manage.py run_worker --batch``).

    The worker closes connections it takes for stale between jobs; inside a
    test's transaction that would close the test's own connection. Its
    signal handlers are put back: left installed they would turn the test
    run's own interruption into a silent exit.
    """
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {number: signal.getsignal(number) for number in signals}
    try:
        with mock.patch(
            "django_tasks_db.management.commands.db_worker.close_old_connections"
        ):
            call_command(
                "run_worker",
                batch=True,
                startup_delay=False,
                reload=False,
                interval=0,
                stdout=io.StringIO(),
            )
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def waiting(task_path: str = "") -> list[DBTaskResult]:
    """The jobs waiting in the queue (of one task, given its dotted path)."""
    jobs = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    if task_path:
        jobs = jobs.filter(task_path=task_path)
    return list(jobs)
