"""The "vote" part of the live-sitting snapshot, and its shape.

Built once per snapshot from the sitting's register (``vote_part``), then
seen by each audience (``vote_view``): the open poll, how many have voted of
how many may, and the result once it is public. A secret tally is never here
before the director-general announces it, and the public gets nothing about
an item in closed session. ``static/js/ballot.js`` reads it.

While a secret ballot is open its count is paced (``vote_pace``): a change
of the count alone is pushed on the next tick of ``SECRET_COUNT_INTERVAL``
seconds, never at the moment of one ballot.
"""

from dataclasses import dataclass
from typing import Literal, TypedDict

from django.conf import settings

from meetings.live import PUBLIC
from meetings.register import Register
from voting.selectors import current_poll, eligible_count, poll_result, voted_count


class CandidateVotes(TypedDict):
    name: str
    votes: int


class ResultData(TypedDict):
    decision: str
    yes: int
    no: int
    abstain: int
    blank: int
    appointed: str  # the candidate appointed, or ""
    candidates: list[CandidateVotes]  # most votes first
    names_against: list[str]  # public votes only
    names_abstaining: list[str]


class Vote(TypedDict):
    poll: int
    item: int
    secret: bool
    state: Literal["open", "closed", "unsealed", "announced"]
    round: int
    voted: int
    eligible: int
    ballots: int | None  # ballots in the box, once closed
    result: ResultData | None  # once public


@dataclass(frozen=True)
class BuiltVote:
    data: Vote
    closed_session: bool


def vote_part(meeting, register: Register) -> BuiltVote | None:
    """The current poll as members see it, read once for every audience."""
    poll = current_poll(meeting)
    if poll is None:
        return None
    data: Vote = {
        "poll": poll.pk,
        "item": poll.item_id,
        "secret": poll.secret,
        "state": poll.state,
        "round": poll.round_number,
        "voted": voted_count(poll),
        "eligible": eligible_count(poll, register),
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
    # The chair may declare closed session on any item: the public then
    # hears nothing of its vote either (as of the item itself).
    closed = poll.item.is_closed_session or meeting.closed_session
    return BuiltVote(data=data, closed_session=closed)


def vote_view(built: BuiltVote | None, audience: str) -> Vote | None:
    """What the audience sees of the vote: nothing of a closed session's."""
    if built is None:
        return None
    if audience == PUBLIC and built.closed_session:
        return None
    return built.data


SECRET_COUNT_INTERVAL = 5.0  # seconds; the default of the setting of that name


def vote_pace(old: Vote | None, new: Vote | None) -> float:
    """Seconds a change of the vote part may wait: a secret count's alone.

    Any other change (a poll opened or closed, the number who may vote) is
    pushed at once.
    """
    if not old or not new or not new["secret"] or new["state"] != "open":
        return 0.0
    if old["poll"] != new["poll"] or old["state"] != "open":
        return 0.0
    if any(old.get(key) != value for key, value in new.items() if key != "voted"):
        return 0.0
    return float(getattr(settings, "SECRET_COUNT_INTERVAL", SECRET_COUNT_INTERVAL))
