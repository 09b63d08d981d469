"""Redis killed and started again on its port: pushes resume without a reload."""

import asyncio
import time

from tests.faults.harness import (
    MEMBERS,
    Browser,
    LiveClient,
    assert_recorded,
    in_sync,
    presence_errors,
    report,
    socket_errors,
    vote_accounts,
    vote_all,
    wait_all,
)

RESUME_WITHIN = 2.0  # seconds from Redis answering again to the push on every page


async def test_pushes_resume_after_a_redis_restart(cluster, sitting):
    first, second = cluster.servers
    agent = cluster.agent
    members = sitting.members
    browser = cluster.browser
    opened = await asyncio.to_thread(
        browser(members[0]).open_vote, first, sitting.meeting
    )
    assert opened.messages("success"), opened.messages("error") or opened.status
    poll = await sitting.poll(sitting.public_item)
    own = sitting.server_of
    votes = await vote_all([(browser(m), own(m), poll, "yes") for m in members[:4]])
    assert_recorded(votes, "before any fault")
    await in_sync(agent, sitting.meeting, sitting.clients, 5)

    # Redis dies; members keep voting through both processes, and somebody
    # logs in meanwhile.
    cluster.redis.kill()
    votes += await vote_all([(browser(m), own(m), poll, "no") for m in members[4:8]])
    newcomer = Browser(cluster.council["director_general"])
    login_page = await asyncio.to_thread(newcomer.request, second, "/accounts/login/")
    try:
        await asyncio.to_thread(newcomer.log_in, second)
        login = "302"
    except Exception as exc:
        login = str(exc)[:60]
    await asyncio.sleep(0.2)
    cluster.redis.start_and_wait()  # on the main thread: see Process.start
    up_at = time.monotonic()

    # A change made at once, through one process, reaches the pages of both.
    changed = await vote_all([(browser(members[8]), first, poll, "abstain")])
    after = (await agent.acall("versions", meeting=sitting.meeting))["version"]
    resumed = None
    late = []
    try:
        reached = await wait_all(
            sitting.clients,
            lambda c: c.pushed_since(after) is not None,
            RESUME_WITHIN + 3,
            "the push of a change made after the restart",
        )
        resumed = max(c.pushed_since(after) for c in sitting.clients) - up_at
    except AssertionError as exc:
        late.append(str(exc))
        reached = None

    # Pages opened after the restart get pushes too, from either process.
    newcomers = [
        LiveClient(f"new-public{i}", sitting.meeting)
        for i in range(len(cluster.servers))
    ]
    for client, server in zip(newcomers, cluster.servers, strict=True):
        await client.connect(server)
    changed += await vote_all([(browser(members[9]), second, poll, "yes")])
    later = (await agent.acall("versions", meeting=sitting.meeting))["version"]
    pages = sitting.clients + newcomers
    try:
        await wait_all(
            pages,
            lambda c: c.pushed_since(later) is not None,
            RESUME_WITHIN + 3,
            "the push of a second change",
        )
    except AssertionError as exc:
        late.append(str(exc))
    votes += changed

    sync = None
    try:
        synced_at, _ = await in_sync(agent, sitting.meeting, pages, 10)
        sync = synced_at - up_at
    except AssertionError as exc:
        late.append(str(exc))
    register = await sitting.register()
    errors = presence_errors(register, pages, {m["id"] for m in members})
    stored = dict(map(tuple, (await agent.acall("votes", poll=poll))["public"]))
    recorded, lost, extra = vote_accounts(votes, stored, {v.member for v in votes})
    refused = socket_errors(pages)
    for client in newcomers:
        await client.close()
    line = report(
        "redis",
        sync=sync,
        votes_lost=len(lost),
        presence_errors=len(errors),
        pushes_resumed=resumed,
        votes_during_outage=sum(v.recorded for v in votes[4:8]),
        login_during_outage=login,
        socket_errors=len(refused),
        tracebacks=cluster.log_problems()["tracebacks"],
    )
    assert login_page.status == 200, f"{line}: the login page answered {login_page}"
    assert not lost and not extra, f"{line}: lost {lost}, not posted {extra}"
    assert all(v.recorded for v in votes), f"{line}: a vote was not recorded"
    assert len(stored) == 10, stored
    assert not late, f"{line}:\n" + "\n".join(late)
    assert reached is not None and resumed <= RESUME_WITHIN, line
    assert not errors, f"{line}:\n" + "\n".join(errors)
    assert register["quorum"]["present"] == MEMBERS
    assert not refused, f"{line}: {refused}"
    assert login == "302", f"{line}: logging in while Redis is down"
