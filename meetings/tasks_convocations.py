"""The background job that sends a meeting's convocations (see
``meetings.services.convocations``)."""

from django_tasks import task


@task()
def convocations_send(meeting_id: int) -> dict[str, int]:
    """Send the meeting's due convocations; safe to run again after a crash."""
    from meetings.services.convocations import convocations_deliver

    return convocations_deliver(meeting_id=meeting_id)
