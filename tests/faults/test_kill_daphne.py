"""``kill -9`` of one Daphne process while members vote in a roll-call."""

import asyncio
import time

from tests.faults.harness import (
    GRACE_SECONDS,
    assert_recorded,
    in_sync,
    presence_errors,
    report,
    socket_errors,
    vote_accounts,
    vote_all,
    wait_all,
)

# The grace period, then the lease's expiry and the worker's next round.
ABSENCE_TIMEOUT = GRACE_SECONDS + 25


async def test_kill_9_of_a_daphne_during_a_vote(cluster, sitting):
    survivor, victim = cluster.servers
    agent = cluster.agent
    members = sitting.members
    browser = cluster.browser
    opened = await asyncio.to_thread(
        browser(members[0]).open_vote, survivor, sitting.meeting
    )
    assert opened.messages("success"), opened.messages("error") or opened.status
    poll = await sitting.poll(sitting.public_item)
    on_survivor = [m for m in members if sitting.server_of(m) is survivor]
    on_victim = [m for m in members if sitting.server_of(m) is victim]
    victim_pages = [c for c in sitting.clients if c.server is victim]
    survivor_pages = [c for c in sitting.clients if c.server is survivor]

    # Before: three members of each process vote, each through their own.
    first = on_survivor[:3] + on_victim[:3]
    votes = await vote_all(
        [(browser(m), sitting.server_of(m), poll, "yes") for m in first]
    )
    assert_recorded(votes, "before any fault")

    # During: the victim's other members post their votes and it dies under them.
    in_flight = asyncio.gather(
        *(asyncio.to_thread(browser(m).vote, victim, poll, "no") for m in on_victim[3:])
    )
    await asyncio.sleep(0.05)
    killed_at = time.monotonic()
    victim.kill()
    votes += await in_flight
    await wait_all(victim_pages, lambda c: not c.connected, 5, "a closed socket")
    at_kill = (await agent.acall("versions", meeting=sitting.meeting))["version"]

    # After: the survivor's other members vote; its pages keep receiving pushes.
    votes += await vote_all(
        [(browser(m), survivor, poll, "abstain") for m in on_survivor[3:]]
    )
    pushed = await wait_all(
        survivor_pages,
        lambda c: c.pushed_since(at_kill + 1) is not None,
        5,
        "a push after the kill",
    )

    # Half of the victim's members come back on the survivor within the grace
    # period, as their page reconnects, and vote (again) through it; the
    # clerk's and the public page come back too. The others never return.
    back, away = on_victim[0::2], on_victim[1::2]
    await asyncio.sleep(0.5)
    for client in victim_pages:
        if client.person is None or client.person not in {m["id"] for m in away}:
            await client.connect(survivor)
    votes += await vote_all([(browser(m), survivor, poll, "no") for m in back])
    assert_recorded(votes[-len(back) :], "after coming back on the survivor")

    # The members who did not come back are recorded absent after the grace.
    away_ids = {m["id"] for m in away}
    expected_present = {m["id"] for m in members} - away_ids
    deadline = killed_at + ABSENCE_TIMEOUT
    absent_after = None
    while time.monotonic() < deadline:
        register = await sitting.register()
        lost = {
            d["person"]
            for d in register["departures"]
            if d["cause"] == "connection_lost"
        }
        if away_ids <= lost:
            absent_after = time.monotonic() - killed_at
            break
        await asyncio.sleep(0.25)
    # Every page still open shows the register's quorum, pushed.
    pages = sitting.connected()
    sync, late = None, []
    try:
        synced_at, _ = await in_sync(agent, sitting.meeting, pages, 10)
        sync = synced_at - killed_at
    except AssertionError as exc:
        late.append(str(exc))
    register = await sitting.register()
    errors = late + presence_errors(register, pages, expected_present, away_ids)
    if absent_after is not None and absent_after < GRACE_SECONDS - 0.5:
        errors.append(f"recorded absent {absent_after:.1f} s after the kill only")

    stored = dict(map(tuple, (await agent.acall("votes", poll=poll))["public"]))
    attempted = {v.member for v in votes}
    recorded, lost_votes, extra = vote_accounts(votes, stored, attempted)
    unknown = sum(v.unknown for v in votes)
    problems = cluster.log_problems()
    refused = socket_errors(sitting.clients)
    line = report(
        "kill9",
        sync=sync,
        votes_lost=len(lost_votes),
        presence_errors=len(errors),
        absent_after=absent_after,
        push_after_kill=pushed - killed_at,
        votes_without_answer=unknown,
        votes_stored=len(stored),
        votes_recorded=len(recorded),
        socket_errors=len(refused),
        tracebacks=problems["tracebacks"],
    )
    assert not lost_votes, f"{line}: votes told recorded but not stored: {lost_votes}"
    assert not extra, f"{line}: votes stored that nobody posted: {extra}"
    assert set(recorded) <= set(stored) <= attempted, line
    assert not errors, f"{line}:\n" + "\n".join(errors)
    assert register["quorum"]["present"] == len(expected_present), register["quorum"]
    assert not refused, f"{line}: {refused}"
