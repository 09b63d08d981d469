"""The one helper that pushes state changes to websocket groups.

Services call ``broadcast_on_commit`` inside their transaction; the message is
sent only once the transaction commits, so nothing is pushed that is not yet
stored, and a rolled-back change is never announced.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def broadcast_now(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # A lost push is healed by the next versioned update or a resync;
        # it must never undo or fail the change that was just committed.
        logger.exception("broadcast to %s failed", group)


def broadcast_on_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: broadcast_now(group, message))
