"""Background jobs of the council: anchoring the audit chain's head, and the
helpers every app uses to put a job in the queue.

The head is anchored by the worker, outside the database, after each print
and marking printed (``audit_anchor_soon``) and at least every
``AUDIT_ANCHOR_INTERVAL`` seconds (``audit_anchor_periodic``, which schedules
its next run itself; ``manage.py run_worker`` starts the chain). Each job may
run twice: an anchor already written is not written again.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus, task
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult, get_date_max

from council.audit import audit_anchor

logger = logging.getLogger(__name__)

_AT_WORKER_START: list[str] = []


def register_worker_start(path: str) -> None:
    """Have the worker call this function (a dotted path) each time it starts.

    Apps use it to put back in the queue the work a lost job left undone,
    from their ``ready()``, without council naming them.
    """
    if path not in _AT_WORKER_START:
        _AT_WORKER_START.append(path)


def worker_start() -> None:
    """What ``manage.py run_worker`` does before taking jobs."""
    audit_anchor_schedule()
    for path in _AT_WORKER_START:
        import_string(path)()


def waiting_copies(job: Task, **kwargs):
    """The copies of ``job`` waiting in the queue with these keyword arguments."""
    copies = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=job.module_path
    )
    for name, value in kwargs.items():
        copies = copies.filter(**{f"args_kwargs__kwargs__{name}": value})
    return copies


def enqueue_once(
    job: Task, *, run_after: datetime.datetime | None = None, **kwargs
) -> None:
    """Queue ``job(**kwargs)`` unless a copy already waits; keep the earlier time.

    A copy waiting for later is brought forward instead of doubled, so the
    queue holds one copy whatever the number of requests. ``run_after`` None
    is as soon as possible.
    """
    asap = get_date_max()  # how the queue stores "no delay"
    waiting = dict(waiting_copies(job, **kwargs).values_list("pk", "run_after"))
    if not waiting:
        (job.using(run_after=run_after) if run_after else job).enqueue(**kwargs)
        return
    times = [None if at == asap else at for at in waiting.values()]
    if None in times or (run_after is not None and run_after >= min(times)):
        return
    DBTaskResult.objects.filter(
        pk__in=list(waiting), status=TaskResultStatus.READY
    ).update(run_after=run_after or asap)


def enqueue_on_commit(
    job: Task, *, run_after: datetime.datetime | None = None, **kwargs
) -> None:
    """``enqueue_once`` after the current transaction commits (at once outside one).

    A job queued before its data is committed would find nothing, or the
    state before the change.
    """
    transaction.on_commit(lambda: enqueue_once(job, run_after=run_after, **kwargs))


@task()
def audit_anchor_now() -> int | None:
    """Append the chain's head to the anchor file; the sequence anchored."""
    head = audit_anchor()
    return head.sequence if head else None


@task()
def audit_anchor_periodic() -> int | None:
    """Anchor the head, then schedule the next run (even if this one failed)."""
    try:
        head = audit_anchor()
    finally:
        audit_anchor_schedule()
    return head.sequence if head else None


def audit_anchor_soon() -> None:
    """After the transaction: the worker anchors the head (a print, a marking)."""
    enqueue_on_commit(audit_anchor_now)


def audit_anchor_schedule() -> None:
    """Make sure one periodic anchoring waits in the queue."""
    interval = datetime.timedelta(seconds=settings.AUDIT_ANCHOR_INTERVAL)
    if waiting_copies(audit_anchor_periodic).exists():
        return
    audit_anchor_periodic.using(run_after=timezone.now() + interval).enqueue()
