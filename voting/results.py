"""Contract between voting and the apps that report on it (minutes).

``item_outcomes(meeting)`` gives, per agenda item that was voted on, the
outcome as the law wants it written: counts and the names of those against and
abstaining for public votes, totals only for secret ballots, and only once a
secret result has been announced by the director-general.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Round:
    number: int
    counts: dict[str, int]  # candidate or choice label -> votes
    blank: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class ItemOutcome:
    item_id: int
    secret: bool
    decision: str  # adopted, rejected, void, appointed
    yes: int = 0
    no: int = 0
    abstain: int = 0
    blank: int = 0
    invalid: int = 0
    participants: int = 0
    names_against: list[str] = field(default_factory=list)
    names_abstaining: list[str] = field(default_factory=list)
    appointed: str = ""  # the candidate appointed, for appointments
    rounds: list[Round] = field(default_factory=list)
    announced: bool = True


def item_outcomes(meeting) -> dict[int, ItemOutcome]:
    """Outcome of every decided item of the meeting, by item id.

    An item whose secret result is not yet announced appears with
    ``announced=False``, decision "pending" and no counts at all. An
    appointment's earlier rounds are in ``rounds``; its decision and counts
    are those of the last round; "runoff" means a further round follows.
    """
    from voting.models import Poll
    from voting.selectors import meeting_polls, result_of

    by_item: dict[int, list] = {}
    for poll in meeting_polls(meeting):
        if poll.state == Poll.State.OPEN:
            continue
        by_item.setdefault(poll.item_id, []).append(poll)
    outcomes: dict[int, ItemOutcome] = {}
    for item_id, polls in by_item.items():
        last = polls[-1]
        if not last.result_is_public:
            outcomes[item_id] = ItemOutcome(
                item_id=item_id, secret=True, decision="pending", announced=False
            )
            continue
        rounds = []
        for poll in polls:
            result = result_of(poll, getattr(poll, "prefetched_votes", None))
            if result.candidates:
                counts = {c.name: c.votes for c in result.candidates}
            else:
                counts = {"yes": result.yes, "no": result.no, "abstain": result.abstain}
            rounds.append(
                Round(poll.round_number, counts, result.blank, result.invalid)
            )
        result = result_of(last, getattr(last, "prefetched_votes", None))
        outcomes[item_id] = ItemOutcome(
            item_id=item_id,
            secret=last.secret,
            decision=str(last.decision),
            yes=result.yes,
            no=result.no,
            abstain=result.abstain,
            blank=result.blank,
            invalid=result.invalid,
            participants=last.participants or 0,
            names_against=result.names_against,
            names_abstaining=result.names_abstaining,
            appointed=result.appointed,
            rounds=rounds,
            announced=True,
        )
    return outcomes
