"""The convocation job outlives its worker: ``kill -9`` mid-batch, a new
worker finishes it, and each member gets exactly one email."""

import re
import signal

import pytest
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from meetings.models import Convocation
from meetings.services import meetings as svc
from tests.worker_gate import convocations_send_gated, convocations_send_slowly
from tests.worker_process import start_worker, wait_for, worker_log

pytestmark = pytest.mark.django_db(transaction=True)


def _recipients(mail_dir) -> list[str]:
    """Every address a message was written to, once per message."""
    found = []
    for path in sorted(mail_dir.glob("*")):
        found += re.findall(r"^To: (.+)$", path.read_text(), flags=re.MULTILINE)
    return found


def test_a_worker_killed_mid_batch_is_replaced_and_nobody_is_convened_twice(
    meeting, agenda, members, clerk, tmp_path
):
    gate = tmp_path / "gate"
    gate.mkdir()
    svc.meeting_convene(meeting=meeting, by=clerk)
    # The job the convocation queued, stopped after the third email.
    DBTaskResult.objects.all().delete()
    job = convocations_send_gated.enqueue(
        meeting_id=meeting.pk, gate_dir=str(gate), after=3
    )
    first = start_worker(tmp_path)
    try:
        wait_for(gate / "reached", first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    rows = Convocation.objects.filter(meeting=meeting)
    assert rows.filter(status=Convocation.Status.SENT).count() == 3
    assert len(_recipients(tmp_path / "mail")) == 3
    # The dead worker left its job running: no worker would look at it again.
    assert DBTaskResult.objects.get(pk=job.id).status == TaskResultStatus.RUNNING

    (gate / "open").touch()
    second = start_worker(tmp_path, "--batch")
    try:
        assert second.wait(timeout=120) == 0, worker_log(tmp_path)
    finally:
        if second.poll() is None:
            second.kill()
    result = DBTaskResult.objects.get(pk=job.id)
    assert result.status == TaskResultStatus.SUCCESSFUL, worker_log(tmp_path)
    assert len(result.worker_ids) == 2  # run by the killed worker, then again
    recipients = _recipients(tmp_path / "mail")
    assert sorted(recipients) == sorted(member.email for member in members)
    assert rows.filter(status=Convocation.Status.SENT).count() == len(members)
    assert all(row.attempts == 1 for row in rows)


def test_two_workers_sending_the_same_meeting_convene_each_member_once(
    meeting, agenda, members, clerk, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("side-by-side workers need PostgreSQL (SQLite runs one worker)")
    svc.meeting_convene(meeting=meeting, by=clerk)
    DBTaskResult.objects.all().delete()
    copies = [
        convocations_send_slowly.enqueue(meeting_id=meeting.pk, seconds=0.2)
        for _ in range(2)
    ]
    workers = [start_worker(tmp_path, "--batch") for _ in range(2)]
    try:
        for worker in workers:
            assert worker.wait(timeout=120) == 0, worker_log(tmp_path)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    results = DBTaskResult.objects.filter(pk__in=[copy.id for copy in copies])
    assert {r.status for r in results} == {TaskResultStatus.SUCCESSFUL}
    # Both ran at once, each sending part of the batch.
    assert len({r.worker_ids[0] for r in results}) == 2
    sent = [r.return_value["sent"] for r in results]
    assert sum(sent) == len(members) and min(sent) > 0, sent
    assert sorted(_recipients(tmp_path / "mail")) == sorted(m.email for m in members)
