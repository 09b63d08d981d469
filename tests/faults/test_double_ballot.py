"""The same secret ballot posted twice at once, once through each process."""

import asyncio
import threading
import time

from tests.faults.harness import (
    MEMBERS,
    in_sync,
    presence_errors,
    report,
    socket_errors,
    tracker_of,
)


def _twice_at_once(browser, servers, poll: int, choice: str):
    """One member's ballot sent by two threads released together, one per process."""
    start = threading.Barrier(len(servers))
    answers = [None] * len(servers)

    def post(index: int) -> None:
        start.wait(timeout=30)
        answers[index] = browser.cast_secret(servers[index], poll, choice)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


async def test_the_same_ballot_twice_at_once_through_both_processes(cluster, sitting):
    first, _ = cluster.servers
    agent = cluster.agent
    members = sitting.members
    chair = cluster.browser(members[0])
    moved = await asyncio.to_thread(
        chair.move_to, first, sitting.meeting, sitting.secret_item
    )
    assert not moved.messages("error"), moved.messages("error")
    opened = await asyncio.to_thread(chair.open_vote, first, sitting.meeting)
    assert opened.messages("success"), opened.messages("error") or opened.status
    poll = await sitting.poll(sitting.secret_item)

    choices = ["yes", "no", "abstain"]
    pairs = await asyncio.gather(
        *(
            asyncio.to_thread(
                _twice_at_once,
                cluster.browser(m),
                cluster.servers,
                poll,
                choices[i % 3],
            )
            for i, m in enumerate(members)
        )
    )
    answered_at = time.monotonic()
    stored = await agent.acall("votes", poll=poll)

    statuses = sorted({a.status for pair in pairs for a in pair}, key=str)
    trackers = [[tracker_of(a) for a in pair] for pair in pairs]
    shown = [t for pair in trackers for t in pair if t]
    twice = [m["id"] for m, pair in zip(members, trackers, strict=True) if all(pair)]
    never = [
        m["id"] for m, pair in zip(members, trackers, strict=True) if not any(pair)
    ]
    participants = stored["participations"]

    synced_at, _ = await in_sync(agent, sitting.meeting, sitting.clients, 10)
    register = await sitting.register()
    errors = presence_errors(register, sitting.clients, {m["id"] for m in members})
    refused = socket_errors(sitting.clients)
    line = report(
        "double-ballot",
        sync=max(synced_at - answered_at, 0.0),
        votes_lost=len(never),
        presence_errors=len(errors),
        ballots_stored=stored["ballots"],
        participations=len(participants),
        trackers_shown=len(shown),
        statuses="/".join(map(str, statuses)),
        socket_errors=len(refused),
    )
    assert statuses == [200], f"{line}: answers {statuses}"
    assert not twice, f"{line}: a tracker shown twice to members {twice}"
    assert not never, f"{line}: no tracker for members {never}"
    assert len(set(shown)) == MEMBERS, line
    assert participants == sorted(m["id"] for m in members), f"{line}: {participants}"
    assert stored["ballots"] == MEMBERS, line
    assert not errors, f"{line}:\n" + "\n".join(errors)
    assert not refused, f"{line}: {refused}"
