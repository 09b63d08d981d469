"""Test-only jobs: the project's real jobs, made to stop mid-way until a file
appears, so that a test can kill the worker running them."""

import time
from pathlib import Path

from django_tasks import TaskContext, task


def _stop_here(gate_dir: str) -> None:
    """Say the job got here, then wait until the test opens the gate."""
    gate = Path(gate_dir)
    (gate / "reached").touch()
    while not (gate / "open").exists():
        time.sleep(0.05)


@task()
def convocations_send_gated(meeting_id: int, gate_dir: str, after: int) -> dict:
    """``convocations_send``, stopping before the convocation ``after`` + 1."""
    from meetings.services import convocations

    real = convocations.convocation_message
    built = 0

    def gated(convocation, items):
        nonlocal built
        built += 1
        if built == after + 1:
            _stop_here(gate_dir)
        return real(convocation, items)

    convocations.convocation_message = gated
    try:
        return convocations.convocations_deliver(meeting_id=meeting_id)
    finally:
        convocations.convocation_message = real


@task(takes_context=True)
def print_job_render_gated(context: TaskContext, job_id: int, gate_dir: str) -> str:
    """``print_job_render``, stopping once the job is rendering."""
    from minutes import services
    from minutes.tasks import print_job_render

    real = services.pdf.decision_extracts

    def gated(extracts, progress):
        progress(1)
        _stop_here(gate_dir)
        return real(extracts, progress=progress)

    services.pdf.decision_extracts = gated
    try:
        return print_job_render.func(context, job_id)
    finally:
        services.pdf.decision_extracts = real


@task()
def convocations_send_slowly(meeting_id: int, seconds: float) -> dict:
    """``convocations_send``, each message taking ``seconds`` to build."""
    from meetings.services import convocations

    real = convocations.convocation_message

    def slow(convocation, items):
        time.sleep(seconds)
        return real(convocation, items)

    convocations.convocation_message = slow
    try:
        return convocations.convocations_deliver(meeting_id=meeting_id)
    finally:
        convocations.convocation_message = real
