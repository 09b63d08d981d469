"""Majority rules of the rules presets, as pure functions of the counts.

Wallonia (CDLD L1122-26 to L1122-28), the default preset:

- a proposal is adopted by the absolute majority of the votes cast: more yes
  than half of yes + no; abstentions, blank and invalid ballots are not votes
  cast; a tie rejects (the chair has no casting vote); when no vote is cast at
  all the vote is void and the item returns to a later sitting;
- urgency (L1122-24) and the decision to sit in closed session (L1122-21) need
  two thirds of the members present voting yes;
- an appointment goes to the candidate with the absolute majority of the valid
  votes; otherwise a run-off between the two leading candidates, where a tie
  goes to the older candidate.

Flanders (DLB art. 33-35) is close enough to share these rules today; the
preset exists so that a difference can be written here and nowhere else.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Preset(StrEnum):
    WALLONIA = "wallonia"
    FLANDERS = "flanders"


class Motion(StrEnum):
    """What is decided, which sets the majority required."""

    ORDINARY = "ordinary"
    URGENCY = "urgency"
    CLOSED_SESSION = "closed_session"


class Decision(StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    VOID = "void"
    APPOINTED = "appointed"
    RUNOFF = "runoff"


@dataclass(frozen=True)
class Count:
    yes: int = 0
    no: int = 0
    abstain: int = 0
    blank: int = 0
    invalid: int = 0

    def __post_init__(self) -> None:
        for name in ("yes", "no", "abstain", "blank", "invalid"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")

    @property
    def cast(self) -> int:
        """Votes cast in law: yes and no only."""
        return self.yes + self.no


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    required: int  # yes votes needed, for the record


def _preset(preset: str) -> Preset:
    try:
        return Preset(preset)
    except ValueError as exc:
        raise ValueError(f"unknown rules preset {preset!r}") from exc


def absolute_majority(votes_cast: int) -> int:
    """Smallest number strictly greater than half of the votes cast."""
    return votes_cast // 2 + 1


def two_thirds(present: int) -> int:
    """Smallest number at least two thirds of the members present."""
    return -(-2 * present // 3)


def decide(
    count: Count,
    *,
    preset: str = Preset.WALLONIA,
    motion: str = Motion.ORDINARY,
    present: int | None = None,
) -> Outcome:
    """Adopted, rejected or void, under the preset's rule for the motion."""
    _preset(preset)
    motion = Motion(motion)
    if count.cast == 0:
        return Outcome(Decision.VOID, 0)
    if motion is Motion.ORDINARY:
        required = absolute_majority(count.cast)
    else:
        if present is None or present < count.cast:
            raise ValueError("a two-thirds motion needs the number of members present")
        required = max(two_thirds(present), absolute_majority(count.cast))
    decision = Decision.ADOPTED if count.yes >= required else Decision.REJECTED
    return Outcome(decision, required)


@dataclass(frozen=True)
class Contender:
    key: str  # a stable identifier (the candidate's id)
    name: str
    birth_date: datetime.date | None
    votes: int = 0


@dataclass(frozen=True)
class AppointmentOutcome:
    decision: Decision
    required: int
    valid: int
    winner: Contender | None = None
    runoff: tuple[Contender, ...] = field(default_factory=tuple)
    tie_broken_by_age: bool = False


def _older_first(contender: Contender) -> tuple:
    # Unknown birth dates sort last: the law can only prefer a known elder.
    known = contender.birth_date is not None
    return (not known, contender.birth_date or datetime.date.max, contender.name)


def _ranking(contenders: Sequence[Contender]) -> list[Contender]:
    return sorted(contenders, key=lambda c: (-c.votes, *_older_first(c)))


def appoint(
    contenders: Sequence[Contender],
    *,
    runoff: bool = False,
    preset: str = Preset.WALLONIA,
) -> AppointmentOutcome:
    """Result of one round of an appointment.

    First round: absolute majority of the valid votes (blank and invalid
    ballots are not valid votes), otherwise a run-off between the two
    leading candidates, a tie for second place going to the older. Run-off:
    most votes wins, a tie goes to the older candidate.
    """
    _preset(preset)
    if len({c.key for c in contenders}) != len(contenders):
        raise ValueError("each candidate appears once")
    if runoff and len(contenders) != 2:
        raise ValueError("a run-off is between two candidates")
    valid = sum(c.votes for c in contenders)
    if not contenders or valid == 0:
        return AppointmentOutcome(Decision.VOID, 0, valid)
    required = absolute_majority(valid)
    ranked = _ranking(contenders)
    first = ranked[0]
    if runoff:
        tie = ranked[0].votes == ranked[1].votes
        return AppointmentOutcome(
            Decision.APPOINTED, required, valid, first, tie_broken_by_age=tie
        )
    if first.votes >= required:
        return AppointmentOutcome(Decision.APPOINTED, required, valid, first)
    pair = (ranked[0], ranked[1])
    # Age decided who goes through when a third candidate had the votes of
    # the second (or of the first).
    tie = len(ranked) > 2 and ranked[2].votes == ranked[1].votes
    return AppointmentOutcome(
        Decision.RUNOFF, required, valid, runoff=pair, tie_broken_by_age=tie
    )
