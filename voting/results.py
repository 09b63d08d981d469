"""The result of a poll, one structure for every reader.

``poll_results(polls)`` counts each poll once into a ``VoteResult``: the
counts, the decision, an appointment's candidates and rounds, and for a
public vote the names of those for, against and abstaining. The pages, the
live sitting's "vote" part and the minutes' content are views of it; who may
see a result is the caller's question (``voting.selectors``).

The legal wording of an outcome is rendered by the minutes, above voting.
Pages ask for it with ``outcome_wording(result)``; the app that renders it
installs its renderer with ``register_outcome_wording`` in its
``AppConfig.ready``. Without one, pages show the counts alone.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from voting.choices import DECISION_LABELS, LABELS, VoteChoice
from voting.models import Poll, PublicVote

PENDING = "pending"  # the decision of a secret result not yet announced


@dataclass(frozen=True)
class CandidateVotes:
    name: str
    votes: int
    appointed: bool = False


@dataclass(frozen=True)
class Round:
    """One round of an appointment: votes per candidate's name, blank, invalid."""

    number: int
    counts: dict[str, int]
    blank: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class VoteResult:
    """A counted poll, or (``pending``) a secret one whose result is not public.

    A pending result holds no counts at all. ``rounds`` are an appointment's
    rounds up to this one (empty for a vote on a proposal); ``candidates``
    are this round's, most votes first. Names are filled for public votes
    only; a secret ballot has totals and nothing else.
    """

    item_id: int
    secret: bool
    decision: str  # a voting.majority.Decision, or PENDING
    yes: int = 0
    no: int = 0
    abstain: int = 0
    blank: int = 0
    invalid: int = 0
    required: int = 0  # yes votes (or votes for a candidate) needed
    participants: int = 0
    candidates: list[CandidateVotes] = field(default_factory=list)
    appointed: str = ""
    tie_broken_by_age: bool = False
    rounds: list[Round] = field(default_factory=list)
    names_yes: list[str] = field(default_factory=list)
    names_against: list[str] = field(default_factory=list)
    names_abstaining: list[str] = field(default_factory=list)
    names_by_clerk: list[str] = field(default_factory=list)  # voted aloud
    pending: bool = False

    @classmethod
    def pending_for(cls, item_id: int) -> "VoteResult":
        return cls(item_id=item_id, secret=True, decision=PENDING, pending=True)

    @property
    def labels(self) -> dict[str, str]:
        """Each choice's label by its code, for pages that print counts."""
        return LABELS

    @property
    def decision_label(self) -> str:
        return str(DECISION_LABELS.get(self.decision, ""))


def _roll_call(poll: Poll) -> tuple[dict[str, list[str]], list[str]]:
    """Display names per choice of a roll-call, and those the clerk recorded."""
    votes = getattr(poll, "prefetched_votes", None)
    if votes is None:
        votes = PublicVote.objects.filter(poll=poll).select_related("member")
    names: dict[str, list[str]] = {choice: [] for choice in VoteChoice}
    by_clerk: list[str] = []
    for vote in sorted(votes, key=lambda v: (v.member.last_name, v.member.first_name)):
        names[vote.choice].append(vote.member.display_name)
        if vote.recorded_by_id:
            by_clerk.append(vote.member.display_name)
    return names, by_clerk


def _result(poll: Poll, earlier: list[Round]) -> VoteResult:
    tally = poll.tally
    common = {
        "item_id": poll.item_id,
        "secret": poll.secret,
        "decision": str(poll.decision),
        "blank": tally.get(VoteChoice.BLANK, 0),
        "invalid": tally.get(VoteChoice.INVALID, 0),
        "required": tally.get("required", 0),
        "participants": poll.participants or 0,
        "tie_broken_by_age": poll.tie_broken_by_age,
    }
    if "candidates" in tally:
        names = {str(c.pk): c.name for c in poll.candidates.all()}
        rows = sorted(
            (
                CandidateVotes(names.get(key, "?"), n, str(poll.winner_id) == key)
                for key, n in tally["candidates"].items()
            ),
            key=lambda row: (-row.votes, row.name),
        )
        this_round = Round(
            poll.round_number,
            {row.name: row.votes for row in rows},
            common["blank"],
            common["invalid"],
        )
        return VoteResult(
            **common,
            candidates=rows,
            appointed=poll.winner.name if poll.winner_id else "",
            rounds=[*earlier, this_round],
        )
    counts = {
        "yes": tally.get(VoteChoice.YES, 0),
        "no": tally.get(VoteChoice.NO, 0),
        "abstain": tally.get(VoteChoice.ABSTAIN, 0),
    }
    if poll.secret:
        return VoteResult(**common, **counts)
    names, by_clerk = _roll_call(poll)
    return VoteResult(
        **common,
        **counts,
        names_yes=names[VoteChoice.YES],
        names_against=names[VoteChoice.NO],
        names_abstaining=names[VoteChoice.ABSTAIN],
        names_by_clerk=by_clerk,
    )


def poll_results(polls: Iterable[Poll]) -> dict[int, VoteResult]:
    """The result of each counted poll given, by poll id.

    Polls not counted yet (open, or secret and still sealed) have none. The
    earlier rounds of an appointment given with a poll become its ``rounds``.
    Reads each public poll's votes unless they were prefetched into
    ``prefetched_votes``, and each poll's candidates.
    """
    results: dict[int, VoteResult] = {}
    rounds: dict[int, list[Round]] = {}
    for poll in sorted(polls, key=lambda p: (p.item_id, p.round_number)):
        if poll.tally is None:
            continue
        result = _result(poll, rounds.get(poll.item_id, []))
        rounds[poll.item_id] = result.rounds
        results[poll.pk] = result
    return results


# ---- the legal wording, rendered above voting ---------------------------------------

OutcomeWording = Callable[[VoteResult], list[str]]
_wording: list[OutcomeWording] = []


def register_outcome_wording(renderer: OutcomeWording) -> None:
    """Install the renderer of an outcome's legal wording (one for the project)."""
    _wording[:] = [renderer]


def outcome_wording(result: VoteResult | None) -> list[str]:
    """The outcome in the law's words, in the active language; [] without a renderer."""
    if result is None or not _wording:
        return []
    return _wording[0](result)
