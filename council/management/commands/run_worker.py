"""The background worker: django-tasks' database worker, after re-queuing
the jobs that a killed worker left running.

A worker that dies mid-job (``kill -9``, a machine restart) leaves its job
RUNNING for ever: the database worker never looks at it again. Every job of
the project is written to be run again safely (it checks what is already
done), so at start-up this command puts back in the queue each running job
whose worker is gone: one of this host whose process no longer exists, or
any whose start is older than ``TASK_RUNNING_TIMEOUT`` seconds. It also
makes sure the periodic anchoring of the audit chain waits in the queue,
and lets each app put back the work a lost job left undone
(``council.tasks.register_worker_start``).
"""

import datetime
import logging
import os
import socket
import uuid

from django.conf import settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Command as DBWorker
from django_tasks_db.models import DBTaskResult

from council.tasks import worker_start

logger = logging.getLogger("council.worker")


def worker_id() -> str:
    """``host:pid:nonce``: tells which process held a job (the nonce, a reused pid)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(worker: str, host: str) -> bool:
    name, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if name != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid) == os.getpid()


def requeue_interrupted(now: datetime.datetime | None = None) -> int:
    """Put back in the queue the jobs whose worker died; how many."""
    now = now or timezone.now()
    timeout = datetime.timedelta(seconds=settings.TASK_RUNNING_TIMEOUT)
    host = socket.gethostname()[:40]
    stale = []
    for pk, workers, started in DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING
    ).values_list("pk", "worker_ids", "started_at"):
        last = workers[-1] if workers else ""
        if _gone(last, host) or started is None or now - started > timeout:
            stale.append(pk)
    if stale:
        DBTaskResult.objects.filter(
            pk__in=stale, status=TaskResultStatus.RUNNING
        ).update(status=TaskResultStatus.READY, started_at=None)
        logger.warning("re-queued %d job(s) a stopped worker left running", len(stale))
    return len(stale)


class Command(DBWorker):
    help = "Run the background worker (re-queues jobs a stopped worker left running)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)

    def handle(self, *args, **options):
        if not options.get("worker_id"):
            options["worker_id"] = worker_id()
        requeue_interrupted()
        worker_start()
        return super().handle(*args, **options)
