"""The "vote" part of the live-sitting snapshot."""

from meetings.live import PUBLIC
from voting.selectors import current_poll, eligible_count, poll_result, voted_count


def vote_snapshot(meeting, audience: str) -> dict | None:
    """Open poll, how many have voted of how many may, and a result once public.

    A secret tally is never here before the director-general announces it,
    and the public gets nothing about an item in closed session.
    """
    poll = current_poll(meeting)
    if poll is None:
        return None
    if audience == PUBLIC and poll.item.is_closed_session:
        return None
    data = {
        "poll": poll.pk,
        "item": poll.item_id,
        "secret": poll.secret,
        "state": poll.state,
        "round": poll.round_number,
        "voted": voted_count(poll),
        "eligible": eligible_count(poll),
        "ballots": poll.ballots,
        "result": None,
    }
    if poll.result_is_public:
        result = poll_result(poll)
        data["result"] = {
            "decision": result.decision,
            "yes": result.yes,
            "no": result.no,
            "abstain": result.abstain,
            "blank": result.blank,
            "appointed": result.appointed,
            "candidates": [
                {"name": c.name, "votes": c.votes} for c in result.candidates
            ],
            "names_against": result.names_against,
            "names_abstaining": result.names_abstaining,
        }
    return data
