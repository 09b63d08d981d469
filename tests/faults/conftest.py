"""The fault harness as fixtures: one cluster for the run, one sitting per test."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults import harness


def pytest_collection_modifyitems(config, items):
    """Every test here is a fault test; without its requirements, it is skipped."""
    reason = harness.missing_requirement()
    for item in items:
        if "tests/faults/" in item.nodeid:
            item.add_marker(pytest.mark.faults)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    cluster = harness.Cluster(tmp_path_factory.mktemp("faults"))
    try:
        cluster.start()
    except BaseException:
        print(cluster.tails())
        cluster.stop()
        raise
    yield cluster
    cluster.stop()


@pytest.fixture
async def sitting(cluster, request):
    # Members post side by side from threads, and the agent is asked meanwhile:
    # more threads than asyncio's default of a few per core.
    executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="member")
    asyncio.get_running_loop().set_default_executor(executor)
    cluster.ensure_running()
    cluster.mark_logs()
    sitting = await harness.Sitting.open(cluster, request.node.name[:200])
    yield sitting
    await sitting.close()
    call = getattr(request.node, "rep_call", None)
    if call is not None and (call.failed or hasattr(call, "wasxfail")):
        print(cluster.tails())  # shown with the failure
        # What failed to heal must not fail the next scenario too.
        cluster.restart_servers()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter):
    if harness.REPORTS:
        terminalreporter.section("fault tests")
        for line in harness.REPORTS:
            terminalreporter.write_line(line)
