"""Background work of the voting app, on the task queue (``manage.py run_worker``)."""

import datetime
import logging

from django.db import OperationalError
from django.utils import timezone
from django_tasks import task

from voting.services.box import tables_rewrite

logger = logging.getLogger(__name__)

RETRY_AFTER = datetime.timedelta(minutes=1)


@task()
def ballot_tables_rewrite(poll_id: int, closing_xid: int | None = None) -> str:
    """After a secret poll closes: rewrite the ballot tables (``box.tables_rewrite``).

    Closing has already written every row of the poll again in random
    orders; this drops the deleted versions, which still carry the casting
    order, from the database files. Safe to run twice. When it cannot finish
    yet (a transaction older than the closing one still runs, or the
    tables' lock is not granted quickly because a long transaction reads
    them), it gives way and runs again ``RETRY_AFTER`` later.
    """
    try:
        done = tables_rewrite(closing_xid=closing_xid)
    except OperationalError:
        logger.warning(
            "ballot tables busy after poll %s closed", poll_id, exc_info=True
        )
        done = False
    if done:
        return "rewritten"
    logger.info("ballot tables of poll %s: rewriting again later", poll_id)
    ballot_tables_rewrite.using(run_after=timezone.now() + RETRY_AFTER).enqueue(
        poll_id, closing_xid
    )
    return "postponed"
