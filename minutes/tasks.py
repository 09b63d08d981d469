"""Background jobs of the minutes: rendering batch prints (see
``minutes.services.print_job_run``)."""

from django_tasks import TaskContext, task

# A job that took its worker down this many times is not tried again.
MAX_ATTEMPTS = 3


@task(takes_context=True)
def print_job_render(context: TaskContext, job_id: int) -> str:
    """Render a print job; a run cut short by a restart renders it again."""
    from minutes.services import print_job_interrupted, print_job_run

    if context.attempt > MAX_ATTEMPTS:
        return print_job_interrupted(job_id).state
    return print_job_run(job_id).state
