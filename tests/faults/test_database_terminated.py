"""Every database connection terminated, again and again, while members vote.

During a burst of votes every backend of the database is ended now and
then (``pg_terminate_backend``). Then two more votes go through one process
in quick succession, so that the push of the second waits out the
publisher's interval; as soon as the second is answered, the database
refuses new connections for a moment while its backends keep being ended,
as in a failover. That push meets the outage, and the pages must still
catch up, without any further change, by themselves.
"""

import asyncio
import time

from tests.faults.harness import (
    MEMBERS,
    assert_recorded,
    in_sync,
    presence_errors,
    report,
    socket_errors,
    vote_accounts,
    vote_all,
)

VOTE_EVERY = 0.2  # the burst's votes leave one after the other...
TERMINATE_EVERY = 0.3  # ...while every backend is ended this often;
OUTAGE = 1.5  # then no connection at all for this long (ended every 20 ms).
CATCH_UP_WITHIN = 8.0  # seconds for every page to hold the sitting's version


async def _terminate_during(burst: asyncio.Future, agent) -> int:
    """End every other backend of the database while the burst lasts."""
    ended = 0
    while not burst.done():
        ended += await agent.acall("terminate_backends")
        await asyncio.sleep(TERMINATE_EVERY)
    return ended


async def test_database_connections_terminated_during_a_vote(cluster, sitting):
    first, _ = cluster.servers
    agent = cluster.agent
    members = sitting.members
    browser = cluster.browser
    own = sitting.server_of
    opened = await asyncio.to_thread(
        browser(members[0]).open_vote, first, sitting.meeting
    )
    assert opened.messages("success"), opened.messages("error") or opened.status
    poll = await sitting.poll(sitting.public_item)
    votes = await vote_all([(browser(m), own(m), poll, "yes") for m in members[:4]])
    assert_recorded(votes, "before any fault")
    await in_sync(agent, sitting.meeting, sitting.clients, 5)

    # The burst: six members vote while the backends are ended under them.
    voting = asyncio.ensure_future(
        vote_all([(browser(m), own(m), poll, "no") for m in members[4:10]], VOTE_EVERY)
    )
    ended = await _terminate_during(voting, agent)
    burst = await voting
    # The last two, then the outage under the second one's push.
    outage = []
    burst.append(await asyncio.to_thread(browser(members[10]).vote, first, poll, "no"))
    burst.append(
        await asyncio.to_thread(
            browser(members[11]).vote,
            first,
            poll,
            "no",
            then=lambda: outage.append(cluster.database_outage(OUTAGE)),
        )
    )
    ended += outage[0]
    over_at = time.monotonic()
    votes += burst
    answers = [a for v in burst for a in (v.posted, v.page) if a.status is not None]
    bare = [a for a in answers if a.bare_server_error]
    failed = [a for a in answers if a.status >= 500]
    silent = [v for v in burst if v.posted.status is None]
    state = await agent.acall("versions", meeting=sitting.meeting)

    # No further change: the pages must catch up with what was committed.
    late = []
    catch_up = None
    try:
        synced_at, _ = await in_sync(
            agent, sitting.meeting, sitting.clients, CATCH_UP_WITHIN + 2
        )
        catch_up = max(synced_at - over_at, 0.0)
    except AssertionError as exc:
        late.append(str(exc))

    # Recovery: whoever was not told "recorded" votes again, and it works.
    retry = [
        m
        for m in members[4:]
        if not any(v.recorded for v in burst if v.member == m["id"])
    ]
    retried = await vote_all([(browser(m), own(m), poll, "no") for m in retry])
    votes += retried
    sync = None
    try:
        synced_at, _ = await in_sync(agent, sitting.meeting, sitting.clients, 10)
        sync = max(synced_at - over_at, 0.0)
    except AssertionError as exc:
        late.append(str(exc))

    register = await sitting.register()
    errors = presence_errors(register, sitting.clients, {m["id"] for m in members})
    stored = dict(map(tuple, (await agent.acall("votes", poll=poll))["public"]))
    recorded, lost, extra = vote_accounts(votes, stored, {v.member for v in votes})
    problems = cluster.log_problems()
    refused = socket_errors(sitting.clients)
    line = report(
        "database",
        sync=sync,
        votes_lost=len(lost),
        presence_errors=len(errors),
        caught_up=catch_up,
        backends_ended=ended,
        behind_after_burst=state["version"] - state["published_version"],
        error_answers=len(failed),
        bare_500=len(bare),
        no_answer=len(silent),
        retried=len(retry),
        socket_errors=len(refused),
        unretrieved_task_exceptions=problems["unretrieved task exceptions"],
    )
    assert ended > 0, f"{line}: no connection was terminated"
    assert not lost and not extra, f"{line}: lost {lost}, not posted {extra}"
    assert_recorded(retried, f"after the outage ({line})")
    assert len(stored) == MEMBERS, f"{line}: {stored}"
    assert not silent, f"{line}: requests left without an answer"
    assert not bare, f"{line}: bare 'Server Error (500)' pages: {len(bare)}"
    assert catch_up is not None and catch_up <= CATCH_UP_WITHIN, (
        f"{line}:\n" + "\n".join(late)
    )
    assert not late, f"{line}:\n" + "\n".join(late)
    assert not errors, f"{line}:\n" + "\n".join(errors)
    assert problems["unretrieved task exceptions"] == 0, line
    assert not refused, f"{line}: {refused}"
