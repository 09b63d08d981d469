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
def ballot_tables_rewrite(poll_id: int) -> str:
    """After a secret poll closes: rewrite the ballot tables (``box.tables_rewrite``).

    Closing has already written every row of the poll again in random
    orders; this drops the deleted versions, which still carry the casting
    order, from the database files. Safe to run twice. If the tables' lock
    is not granted quickly (a long transaction reads them), the job gives
    way to the casts of other polls and runs again a minute later.
    """
    try:
        tables_rewrite()
    except OperationalError:
        logger.warning(
            "ballot tables busy after poll %s closed; rewriting later",
            poll_id,
            exc_info=True,
        )
        ballot_tables_rewrite.using(run_after=timezone.now() + RETRY_AFTER).enqueue(
            poll_id
        )
        return "postponed"
    return "rewritten"
