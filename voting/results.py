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
    """Outcome of every decided item of the meeting, by item id."""
    return {}
